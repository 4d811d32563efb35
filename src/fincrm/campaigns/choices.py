from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    LAUNCHED = "launched", _("Launched")


class Group(models.TextChoices):
    A = "a", _("Variant A")
    B = "b", _("Variant B")
    CONTROL = "control", _("Control group")
