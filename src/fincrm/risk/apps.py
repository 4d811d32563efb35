from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    name = "fincrm.risk"
    verbose_name = _("Credit risk")
    default_auto_field = "django.db.models.BigAutoField"
