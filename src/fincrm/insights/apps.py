from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "fincrm.insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        from fincrm.core import events

        from .tasks import predictions_after_nightly

        events.subscribe(events.NIGHTLY_EVALUATED, predictions_after_nightly)
