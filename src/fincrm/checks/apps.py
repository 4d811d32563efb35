from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _daily_external_checks(as_of: date) -> int:
    from .services import checks_due

    return sum(checks_due(as_of=as_of).values())


class ChecksConfig(AppConfig):
    name = "fincrm.checks"
    verbose_name = _("External checks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fincrm.core import daily

        daily.register("external_checks", _daily_external_checks, order=110)
