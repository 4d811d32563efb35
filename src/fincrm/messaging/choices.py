from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageChannel(models.TextChoices):
    """The channels a gateway delivers on (the same codes as ``InteractionChannel``)."""

    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("E-mail")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    BLOCKED = "blocked", _("Not sent (rules)")


class MessageKind(models.TextChoices):
    CARE = "care", _("Care")
    SURVEY = "survey", _("Survey invitation")
    DUNNING = "dunning", _("Repayment reminder")
    ALERT = "alert", _("Alert")
    MARKETING = "marketing", _("Marketing")
    SECURITY = "security", _("Security")
    REPORT = "report", _("Value-added report")
    OTHER = "other", _("Other")


class BlockReason(models.TextChoices):
    """Why the rules kept a message from going (``fincrm.messaging.protection``)."""

    NO_ADDRESS = "no_address", _("No address for this channel")
    OPTED_OUT = "opted_out", _("The client opted out of this channel")
    FREQUENCY_CAP = "frequency_cap", _("Frequency cap reached")
    IN_COLLECTIONS = "in_collections", _("No marketing: the client is in collections")
    OPEN_COMPLAINT = "open_complaint", _("No marketing: the client has an open complaint")


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Granted")
    OPTED_OUT = "opted_out", _("Opted out")


class ConsentSource(models.TextChoices):
    SMS_REPLY = "sms_reply", _("SMS reply")
    UNSUBSCRIBE_LINK = "link", _("Unsubscribe link")
    STAFF = "staff", _("Recorded by staff")
    PORTAL = "portal", _("Client portal")
