"""Facilities and their schedule: instalments, payments, tranches, fees and revisions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fincrm.analytics.delinquency import classify, days_past_due
from fincrm.core.permissions import CustomerOwnedQuerySet

from ..choices import (
    DayCount,
    FacilityStatus,
    FeeKind,
    Frequency,
    GuaranteeType,
    LoanClass,
    PaymentKind,
    RepaymentMethod,
    TrancheStatus,
)
from .application import Application, DocumentOwnedQuerySet
from .base import MONEY, RATE, FacilityOwnedQuerySet
from .product import Product


class Facility(models.Model):
    """An approved and contracted line of financing."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="facilities",
    )
    application = models.OneToOneField(
        Application,
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="facility",
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT)
    contract_number = models.CharField(_("contract number"), max_length=32, unique=True)
    approved_limit = models.DecimalField(_("approved limit (CNY)"), **MONEY)
    drawn_amount = models.DecimalField(_("drawn (CNY)"), default=Decimal(0), **MONEY)
    rate = models.DecimalField(_("annual rate (%)"), **RATE)
    tenor_months = models.PositiveSmallIntegerField(_("tenor (months)"))
    start_date = models.DateField(_("start"))
    maturity_date = models.DateField(_("maturity"), db_index=True)
    guarantee_type = models.CharField(
        _("guarantee"), max_length=12, choices=GuaranteeType.choices, default=GuaranteeType.CREDIT
    )
    collateral_value = models.DecimalField(_("collateral value (CNY)"), default=Decimal(0), **MONEY)
    status = models.CharField(
        _("status"), max_length=12, choices=FacilityStatus.choices, default=FacilityStatus.ACTIVE
    )
    #: Kept current by ``facility_refresh_delinquency``; the source of truth is the schedule.
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)
    days_past_due = models.PositiveIntegerField(_("days past due"), default=0, db_index=True)
    loan_class = models.CharField(
        _("loan classification"),
        max_length=16,
        choices=LoanClass.choices,
        default=LoanClass.NORMAL,
        db_index=True,
    )
    #: What the policy's rules alone say (arrears and risk signals); ``loan_class`` is the
    #: stricter of it and a risk officer's override.
    loan_class_auto = models.CharField(
        _("classification by the rules"),
        max_length=16,
        choices=LoanClass.choices,
        default=LoanClass.NORMAL,
    )
    loan_class_override = models.CharField(
        _("classification set by risk"), max_length=16, choices=LoanClass.choices, blank=True
    )
    loan_class_reason = models.CharField(_("reason for the classification"), max_length=300,
                                         blank=True)  # fmt: skip
    #: The grade controls in force (a risk officer approved them: ``ControlProposal``):
    #: grade, limit multiple of revenue, maximum tenor, pricing spread, guarantee, margin
    #: ratio, review frequency, the proposal and when it was approved.
    risk_controls = models.JSONField(_("risk controls"), default=dict, blank=True)
    loan_class_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("classified by"),
    )  # fmt: skip
    repayment_method = models.CharField(
        _("repayment method"), max_length=20, choices=RepaymentMethod.choices,
        default=RepaymentMethod.EQUAL_INSTALMENT,
    )  # fmt: skip
    frequency = models.CharField(
        _("repayment frequency"), max_length=10, choices=Frequency.choices,
        default=Frequency.MONTHLY,
    )  # fmt: skip
    day_count = models.CharField(
        _("day count"), max_length=8, choices=DayCount.choices, default=DayCount.THIRTY_360
    )
    penalty_rate = models.DecimalField(_("penalty rate (% a year)"), default=Decimal(0), **RATE)
    service_fee_percent = models.DecimalField(
        _("service fee (% a year)"), default=Decimal(0), **RATE
    )
    #: An overpayment the client chose to keep as a credit, used by the next instalments.
    credit_balance = models.DecimalField(_("credit held (CNY)"), default=Decimal(0), **MONEY)
    #: Penalty interest is accrued up to and including this day (the nightly run moves it).
    penalty_accrued_to = models.DateField(_("penalty accrued to"), null=True, blank=True)
    written_off_amount = models.DecimalField(_("written off (CNY)"), default=Decimal(0), **MONEY)
    #: Frozen by a review: no new drawings or renewals; repayments continue.
    frozen = models.BooleanField(_("frozen"), default=False)
    #: Restructured (重组): under the regulator's observation period until this day, its
    #: five-tier class no better than the policy's floor for restructured assets.
    restructured_until = models.DateField(_("restructured, observed until"), null=True,
                                          blank=True)  # fmt: skip

    history = HistoricalRecords()
    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                name="facility_drawn_within_limit",
                condition=Q(drawn_amount__lte=models.F("approved_limit")),
            ),
            models.CheckConstraint(
                name="facility_maturity_after_start",
                condition=Q(maturity_date__gt=models.F("start_date")),
            ),
        ]

    def __str__(self) -> str:
        return self.contract_number

    @property
    def utilisation(self) -> float:
        return float(self.drawn_amount / self.approved_limit) if self.approved_limit else 0.0

    def compute_days_past_due(self, as_of: date | None = None) -> int:
        """Days past due from the repayment schedule (uses prefetched installments if any)."""
        as_of = as_of or timezone.localdate()
        rows = list(self.installments.all())
        return days_past_due(
            [r.due_date for r in rows],
            [r.amount_due for r in rows],
            [r.amount_paid for r in rows],
            as_of,
        )

    def compute_loan_class(self, as_of: date | None = None) -> str:
        return classify(self.compute_days_past_due(as_of))


