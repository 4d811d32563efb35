from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChecksConfig(AppConfig):
    name = "fincrm.checks"
    verbose_name = _("External checks")
    default_auto_field = "django.db.models.BigAutoField"
