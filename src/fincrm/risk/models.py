"""Credit risk records: scorecard models, assessments, control proposals, alerts, reviews.

Assessments, proposals and reviews carry django-simple-history: every change to
credit-relevant data says who changed what and when.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fincrm.core.fields import RecordJSONField
from fincrm.core.permissions import Action, CustomerOwnedQuerySet, RestrictedQuerySet
from fincrm.financing.choices import GuaranteeType

from .choices import (
    RULE_LABELS,
    SIGNAL_LABELS,
    AlertStatus,
    EffectStatus,
    ProposalStatus,
    ReviewDecision,
    ReviewFrequency,
    ReviewStatus,
    ScoreMethod,
    Severity,
    SwitchStatus,
)


class GovernedQuerySet(RestrictedQuerySet):
    """Scorecards and their switches belong to the model governance page, not to a client's
    book: risk officers, executives and admins see them (``risk.view_models``); only risk
    officers act on them (``risk.switch_model``)."""

    def restrict(self, user, action: Action = "view") -> GovernedQuerySet:
        from .rules import may_switch_model

        if user is None:
            return self.none()
        allowed = user.has_perm("risk.view_models") if action == "view" else may_switch_model(user)
        return self if allowed else self.none()


class ScorecardModel(models.Model):
    """A scorecard fitted on the portfolio's own repayment outcomes (``Scorecard.to_dict``)."""

    created_at = models.DateTimeField(_("trained"), default=timezone.now)
    observation_date = models.DateField(_("observation date"))
    params = models.JSONField(_("parameters"))
    features = models.JSONField(_("characteristics"))
    n_train = models.PositiveIntegerField(_("clients in training"))
    n_defaults = models.PositiveIntegerField(_("defaults in training"))
    auc_train = models.FloatField(_("AUC (training)"))
    auc_holdout = models.FloatField(_("AUC (hold-out)"), null=True)
    ks_holdout = models.FloatField(_("KS (hold-out)"), null=True)
    #: The fitted bins: feature, bin, woe, points, count and event rate in training.
    bins_table = models.JSONField(_("bins"), default=list)
    #: Score bands and shares of the training population, the reference for stability.
    score_reference = models.JSONField(_("training score distribution"), default=dict)
    is_active = models.BooleanField(_("active"), default=True)
    #: Who trained it from the model page (None: the command line or the nightly job).
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    #: Measured on the hold-out when it was trained (``evaluation.risk.holdout_validation``):
    #: discrimination, calibration by grade, Hosmer–Lemeshow, agreement with the expert card,
    #: and the champion of the day on the same clients.
    validation = models.JSONField(_("validation"), default=dict, blank=True)
    #: When it last became the model in use (None: never, or before this was recorded).
    activated_at = models.DateTimeField(_("put in use"), null=True, blank=True)

    # Who put a model in use or took it out, and why (the fitted parameters are not copied).
    history = HistoricalRecords(
        excluded_fields=["params", "features", "bins_table", "score_reference", "validation"]
    )
    objects = GovernedQuerySet.as_manager()

    class Meta:
        verbose_name = _("scorecard model")
        verbose_name_plural = _("scorecard models")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"scorecard {self.created_at:%Y-%m-%d}"


class AssessmentRecord(models.Model):
    """A client's credit score, PD and grade at one time, with each characteristic's points:
    the columns of an assessment, recent or archived."""

    assessed_at = models.DateTimeField(_("assessed"), default=timezone.now)
    method = models.CharField(_("method"), max_length=10, choices=ScoreMethod.choices)
    model = models.ForeignKey(
        ScorecardModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.FloatField(_("score"))
    pd = models.FloatField(_("probability of default"))
    grade = models.CharField(_("grade"), max_length=4)
    points = RecordJSONField(_("points by characteristic"), default=dict)
    #: The early-warning signals measured with this assessment (the next run compares).
    signals = RecordJSONField(_("signals"), default=dict)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-assessed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.grade} ({self.score:.0f})"


class CreditAssessment(AssessmentRecord):
    """An assessment of the recent runs; moved to ``CreditAssessmentArchive`` with the
    snapshots of its run (``history_archive``)."""

    # Indexed by (customer, -assessed_at) below, which also serves lookups by customer.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="credit_assessments",
        db_index=False,
    )

    class Meta(AssessmentRecord.Meta):
        verbose_name = _("credit assessment")
        verbose_name_plural = _("credit assessments")
        indexes = [
            models.Index(fields=["customer", "-assessed_at"]),
            # A run reads the assessments since the last full run only.
            models.Index(fields=["assessed_at"]),
        ]


class CreditAssessmentArchive(AssessmentRecord):
    """An older assessment, with its original id."""

    id = models.BigIntegerField(primary_key=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )

    class Meta(AssessmentRecord.Meta):
        verbose_name = _("archived credit assessment")
        verbose_name_plural = _("archived credit assessments")
        indexes = [models.Index(fields=["customer", "-assessed_at"])]


