"""External checks (外部核查): what a reputation and legal data source said about a client, when
and why it was asked, and each finding it reported (court enforcement lists, litigation,
administrative penalties, changes in registration or shareholders)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fincrm.core.permissions import CustomerOwnedQuerySet

from .choices import CheckReason, CheckStatus, FindingCategory


class ExternalCheck(models.Model):
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="external_checks",
    )
    provider = models.CharField(_("source"), max_length=40)
    reason = models.CharField(_("reason"), max_length=16, choices=CheckReason.choices)
    status = models.CharField(_("status"), max_length=8, choices=CheckStatus.choices)
    error = models.CharField(_("error"), max_length=300, blank=True)
    findings_count = models.PositiveIntegerField(_("findings"), default=0)
    new_count = models.PositiveIntegerField(_("new findings"), default=0)
    checked_at = models.DateTimeField(_("checked"), default=timezone.now, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("external check")
        verbose_name_plural = _("external checks")
        ordering = ["-checked_at", "-pk"]
        indexes = [models.Index(fields=["customer", "-checked_at"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.provider} {self.checked_at:%Y-%m-%d}"


class Finding(models.Model):
    """One fact a source reported; the same fact reported again is the same row (its key)."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="external_findings",
    )
    category = models.CharField(_("category"), max_length=16, choices=FindingCategory.choices)
    key = models.CharField(_("case or record number"), max_length=120)
    title = models.CharField(_("title"), max_length=300)
    amount = models.DecimalField(
        _("amount (CNY)"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    occurred_on = models.DateField(_("date"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=40)
    first_seen = models.ForeignKey(
        ExternalCheck,
        verbose_name=_("first reported by"),
        on_delete=models.PROTECT,
        related_name="new_findings",
    )
    first_seen_at = models.DateTimeField(_("first reported"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last reported"), default=timezone.now)
    resolved_at = models.DateTimeField(_("no longer reported"), null=True, blank=True)

    objects = CustomerOwnedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("external finding")
        verbose_name_plural = _("external findings")
        ordering = ["-first_seen_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "category", "key"], name="one_finding_per_fact"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.key}"
