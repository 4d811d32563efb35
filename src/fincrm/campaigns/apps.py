from datetime import date

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _daily_scheduled_campaigns(as_of: date) -> int:
    # Scheduled campaigns whose worker task was lost, by the real clock (not a replayed day).
    from .services import campaigns_launch_due

    return campaigns_launch_due()


class CampaignsConfig(AppConfig):
    name = "fincrm.campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from fincrm.core import daily

        daily.register("scheduled_campaigns", _daily_scheduled_campaigns, order=120)