class Installment(models.Model):
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="installments")
    number = models.PositiveSmallIntegerField(_("number"))
    due_date = models.DateField(_("due"))
    principal_due = models.DecimalField(_("principal due"), **MONEY)
    interest_due = models.DecimalField(_("interest due"), **MONEY)
    amount_paid = models.DecimalField(_("paid"), default=Decimal(0), **MONEY)
    # What ``amount_paid`` (principal and interest) and the penalty and fee columns were
    # paid with, component by component, in the product's allocation order.
    principal_paid = models.DecimalField(_("principal paid"), default=Decimal(0), **MONEY)
    interest_paid = models.DecimalField(_("interest paid"), default=Decimal(0), **MONEY)
    fee_due = models.DecimalField(_("fee due"), default=Decimal(0), **MONEY)
    fee_paid = models.DecimalField(_("fee paid"), default=Decimal(0), **MONEY)
    penalty_due = models.DecimalField(_("penalty interest due"), default=Decimal(0), **MONEY)
    penalty_paid = models.DecimalField(_("penalty interest paid"), default=Decimal(0), **MONEY)
    paid_off_on = models.DateField(_("paid off on"), null=True, blank=True)
    #: Loan servicing (or an account manager) reported the instalment as not paid on time.
    missed_reported_at = models.DateTimeField(_("reported missed"), null=True, blank=True)
    missed_reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("reported by"),
    )  # fmt: skip

    objects = FacilityOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["facility", "number"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "number"], name="one_installment_number"),
        ]
        indexes = [models.Index(fields=["due_date", "paid_off_on"])]

    def __str__(self) -> str:
        return f"{self.facility_id} #{self.number} {self.due_date}"

    @property
    def amount_due(self) -> Decimal:
        return self.principal_due + self.interest_due

    @property
    def outstanding(self) -> Decimal:
        return max(self.amount_due - self.amount_paid, Decimal(0))

    @property
    def principal_outstanding(self) -> Decimal:
        return self.principal_due - self.principal_paid

    @property
    def total_outstanding(self) -> Decimal:
        """Everything still owed on this instalment: penalty, fee, interest and principal."""
        return (
            self.outstanding
            + (self.fee_due - self.fee_paid)
            + (self.penalty_due - self.penalty_paid)
        )


