from django.db import models
from django.utils.translation import gettext_lazy as _


class InteractionChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")
    SMS = "sms", _("SMS")
    MEETING = "meeting", _("Meeting")
    PORTAL = "portal", _("Portal message")


class Direction(models.TextChoices):
    OUTBOUND = "out", _("Outbound")
    INBOUND = "in", _("Inbound")


class Outcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    INTERESTED = "interested", _("Interested")
    NOT_INTERESTED = "not_interested", _("Not interested")
    ISSUE_RAISED = "issue_raised", _("Issue raised")
    INFO_SENT = "info_sent", _("Information sent")


class TaskKind(models.TextChoices):
    FOLLOW_UP = "follow_up", _("Follow-up contact")
    VISIT = "visit", _("Follow-up visit")
    CARE = "care", _("Client care")
    REVIEW = "review", _("Periodic review")
    REPORT = "report", _("Value-added report")
    OTHER = "other", _("Other")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Priority(models.TextChoices):
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


class NotificationKind(models.TextChoices):
    TIER_CHANGED = "tier_changed", _("Tier changed")
    ALERT = "alert", _("Risk alert")
    TASK = "task", _("Task")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    LOW_SATISFACTION = "low_satisfaction", _("Low satisfaction")
