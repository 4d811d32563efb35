from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "fincrm.evaluation"
    verbose_name = _("Evaluation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fincrm.core import events

        from .tasks import customer_reevaluate

        events.subscribe(events.CUSTOMER_CHANGED, customer_reevaluate)
