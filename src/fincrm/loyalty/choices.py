from django.db import models
from django.utils.translation import gettext_lazy as _


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    REDEEM = "redeem", _("Redeemed")
    EXPIRE = "expire", _("Expired")
    ADJUST = "adjust", _("Adjustment")


class EarnReason(models.TextChoices):
    ON_TIME_REPAYMENT = "on_time_repayment", _("On-time repayment")
    RENEWAL = "renewal", _("Renewal")
    REFERRAL = "referral", _("Referral")
    SURVEY_ANSWERED = "survey_answered", _("Survey answered")
    EVENT_ATTENDANCE = "event_attendance", _("Event attendance")
