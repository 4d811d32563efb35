from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    """Knowledge to share (issue 24, point 8): market briefings, industry reports and success
    cases written by staff, published to the clients they concern in the portal, with each
    client's reads kept (they count as engagement in the loyalty score)."""

    name = "fincrm.knowledge"
    verbose_name = _("Knowledge")
