from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    FORUM = "forum", _("Investor forum")
    SEMINAR = "seminar", _("Seminar")
    TRAINING = "training", _("Financial-management training")
    GATHERING = "gathering", _("Client gathering")


class Response(models.TextChoices):
    PENDING = "pending", _("No answer yet")
    ACCEPTED = "accepted", _("Attending")
    WAITLISTED = "waitlisted", _("On the waiting list")
    DECLINED = "declined", _("Declined")


class ResponseSource(models.TextChoices):
    PORTAL = "portal", _("Client portal")
    LINK = "link", _("Invitation link")
    STAFF = "staff", _("Recorded by staff")
