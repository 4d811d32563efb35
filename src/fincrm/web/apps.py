from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The top layer's pages that span the apps: the workbench (home page by role), the search
    box, the notification bell, the audit page and the navigation. It may import every app;
    no app imports it (``.importlinter``)."""

    name = "fincrm.web"
    verbose_name = _("Workbench")
