from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _open_alerts_blocker(application, policy) -> list[dict]:
    """The automatic-decision rule refers a client with open early-warning alerts
    (``financing.hooks``: lending asks without importing risk)."""
    from .choices import CLOSED_ALERT_STATUSES
    from .models import Alert

    alerts = (
        Alert.objects.filter(customer_id=application.customer_id)
        .exclude(status__in=CLOSED_ALERT_STATUSES)
        .count()
    )
    return [{"code": "alerts", "count": alerts}] if alerts else []


def _facility_class_inputs(*, facilities):
    from .selectors import facility_class_inputs

    return facility_class_inputs(facilities=facilities)


class RiskConfig(AppConfig):
    name = "fincrm.risk"
    verbose_name = _("Credit risk")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fincrm.financing import hooks

        hooks.register_auto_decision_check(_open_alerts_blocker)
        hooks.provide_facility_class_inputs(_facility_class_inputs)
