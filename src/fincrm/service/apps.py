from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _daily_escalated_tickets(as_of: date) -> int:
    from .services import tickets_escalate

    return tickets_escalate()


class ServiceConfig(AppConfig):
    name = "fincrm.service"
    verbose_name = _("Complaints and requests")

    def ready(self) -> None:
        from fincrm.core import daily

        daily.register("escalated_tickets", _daily_escalated_tickets, order=40)
