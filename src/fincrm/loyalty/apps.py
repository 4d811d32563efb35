from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _daily_expired_points_entries(as_of: date) -> int:
    from .services import points_expire

    return points_expire(as_of=as_of)


class LoyaltyConfig(AppConfig):
    name = "fincrm.loyalty"
    verbose_name = _("Loyalty")

    def ready(self) -> None:
        from fincrm.core import daily

        daily.register("expired_points_entries", _daily_expired_points_entries, order=50)