class ControlProposal(models.Model):
    """New controls proposed when a client's grade changes; a risk officer decides."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="control_proposals"
    )
    from_grade = models.CharField(_("from grade"), max_length=4, blank=True)
    to_grade = models.CharField(_("to grade"), max_length=4)
    controls = models.JSONField(_("proposed controls"))
    status = models.CharField(
        _("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PENDING
    )
    created_at = models.DateTimeField(_("proposed"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    history = HistoricalRecords()
    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("control proposal")
        verbose_name_plural = _("control proposals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status="pending"),
                name="proposal_one_pending_per_client",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_grade or '—'} → {self.to_grade}"


class Alert(models.Model):
    """An early-warning signal that fired for a client: who must act, and why."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="alerts"
    )
    rule_code = models.CharField(_("rule"), max_length=40)
    signal = models.CharField(_("signal"), max_length=40)
    value = models.FloatField(_("value"))
    threshold = models.FloatField(_("threshold"))
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    status = models.CharField(
        _("status"), max_length=14, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    raised_on = models.DateField(_("raised"), db_index=True)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
        verbose_name=_("assigned to"),
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: How it was resolved, or why it was dismissed.
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)
    action_plan = models.TextField(_("action plan"), blank=True)
    #: Out of the working list until this day (a bulk "snooze"); still open, still counted.
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)

    history = HistoricalRecords()

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["status", "severity"]),
            models.Index(fields=["customer", "rule_code", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule_label} ({self.get_severity_display()})"

    @property
    def rule_label(self) -> str:
        """The rule's name, else (a rule an administrator added) its signal's."""
        return str(RULE_LABELS.get(self.rule_code) or SIGNAL_LABELS.get(self.signal, self.signal))


class Review(models.Model):
    """A periodic credit review of one client, at its grade's frequency."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="reviews"
    )
    due_on = models.DateField(_("due"), db_index=True)
    frequency = models.CharField(_("frequency"), max_length=12, choices=ReviewFrequency.choices)
    grade = models.CharField(_("grade when scheduled"), max_length=4)
    status = models.CharField(
        _("status"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.SCHEDULED
    )
    decision = models.CharField(
        _("decision"), max_length=14, choices=ReviewDecision.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("officer"),
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    # What the decision changes, once a second person approves it (``review_effect_decide``).
    facility = models.ForeignKey(
        "financing.Facility", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="reviews", verbose_name=_("facility"),
    )  # fmt: skip
    new_limit = models.DecimalField(
        _("new limit (CNY)"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    new_rate = models.DecimalField(
        _("new annual rate (%)"), max_digits=6, decimal_places=3, null=True, blank=True
    )
    new_guarantee = models.CharField(
        _("guarantee required"), max_length=12, choices=GuaranteeType.choices, blank=True
    )
    effect_status = models.CharField(
        _("effect"), max_length=10, choices=EffectStatus.choices, blank=True
    )
    effect_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("effect approved by"),
    )  # fmt: skip
    effect_decided_at = models.DateTimeField(_("effect decided"), null=True, blank=True)
    # No foreign key in the database: assessments are partitioned by time on PostgreSQL
    # (``core.partitions``), and a key can only reference a partitioned table's id together
    # with its time. The archive keeps an assessment a review points at in the live table
    # (``evaluation.archive``); the ORM's SET_NULL covers a deleted one.
    assessment = models.ForeignKey(
        CreditAssessment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )

    history = HistoricalRecords()
    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status="scheduled"),
                name="review_one_scheduled_per_client",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: review due {self.due_on}"

    @property
    def is_overdue(self) -> bool:
        return self.status == ReviewStatus.SCHEDULED and self.due_on < timezone.localdate()


class ModelSwitch(models.Model):
    """A risk officer's request to put a challenger scorecard in place of the champion, and
    a second risk officer's decision on it (maker–checker)."""

    challenger = models.ForeignKey(
        ScorecardModel, on_delete=models.PROTECT, related_name="switches",
        verbose_name=_("challenger"),
    )  # fmt: skip
    #: The model in use when the switch was asked for (None: none was).
    champion = models.ForeignKey(
        ScorecardModel, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("champion"),
    )  # fmt: skip
    reason = models.CharField(_("reason"), max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("requested by"),
    )  # fmt: skip
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=SwitchStatus.choices, default=SwitchStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("decided by"),
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    history = HistoricalRecords()
    objects = GovernedQuerySet.as_manager()

    class Meta:
        verbose_name = _("scorecard switch")
        verbose_name_plural = _("scorecard switches")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["challenger"],
                condition=models.Q(status="pending"),
                name="model_switch_one_pending_per_challenger",
            )
        ]

    def __str__(self) -> str:
        return f"switch to scorecard {self.challenger_id} ({self.status})"
