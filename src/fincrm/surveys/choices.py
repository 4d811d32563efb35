from django.db import models
from django.utils.translation import gettext_lazy as _


class QuestionKind(models.TextChoices):
    RATING = "rating", _("Rating 1–5")
    NPS = "nps", _("Recommendation 0–10 (NPS)")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TEXT = "text", _("Free text")


SCORED_KINDS = (QuestionKind.RATING, QuestionKind.NPS)


class Trigger(models.TextChoices):
    MANUAL = "manual", _("Sent by hand")
    DISBURSEMENT = "disbursement", _("After a disbursement")
    COMPLAINT_CLOSED = "complaint_closed", _("After a complaint is closed")
    ANNUAL = "annual", _("Annual")


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PORTAL = "portal", _("Client portal")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")