class Payment(models.Model):
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="payments")
    paid_on = models.DateField(_("paid on"), db_index=True)
    amount = models.DecimalField(_("amount (CNY)"), **MONEY)
    reference = models.CharField(_("reference"), max_length=40, blank=True)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    kind = models.CharField(
        _("kind"), max_length=10, choices=PaymentKind.choices, default=PaymentKind.PAYMENT
    )
    #: A reversal is a counter-entry pointing at the payment it undoes; nothing is deleted.
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal",
        verbose_name=_("reverses"),
    )  # fmt: skip
    #: Where the money went: [{"installment": id, "penalty": "…", "fee": "…", "interest": "…",
    #: "principal": "…"}, …] plus "credit" (held) and "prepaid" (early principal).
    allocation = models.JSONField(_("allocation"), default=dict, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("recorded by"),
    )  # fmt: skip

    history = HistoricalRecords()
    objects = FacilityOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_on", "-id"]
        constraints = [models.CheckConstraint(name="payment_positive", condition=Q(amount__gt=0))]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.paid_on} {self.amount}"


class Tranche(models.Model):
    """One drawdown of an approved application disbursed in tranches (construction, project
    and supply-chain loans): planned at the contract stage, drawn into the application's one
    facility (``financing.tranches``), or cancelled."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="tranches",
        verbose_name=_("application"),
    )  # fmt: skip
    number = models.PositiveSmallIntegerField(_("number"))
    amount = models.DecimalField(_("amount (CNY)"), **MONEY)
    planned_on = models.DateField(_("planned for"))
    status = models.CharField(
        _("status"), max_length=10, choices=TrancheStatus.choices, default=TrancheStatus.PLANNED
    )
    disbursed_on = models.DateField(_("disbursed on"), null=True, blank=True)
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="tranches",
        verbose_name=_("facility"),
    )  # fmt: skip
    disbursed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("disbursed by"),
    )  # fmt: skip

    history = HistoricalRecords()
    objects = DocumentOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("tranche")
        verbose_name_plural = _("tranches")
        ordering = ["application", "number"]
        constraints = [
            models.UniqueConstraint(fields=["application", "number"], name="one_tranche_number"),
            models.CheckConstraint(name="tranche_amount_positive", condition=Q(amount__gt=0)),
            # Drawn means drawn on a day into a facility; planned or cancelled means neither.
            models.CheckConstraint(
                name="tranche_drawn_into_facility",
                condition=Q(
                    status=TrancheStatus.DISBURSED,
                    disbursed_on__isnull=False,
                    facility__isnull=False,
                )
                | (~Q(status=TrancheStatus.DISBURSED) & Q(disbursed_on__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} #{self.number} {self.amount}"


class Fee(models.Model):
    """Fee income: arrangement fees at disbursement, service fees and penalty interest as
    they are paid. The value tiering counts it."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="fees")
    kind = models.CharField(_("kind"), max_length=10, choices=FeeKind.choices)
    amount = models.DecimalField(_("amount (CNY)"), **MONEY)
    charged_on = models.DateField(_("date"), db_index=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="fees"
    )

    objects = FacilityOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("fee")
        verbose_name_plural = _("fees")
        ordering = ["-charged_on", "-id"]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.kind} {self.amount}"


class ScheduleRevision(models.Model):
    """The schedule as it stood before a prepayment, extension or restructuring replaced its
    open instalments: nothing of a schedule is lost."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="revisions")
    reason = models.CharField(_("reason"), max_length=200)
    rows = models.JSONField(_("instalments before"))
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("by"),
    )  # fmt: skip

    objects = FacilityOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("schedule revision")
        verbose_name_plural = _("schedule revisions")
        ordering = ["facility", "-created_at"]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.created_at:%Y-%m-%d} {self.reason}"
