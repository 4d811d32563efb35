from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "fincrm.portal"
    verbose_name = _("Client portal")
    default_auto_field = "django.db.models.BigAutoField"
