"""Applications, their stage history, documents and approval votes."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fincrm.core.permissions import CustomerOwnedQuerySet, RestrictedQuerySet

from ..choices import (
    CLOSED_STAGES,
    PIPELINE,
    AutoDecision,
    Channel,
    DocumentKind,
    DocumentStatus,
    Frequency,
    GuaranteeType,
    RepaymentMethod,
    Route,
    Stage,
    Vote,
)
from .base import MONEY, RATE
from .product import Product


class Application(models.Model):
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="applications"
    )
    amount = models.DecimalField(_("amount requested (CNY)"), **MONEY)
    tenor_months = models.PositiveSmallIntegerField(_("tenor (months)"))
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.LEAD)
    stage_changed_at = models.DateTimeField(_("stage since"), default=timezone.now)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("opened by"),
    )  # fmt: skip
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.STAFF
    )
    route = models.CharField(
        _("route"), max_length=10, choices=Route.choices, default=Route.STANDARD
    )
    # The terms: proposed at entry (pre-filled from the product and the grade's controls),
    # fixed at the contract, checked at approval.
    repayment_method = models.CharField(
        _("repayment method"), max_length=20, choices=RepaymentMethod.choices,
        default=RepaymentMethod.EQUAL_INSTALMENT,
    )  # fmt: skip
    frequency = models.CharField(
        _("repayment frequency"), max_length=10, choices=Frequency.choices,
        default=Frequency.MONTHLY,
    )  # fmt: skip
    rate = models.DecimalField(_("annual rate (%)"), null=True, blank=True, **RATE)
    guarantee_type = models.CharField(
        _("guarantee"), max_length=12, choices=GuaranteeType.choices, default=GuaranteeType.CREDIT
    )
    guarantor = models.CharField(_("guarantor"), max_length=100, blank=True)
    collateral_value = models.DecimalField(_("collateral value (CNY)"), default=Decimal(0), **MONEY)
    margin_percent = models.DecimalField(_("cash margin (%)"), default=Decimal(0), **RATE)
    #: Who moved it to credit review (the maker: may not approve it) and when it was submitted
    #: (the green channel's decision clock starts there).
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("submitted for review by"),
    )  # fmt: skip
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    #: A control breach approved anyway: the approver's reason (audited, on the 360° page).
    override_reason = models.CharField(_("reason for the exception"), max_length=300, blank=True)
    #: What the automatic-decision rule did at credit review, and why: the conditions it
    #: failed, as codes with their figures (``approval.describe_auto_reasons`` words them).
    auto_decision = models.CharField(
        _("automatic decision"), max_length=10, choices=AutoDecision.choices, blank=True
    )
    auto_decision_reasons = models.JSONField(_("automatic decision: why"), default=list,
                                             blank=True)  # fmt: skip
    contract_number = models.CharField(_("contract number"), max_length=32, blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    first_due_date = models.DateField(_("first due date"), null=True, blank=True)
    upfront_fee = models.DecimalField(_("arrangement fee (CNY)"), default=Decimal(0), **MONEY)
    renewal_of = models.ForeignKey(
        "Facility", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewals",
        verbose_name=_("renews"),
    )  # fmt: skip

    history = HistoricalRecords()
    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["stage", "-stage_changed_at"]),
            # The workbench's "stalled applications": open ones, longest unmoved first. A
            # partial index: the oldest rows of the whole table are closed ones.
            models.Index(
                fields=["stage_changed_at"],
                name="application_open_by_age",
                condition=~Q(stage__in=sorted(CLOSED_STAGES)),
            ),
        ]
        constraints = [
            models.CheckConstraint(name="application_amount_positive", condition=Q(amount__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.product} · {self.amount:,.0f}"

    def get_absolute_url(self) -> str:
        return reverse("financing:application", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.stage not in CLOSED_STAGES

    @property
    def number(self) -> str:
        """The application number staff and clients quote (SQ = 申请)."""
        return f"SQ{self.pk:08d}"

    @property
    def progress_percent(self) -> int:
        """Share of the pipeline done, for progress bars (closed-unsuccessful counts as 100)."""
        if self.stage in PIPELINE:
            return round(100 * (PIPELINE.index(self.stage) + 1) / len(PIPELINE))
        return 100


class ApplicationStageChange(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(_("from"), max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=16, choices=Stage.choices)
    changed_at = models.DateTimeField(_("when"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["application", "changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.from_stage or '-'} -> {self.to_stage}"


class DocumentOwnedQuerySet(RestrictedQuerySet):
    owner_field = "application__customer__owner"
    team_field = "application__customer__team"


class ApplicationDocument(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("document"), max_length=24, choices=DocumentKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.MISSING
    )
    file = models.FileField(_("file"), upload_to="applications/%Y/%m/", blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("uploaded by"),
    )  # fmt: skip
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("reviewed by"),
    )  # fmt: skip
    decided_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    rejection_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)

    history = HistoricalRecords()
    objects = DocumentOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("application document")
        verbose_name_plural = _("application documents")
        ordering = ["application", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["application", "kind"], name="one_document_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


class ApprovalVote(models.Model):
    """One approver's decision on an application at credit review, with the rule of the
    authority table it used, the controls it breached and the reason for an exception."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="votes")
    #: None: cast by the automatic-decision rule (``role`` "rule", its policy version).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("approver"), null=True, blank=True,
    )  # fmt: skip
    role = models.CharField(_("role"), max_length=16)
    vote = models.CharField(_("decision"), max_length=8, choices=Vote.choices)
    authority = models.CharField(_("authority used"), max_length=200, blank=True)
    breaches = models.JSONField(_("controls breached"), default=list, blank=True)
    override_reason = models.CharField(_("reason for the exception"), max_length=300, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    policy_version = models.PositiveIntegerField(_("policy version"), null=True, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    objects = DocumentOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("approval vote")
        verbose_name_plural = _("approval votes")
        ordering = ["application", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "user"], name="one_vote_per_approver"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.user_id} {self.vote}"
