from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportChannel(models.TextChoices):
    """How a report reached the client: always the portal, and by e-mail when one went."""

    PORTAL = "portal", _("Client portal")
    EMAIL = "email", _("Portal and e-mail")
