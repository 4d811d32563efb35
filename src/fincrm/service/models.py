"""Complaints and requests (投诉与诉求) with their service-level clocks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fincrm.accounts.choices import Role
from fincrm.core.permissions import NOTHING, CustomerOwnedQuerySet, scope
from fincrm.engagement.choices import InteractionChannel

from .choices import (
    OPEN_STATUSES,
    RootCause,
    Severity,
    SuggestionSource,
    TicketCategory,
    TicketKind,
    TicketSource,
    TicketStatus,
)


class TicketQuerySet(CustomerOwnedQuerySet):
    """Service agents work every ticket; account managers and leads their clients' ones."""

    def restrict(self, user, action="view"):
        active = user is not None and user.is_authenticated and user.is_active
        if active and user.role == Role.SERVICE_AGENT:
            return self
        q = scope(user, action, owner_field=self.owner_field, team_field=self.team_field)
        if q is NOTHING:
            return self.none()
        return self.filter(q) if q else self

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Ticket(models.Model):
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="tickets",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=TicketKind.choices, default=TicketKind.COMPLAINT
    )
    channel = models.CharField(_("channel"), max_length=10, choices=InteractionChannel.choices)
    source = models.CharField(
        _("source"), max_length=8, choices=TicketSource.choices, default=TicketSource.STAFF
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    category = models.CharField(_("category"), max_length=20, choices=TicketCategory.choices)
    #: What the categoriser proposed, and from what ("model" or "rules"): kept to measure it.
    suggested_category = models.CharField(_("suggested category"), max_length=20, blank=True)
    suggestion_source = models.CharField(_("suggested by"), max_length=8, blank=True)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    severity = models.CharField(
        _("severity"), max_length=8, choices=Severity.choices, default=Severity.MEDIUM
    )
    status = models.CharField(
        _("status"), max_length=12, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now, db_index=True)
    respond_by = models.DateTimeField(_("respond by"))
    resolve_by = models.DateTimeField(_("resolve by"))
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution = models.TextField(_("resolution"), blank=True)
    root_cause = models.CharField(
        _("root cause"), max_length=16, choices=RootCause.choices, blank=True
    )
    #: The client's rating of how it was handled (1–5), asked after closure.
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = TicketQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("complaint or request")
        verbose_name_plural = _("complaints and requests")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["status", "resolve_by"]),
            models.Index(fields=["customer", "-opened_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True)
                | models.Q(satisfaction__gte=1, satisfaction__lte=5),
                name="ticket_satisfaction_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("service:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def suggestion_label(self) -> str:
        """The proposed category and what proposed it, in the reader's language."""
        category, source = self.suggested_category, self.suggestion_source
        parts = [
            TicketCategory(category).label if category in TicketCategory.values else category,
            SuggestionSource(source).label if source in SuggestionSource.values else source,
        ]
        return ", ".join(str(p) for p in parts if p)
