from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _daily_client_reports(as_of: date) -> int:
    from .services import client_reports_monthly

    return client_reports_monthly(as_of=as_of)


class ReportsConfig(AppConfig):
    name = "fincrm.reports"
    verbose_name = _("Value-added reports")

    def ready(self) -> None:
        from fincrm.core import daily

        daily.register("client_reports", _daily_client_reports, order=100)
