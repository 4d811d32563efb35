"""After disbursement: the evidence of the use of funds, guarantees and insurance policies
held against facilities, and claims on them. Every row is credit-relevant: history kept."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fincrm.core.permissions import CustomerOwnedQuerySet
from fincrm.financing.models import FacilityOwnedQuerySet

from .choices import FLAG_LABELS, ClaimStatus, EvidenceKind, EvidenceStatus, GuaranteeKind

MONEY = {"max_digits": 18, "decimal_places": 2}

MSG_GUARANTOR = _("Name the guarantor: a client or an outside party.")
MSG_COVERAGE = _("Give the coverage as a share, an amount, or both.")
MSG_EXPIRY = _("The expiry date must be after the start date.")
MSG_CLAIM_COVER = _("A claim is made under one guarantee or one insurance policy.")


class EvidenceItem(models.Model):
    """One item of a facility's checklist of evidence of the use of funds (资金用途证明):
    created at disbursement from the policy, provided by staff (file, payee, amount),
    accepted or rejected by a reviewer."""

    facility = models.ForeignKey(
        "financing.Facility", on_delete=models.CASCADE, related_name="evidence_items",
        verbose_name=_("facility"),
    )  # fmt: skip
    kind = models.CharField(_("evidence"), max_length=20, choices=EvidenceKind.choices)
    due_on = models.DateField(_("due"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=EvidenceStatus.choices,
        default=EvidenceStatus.MISSING,
    )  # fmt: skip
    file = models.FileField(_("file"), upload_to="evidence/%Y/%m/", blank=True)
    payee = models.CharField(_("payee"), max_length=100, blank=True)
    amount = models.DecimalField(_("amount (CNY)"), null=True, blank=True, **MONEY)
    #: What does not fit (``analytics.postloan.payee_flags`` codes), found at upload.
    flags = models.JSONField(_("does not fit"), default=list, blank=True)
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
    objects = FacilityOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("evidence of the use of funds")
        verbose_name_plural = _("evidence of the use of funds")
        ordering = ["facility", "due_on", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "kind"], name="one_evidence_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id} · {self.get_kind_display()} ({self.get_status_display()})"

    @property
    def flag_labels(self) -> list[str]:
        return [str(FLAG_LABELS.get(code, code)) for code in self.flags]

    def is_overdue(self, today) -> bool:
        return self.status in (EvidenceStatus.MISSING, EvidenceStatus.REJECTED) and (
            self.due_on < today
        )


class Cover(models.Model):
    """What guarantees and insurance policies share: the borrower, the facilities covered,
    the term, who recorded it."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="+",
        verbose_name=_("borrower"),
    )  # fmt: skip
    start_on = models.DateField(_("start"))
    expires_on = models.DateField(_("expiry"), db_index=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("recorded by"),
    )  # fmt: skip

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["expires_on", "id"]

    def clean(self) -> None:
        if self.start_on and self.expires_on and self.expires_on <= self.start_on:
            raise ValidationError({"expires_on": MSG_EXPIRY})

    def is_active(self, day) -> bool:
        return self.start_on <= day <= self.expires_on


