from django.db import models
from django.utils.translation import gettext_lazy as _


class TrainingStatus(models.TextChoices):
    """Where a person stands on one course their role requires."""

    VALID = "valid", _("Valid")
    EXPIRING = "expiring", _("Expiring soon")
    EXPIRED = "expired", _("Expired")
    MISSING = "missing", _("Not completed")
