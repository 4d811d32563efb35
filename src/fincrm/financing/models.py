from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fincrm.analytics.delinquency import classify, days_past_due
from fincrm.core.permissions import CustomerOwnedQuerySet, RestrictedQuerySet

from .choices import (
    CLOSED_STAGES,
    LETTER_FORMATS,
    PIPELINE,
    AutoDecision,
    Channel,
    CollectionOutcome,
    CollectionStatus,
    CollectionStep,
    DayCount,
    DocumentKind,
    DocumentStatus,
    FacilityStatus,
    FeeKind,
    Frequency,
    GuaranteeType,
    LoanClass,
    ModificationKind,
    ModificationStatus,
    PaymentKind,
    ProductType,
    PromiseStatus,
    RepaymentMethod,
    Route,
    Stage,
    TrancheStatus,
    Vote,
)

MONEY = {"max_digits": 18, "decimal_places": 2}
RATE = {"max_digits": 6, "decimal_places": 3}  # annual rate in percent, e.g. 6.350


class FacilityOwnedQuerySet(RestrictedQuerySet):
    owner_field = "facility__customer__owner"
    team_field = "facility__customer__team"


def _all_repayment_methods() -> list[str]:
    return list(RepaymentMethod.values)


class Product(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    product_type = models.CharField(_("type"), max_length=20, choices=ProductType.choices)
    min_rate = models.DecimalField(_("minimum rate (%)"), **RATE)
    max_rate = models.DecimalField(_("maximum rate (%)"), **RATE)
    min_tenor_months = models.PositiveSmallIntegerField(_("minimum tenor (months)"))
    max_tenor_months = models.PositiveSmallIntegerField(_("maximum tenor (months)"))
    min_amount = models.DecimalField(_("minimum amount (CNY)"), **MONEY)
    max_amount = models.DecimalField(_("maximum amount (CNY)"), **MONEY)
    required_documents = models.JSONField(_("required documents"), default=list, blank=True)
    repayment_methods = models.JSONField(
        _("repayment methods"), default=_all_repayment_methods, blank=True
    )
    day_count = models.CharField(
        _("day count"), max_length=8, choices=DayCount.choices, default=DayCount.THIRTY_360
    )
    #: Penalty interest (罚息) on overdue principal: the contract rate raised by this share.
    penalty_markup_percent = models.DecimalField(
        _("penalty rate markup (%)"), default=Decimal(50), **RATE
    )
    upfront_fee_percent = models.DecimalField(
        # xgettext:no-python-format
        _("arrangement fee (% of the amount)"), default=Decimal(0), **RATE
    )
    #: Yearly service fee on the outstanding principal, charged with each instalment.
    service_fee_percent = models.DecimalField(
        _("service fee (% a year)"), default=Decimal(0), **RATE
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="product_rate_range", condition=Q(min_rate__lte=models.F("max_rate"))
            ),
            models.CheckConstraint(
                name="product_tenor_range",
                condition=Q(min_tenor_months__lte=models.F("max_tenor_months")),
            ),
            models.CheckConstraint(
                name="product_amount_range", condition=Q(min_amount__lte=models.F("max_amount"))
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def document_labels(self) -> list[str]:
        labels = dict(DocumentKind.choices)
        return [str(labels.get(code, code)) for code in self.required_documents]

    def repayment_method_choices(self) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in RepaymentMethod if m.value in self.repayment_methods]


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


class CollectionAction(models.Model):
    """A step of the dunning ladder on a facility in arrears, in a collector's queue."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="collections")
    step = models.CharField(_("action"), max_length=16, choices=CollectionStep.choices)
    #: The arrears episode: the due date of the oldest unpaid instalment when it was made.
    episode = models.DateField(_("in arrears since"))
    days_past_due = models.PositiveIntegerField(_("days past due"))
    amount_overdue = models.DecimalField(_("amount overdue (CNY)"), **MONEY)
    due_on = models.DateField(_("due"), db_index=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="collection_actions", verbose_name=_("assigned to"),
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=10, choices=CollectionStatus.choices,
        default=CollectionStatus.OPEN,
    )  # fmt: skip
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=CollectionOutcome.choices, blank=True
    )
    promise_date = models.DateField(_("promised for"), null=True, blank=True)
    promise_amount = models.DecimalField(_("promised amount (CNY)"), null=True, blank=True, **MONEY)
    promise_status = models.CharField(
        _("promise"), max_length=8, choices=PromiseStatus.choices, blank=True
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("completed by"),
    )  # fmt: skip
    #: The reminder an SMS step queued (``collections_run``): its status and reason in the queue.
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("message"),
    )  # fmt: skip

    history = HistoricalRecords()
    objects = FacilityOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection action")
        verbose_name_plural = _("collection actions")
        ordering = ["status", "-days_past_due", "due_on", "id"]
        constraints = [
            # One action per step per arrears episode: the ladder runs every night.
            models.UniqueConstraint(
                fields=["facility", "step", "episode"],
                name="one_collection_step",
                condition=~Q(step=CollectionStep.PROMISE_BROKEN),
            ),
        ]
        indexes = [models.Index(fields=["assigned_to", "status", "due_on"])]

    def __str__(self) -> str:
        return f"{self.facility} · {self.get_step_display()}"


class CollectionLetterTemplate(models.Model):
    """The text of the letter a rung of the dunning ladder sends (催收函 at 30 days, 担保人通知函
    at 60, 律师函 at 90), per language, editable by an administrator (history kept).

    ``body`` is plain text, paragraphs separated by blank lines, with placeholders in braces
    (``{client}``, ``{total}`` …: ``fincrm.financing.letters.PLACEHOLDERS``) filled with the
    client's figures on the day the letter is produced."""

    step = models.CharField(_("action"), max_length=16, choices=CollectionStep.choices)
    language = models.CharField(_("language"), max_length=8, default="zh-hans")
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("collection letter template")
        verbose_name_plural = _("collection letter templates")
        ordering = ["step", "language"]
        constraints = [
            models.UniqueConstraint(fields=["step", "language"], name="one_letter_per_step"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .letters import unknown_placeholders

        unknown = unknown_placeholders(f"{self.title}\n{self.body}")
        if unknown:
            raise ValidationError(
                {"body": _("Unknown placeholders: %(names)s") % {"names": ", ".join(unknown)}}
            )


class LetterOwnedQuerySet(RestrictedQuerySet):
    owner_field = "action__facility__customer__owner"
    team_field = "action__facility__customer__team"


class CollectionLetter(models.Model):
    """A letter produced for a collection action: who produced (downloaded) it, when, in which
    format, from which template, and the figures and text it carried. One row per download:
    the record of what left the lender, never changed."""

    action = models.ForeignKey(
        CollectionAction, on_delete=models.CASCADE, related_name="letters",
        verbose_name=_("collection action"),
    )  # fmt: skip
    template = models.ForeignKey(
        CollectionLetterTemplate, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("template"),
    )  # fmt: skip
    #: The letter's number (函号), one per action and day.
    reference = models.CharField(_("letter number"), max_length=60)
    file_format = models.CharField(_("format"), max_length=4, choices=LETTER_FORMATS)
    title = models.CharField(_("title"), max_length=100)
    text = models.TextField(_("text"))
    #: The figures filled in (amounts as strings, to the cent), as of ``created_at``.
    figures = models.JSONField(_("figures"), default=dict)
    created_at = models.DateTimeField(_("produced"), default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("produced by"),
    )  # fmt: skip

    objects = LetterOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection letter")
        verbose_name_plural = _("collection letters")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} {self.reference}"


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
