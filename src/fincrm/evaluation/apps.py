from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _daily_programme_tasks(as_of: date) -> int:
    # Strategies per segment and stage (issue 24, point 1): one task per client,
    # programme and period, from the last evaluation's segments and stages.
    from .programmes import programme_tasks_plan

    return sum(programme_tasks_plan(as_of=as_of).values())


class EvaluationConfig(AppConfig):
    name = "fincrm.evaluation"
    verbose_name = _("Evaluation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fincrm.core import daily, events

        from .tasks import customer_reevaluate

        events.subscribe(events.CUSTOMER_CHANGED, customer_reevaluate)
        daily.register("programme_tasks", _daily_programme_tasks, order=150)
