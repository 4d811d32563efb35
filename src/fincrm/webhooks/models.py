"""Webhook subscribers and the log of every delivery (a row per event and subscriber,
written in the transaction of the event itself: a subscriber that is down loses nothing)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    APPLICATION_STAGE = "application.stage_changed", _("Application stage changed")
    APPLICATION_CREATED = "application.created", _("Application created")
    APPLICATION_DECIDED = "application.decided", _("Application decided")
    FACILITY_BOOKED = "facility.booked", _("Facility booked")
    MODIFICATION_REQUESTED = (
        "facility.modification_requested",
        _("Extension or restructuring requested"),
    )
    MODIFICATION_DECIDED = "facility.modification_decided", _("Extension or restructuring decided")
    TRANCHE_DISBURSED = "tranche.disbursed", _("Tranche disbursed")
    PAYMENT_RECEIVED = "payment.received", _("Payment received")
    COLLECTION_ACTION = "collection.action", _("Collection action recorded")
    PAYMENT_MISSED = "payment.missed", _("Payment missed")
    ALERT_RAISED = "alert.raised", _("Alert raised")
    TIER_CHANGED = "tier.changed", _("Tier changed")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Subscriber(models.Model):
    name = models.CharField(_("name"), max_length=80)
    url = models.URLField(_("URL"), max_length=300)
    #: Signs each body (HMAC-SHA256); the subscriber keeps a copy to verify it.
    secret = models.CharField(_("signing secret"), max_length=64, default=new_secret)
    events = models.JSONField(_("events"), default=list, help_text=_("Event names; empty = all"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("webhook subscriber")
        verbose_name_plural = _("webhook subscribers")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class Delivery(models.Model):
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscriber_id} ({self.status})"
