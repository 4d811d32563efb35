"""The loyalty points ledger (积分): append-only; a balance is the sum of its entries."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.core.permissions import CustomerOwnedQuerySet

from .choices import EntryKind

MSG_APPEND_ONLY = _("Ledger entries are never changed: add a correcting entry instead.")


class PointsEntry(models.Model):
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="points_entries",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=EntryKind.choices)
    #: The earn reason or the reward code.
    reason = models.CharField(_("reason"), max_length=40)
    points = models.IntegerField(_("points"))
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    #: Earned points expire on this day (earn entries only).
    expires_on = models.DateField(_("expires"), null=True, blank=True)
    #: What produced it (``installment:12``, ``survey:7``, ``expiry:33``): an entry happens once.
    key = models.CharField(_("source"), max_length=60)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "occurred_at"])]
        constraints = [
            models.UniqueConstraint(fields=["customer", "key"], name="points_entry_once"),
            models.CheckConstraint(
                condition=(Q(kind="earn", points__gt=0) & Q(expires_on__isnull=False))
                | Q(kind__in=["redeem", "expire"], points__lt=0)
                | (Q(kind="adjust") & ~Q(points=0)),
                name="points_sign_by_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.points:+d} ({self.reason})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(MSG_APPEND_ONLY, code="append_only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(MSG_APPEND_ONLY, code="append_only")
