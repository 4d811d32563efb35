"""Extensions and restructurings of live facilities and their votes."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..choices import ModificationKind, ModificationStatus, RepaymentMethod, Route, Vote
from .base import MONEY, RATE, FacilityOwnedQuerySet
from .facility import Facility, ScheduleRevision
from .product import Product


class FacilityModification(models.Model):
    """A request to change a live facility's terms, decided through the approval authority:
    an extension (展期: the maturity pushed out, the instalments not yet touched re-spread over
    the longer term) or a restructuring (重组: a longer term and/or a new rate and/or a new
    repayment method, optionally with the overdue principal and interest capitalised into the
    new schedule). The old schedule is kept as the ``ScheduleRevision`` it links to.

    It is decided like an application (``approval.authority_for``): the amount at stake is the
    outstanding principal when it was requested, the maker whoever requested it.
    """

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="modifications",
        verbose_name=_("facility"),
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=14, choices=ModificationKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=ModificationStatus.choices,
        default=ModificationStatus.PENDING,
    )  # fmt: skip
    reason = models.CharField(_("reason"), max_length=300)
    #: Months the maturity moves out (an extension: at least one period; a restructuring: 0
    #: keeps the maturity).
    extension_months = models.PositiveSmallIntegerField(_("extension (months)"), default=0)
    new_rate = models.DecimalField(_("new annual rate (%)"), null=True, blank=True, **RATE)
    new_method = models.CharField(
        _("new repayment method"), max_length=20, choices=RepaymentMethod.choices, blank=True
    )
    #: Restructuring only: the unpaid principal and interest of the instalments already due
    #: join the new schedule's principal (penalty interest and fees stay owed where they are).
    capitalise_overdue = models.BooleanField(_("capitalise what is overdue"), default=False)
    # The terms when it was requested, for the approvers and the history.
    outstanding_principal = models.DecimalField(_("outstanding principal (CNY)"), **MONEY)
    old_maturity = models.DateField(_("maturity before"))
    old_rate = models.DecimalField(_("rate before (%)"), **RATE)
    old_method = models.CharField(
        _("repayment method before"), max_length=20, choices=RepaymentMethod.choices
    )
    old_tenor_months = models.PositiveSmallIntegerField(_("tenor before (months)"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("requested by"),
    )  # fmt: skip
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("decided by"),
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    effective_on = models.DateField(_("effective on"), null=True, blank=True)
    #: A control breach approved anyway: the approver's reason (audited).
    override_reason = models.CharField(_("reason for the exception"), max_length=300, blank=True)
    revision = models.OneToOneField(
        ScheduleRevision, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="modification", verbose_name=_("schedule before"),
    )  # fmt: skip

    history = HistoricalRecords()
    objects = FacilityOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("facility modification")
        verbose_name_plural = _("facility modifications")
        ordering = ["facility", "-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility"],
                condition=Q(status=ModificationStatus.PENDING),
                name="one_pending_modification",
            ),
            models.CheckConstraint(
                name="extension_lengthens",
                condition=~Q(kind=ModificationKind.EXTENSION) | Q(extension_months__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facility} · {self.get_kind_display()} · {self.get_status_display()}"

    # What the authority table reads of what it decides (as of an application).
    @property
    def amount(self) -> Decimal:
        return self.outstanding_principal

    @property
    def customer(self):
        return self.facility.customer

    @property
    def product(self) -> Product:
        return self.facility.product

    @property
    def submitted_by_id(self) -> int | None:
        return self.requested_by_id

    @property
    def route(self) -> str:
        return Route.STANDARD

    @property
    def new_tenor_months(self) -> int:
        return self.old_tenor_months + self.extension_months


class ModificationVote(models.Model):
    """One approver's decision on a facility modification (as ``ApprovalVote``)."""

    modification = models.ForeignKey(
        FacilityModification, on_delete=models.CASCADE, related_name="votes"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("approver"),
    )  # fmt: skip
    role = models.CharField(_("role"), max_length=16)
    vote = models.CharField(_("decision"), max_length=8, choices=Vote.choices)
    authority = models.CharField(_("authority used"), max_length=200, blank=True)
    breaches = models.JSONField(_("controls breached"), default=list, blank=True)
    override_reason = models.CharField(_("reason for the exception"), max_length=300, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    policy_version = models.PositiveIntegerField(_("policy version"), null=True, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("modification vote")
        verbose_name_plural = _("modification votes")
        ordering = ["modification", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["modification", "user"], name="one_modification_vote_per_approver"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.modification_id}: {self.user_id} {self.vote}"
