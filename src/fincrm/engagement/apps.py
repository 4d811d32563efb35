from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _daily_care_tasks(as_of: date) -> int:
    from .care import care_tasks_plan

    return care_tasks_plan(as_of=as_of)


class EngagementConfig(AppConfig):
    name = "fincrm.engagement"
    verbose_name = _("Engagement")

    def ready(self) -> None:
        from fincrm.core import daily

        daily.register("care_tasks", _daily_care_tasks, order=10)

        from fincrm.customers.signals import customer_reassigned

        from .services import tasks_follow_owner

        customer_reassigned.connect(
            tasks_follow_owner, dispatch_uid="engagement.tasks_follow_owner"
        )
