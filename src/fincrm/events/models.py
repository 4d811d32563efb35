"""An event (investor forum, seminar, training day, client gathering) and its invitees: who
was invited, who answered, who came."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.core.permissions import CustomerOwnedQuerySet, RestrictedQuerySet
from fincrm.messaging.choices import MessageChannel

from .choices import EventKind, Response, ResponseSource

MSG_PLACE_OR_LINK = _("Give a place or an online link.")
MSG_ENDS_BEFORE = _("The event cannot end before it starts.")


class EventQuerySet(RestrictedQuerySet):
    """An event belongs to its organiser's book: the organiser, their team lead, admins;
    whoever sees the whole portfolio views it."""

    owner_field = "organiser"
    team_field = "organiser__team"


class Event(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=EventKind.choices)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    online_url = models.URLField(_("online link"), blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    #: Who is invited: the keys of ``Campaign.audience`` (tiers, lifecycles, segments,
    #: products, customers), picked the same way (``campaigns.services.audience_ids``).
    audience = models.JSONField(_("audience"), default=dict, blank=True)
    channel = models.CharField(
        _("invitation channel"),
        max_length=10,
        choices=MessageChannel.choices,
        default=MessageChannel.SMS,
    )
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organiser"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    invited_at = models.DateTimeField(_("invitations sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="event_capacity_positive")
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if not self.place.strip() and not self.online_url:
            raise ValidationError(MSG_PLACE_OR_LINK, code="place_or_link")
        if self.ends_at and self.starts_at and self.ends_at < self.starts_at:
            raise ValidationError({"ends_at": MSG_ENDS_BEFORE}, code="ends_before")


class Invitee(models.Model):
    """One invited client: the invitation message, the answer (a seat, the waiting list or
    no), and the check-in."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="invitees")
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="event_invitations",
    )
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    response = models.CharField(
        _("answer"), max_length=10, choices=Response.choices, default=Response.PENDING
    )
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    response_source = models.CharField(
        _("answered through"), max_length=8, choices=ResponseSource.choices, blank=True
    )
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked in by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    invited_at = models.DateTimeField(_("invited"), default=timezone.now)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitee")
        verbose_name_plural = _("invitees")
        ordering = ["event", "customer__name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "customer"], name="one_invitee_each")
        ]
        indexes = [models.Index(fields=["customer", "event"], name="invitee_customer")]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.customer_id} {self.response}"