class GuaranteeContract(Cover):
    """A guarantee contract (保证/抵押/质押) securing one or more facilities of a borrower."""

    number = models.CharField(_("contract number"), max_length=40)
    kind = models.CharField(_("type"), max_length=10, choices=GuaranteeKind.choices)
    guarantor_client = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT,
        related_name="guarantees_given", verbose_name=_("guarantor (a client)"),
    )  # fmt: skip
    guarantor_name = models.CharField(_("guarantor"), max_length=100, blank=True)
    amount_covered = models.DecimalField(_("amount covered (CNY)"), **MONEY)
    facilities = models.ManyToManyField(
        "financing.Facility", related_name="guarantees", verbose_name=_("facilities")
    )

    history = HistoricalRecords(m2m_fields=[facilities])

    class Meta(Cover.Meta):
        verbose_name = _("guarantee contract")
        verbose_name_plural = _("guarantee contracts")
        constraints = [
            models.CheckConstraint(
                name="guarantee_amount_positive", condition=Q(amount_covered__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.guarantor}"

    @property
    def guarantor(self) -> str:
        return self.guarantor_client.name if self.guarantor_client_id else self.guarantor_name

    def clean(self) -> None:
        super().clean()
        if not self.guarantor_client_id and not self.guarantor_name.strip():
            raise ValidationError({"guarantor_name": MSG_GUARANTOR})


class InsurancePolicy(Cover):
    """A credit insurance policy (信用保险): a share of the loss, an amount, or both (the
    smaller pays)."""

    insurer = models.CharField(_("insurer"), max_length=100)
    policy_number = models.CharField(_("policy number"), max_length=40)
    coverage_share = models.DecimalField(
        _("share covered (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    coverage_amount = models.DecimalField(_("amount covered (CNY)"), null=True, blank=True, **MONEY)
    premium = models.DecimalField(_("premium (CNY)"), default=Decimal(0), **MONEY)
    facilities = models.ManyToManyField(
        "financing.Facility", related_name="insurance_policies", verbose_name=_("facilities")
    )

    history = HistoricalRecords(m2m_fields=[facilities])

    class Meta(Cover.Meta):
        verbose_name = _("insurance policy")
        verbose_name_plural = _("insurance policies")
        constraints = [
            models.CheckConstraint(
                name="policy_share_range",
                condition=Q(coverage_share__isnull=True)
                | Q(coverage_share__gt=0, coverage_share__lte=100),
            ),
            models.CheckConstraint(
                name="policy_amount_positive",
                condition=Q(coverage_amount__isnull=True) | Q(coverage_amount__gt=0),
            ),
            models.CheckConstraint(name="policy_premium_positive", condition=Q(premium__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.insurer} {self.policy_number}"

    def clean(self) -> None:
        super().clean()
        if self.coverage_share is None and self.coverage_amount is None:
            raise ValidationError({"coverage_share": MSG_COVERAGE})


class Claim(models.Model):
    """A claim on a guarantee or an insurance policy for a defaulted facility, and what it
    recovered (booked as a payment on the facility)."""

    facility = models.ForeignKey(
        "financing.Facility", on_delete=models.PROTECT, related_name="claims",
        verbose_name=_("facility"),
    )  # fmt: skip
    guarantee = models.ForeignKey(
        GuaranteeContract, null=True, blank=True, on_delete=models.PROTECT,
        related_name="claims", verbose_name=_("guarantee contract"),
    )  # fmt: skip
    policy = models.ForeignKey(
        InsurancePolicy, null=True, blank=True, on_delete=models.PROTECT,
        related_name="claims", verbose_name=_("insurance policy"),
    )  # fmt: skip
    amount_claimed = models.DecimalField(_("amount claimed (CNY)"), **MONEY)
    status = models.CharField(
        _("status"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.FILED
    )
    amount_recovered = models.DecimalField(_("amount recovered (CNY)"), default=Decimal(0),
                                           **MONEY)  # fmt: skip
    filed_on = models.DateField(_("filed on"))
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    #: The recovery booked on the facility (``servicing.payment_record``).
    payment = models.ForeignKey(
        "financing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("payment"),
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("filed by"),
    )  # fmt: skip

    history = HistoricalRecords()
    objects = FacilityOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-filed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                name="claim_one_cover",
                condition=Q(guarantee__isnull=True, policy__isnull=False)
                | Q(guarantee__isnull=False, policy__isnull=True),
            ),
            models.CheckConstraint(name="claim_amount_positive", condition=Q(amount_claimed__gt=0)),
            models.CheckConstraint(
                name="claim_recovered_within_claimed",
                condition=Q(amount_recovered__gte=0)
                & Q(amount_recovered__lte=models.F("amount_claimed")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facility} · {self.amount_claimed}"

    @property
    def cover(self):
        return self.guarantee or self.policy
