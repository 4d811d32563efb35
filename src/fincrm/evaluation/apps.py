from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _daily_programme_tasks(as_of: date) -> int:
    # Strategies per segment and stage (issue 24, point 1): one task per client,
    # programme and period, from the last evaluation's segments and stages.
    from .programmes import programme_tasks_plan

    return sum(programme_tasks_plan(as_of=as_of).values())


def _daily_programme_withdrawals(as_of: date) -> int:
    # A client that left a programme (its stage or segments moved on) keeps no open task of it.
    from .programmes import programme_tasks_withdraw

    return programme_tasks_withdraw()


class EvaluationConfig(AppConfig):
    name = "fincrm.evaluation"
    verbose_name = _("Evaluation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fincrm.core import daily, events
        from fincrm.financing.signals import evaluation_wanted
        from fincrm.risk import hooks as risk_hooks
        from fincrm.risk.signals import review_completed

        from . import receivers
        from .tasks import customer_reevaluate

        events.subscribe(events.CUSTOMER_CHANGED, customer_reevaluate)
        evaluation_wanted.connect(
            receivers.evaluate_after_commit, dispatch_uid="evaluation.evaluate_after_commit"
        )
        review_completed.connect(receivers.evaluate_reviewed, dispatch_uid="evaluation.reviewed")
        risk_hooks.provide(
            latest_run=receivers.latest_run_id,
            client_grades=receivers.client_grades,
            scorecard_train=receivers.scorecard_train,
        )
        daily.register("programme_tasks", _daily_programme_tasks, order=150)
        daily.register("programme_tasks_withdrawn", _daily_programme_withdrawals, order=160)
