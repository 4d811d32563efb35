"""Predictions per client (lifetime value, churn risk, next financing need), the churn
model's report, and next-best-product recommendations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.core.permissions import CustomerOwnedQuerySet


class ChurnModelReport(models.Model):
    """One training of the churn model: how it was validated (out of time) and what drives it."""

    trained_at = models.DateTimeField(_("trained"), default=timezone.now)
    train_cutoff = models.DateField(_("training cut-off"))
    test_cutoff = models.DateField(_("test cut-off"))
    horizon_days = models.PositiveSmallIntegerField(_("horizon (days)"))
    n_train = models.PositiveIntegerField(_("training clients"))
    n_test = models.PositiveIntegerField(_("test clients"))
    train_churn_rate = models.FloatField(_("training churn rate"))
    auc = models.FloatField(_("AUC (test)"), null=True)
    lift_top_decile = models.FloatField(_("lift at top decile (test)"), null=True)
    top_decile_rate = models.FloatField(_("churn rate in the top decile"), null=True)
    base_rate = models.FloatField(_("churn rate (test)"), null=True)
    #: Mean |contribution| per feature on the test clients: what moves the model.
    importance = models.JSONField(_("feature importance"), default=dict)
    #: Brier score on the test clients of the trees' own probabilities and of the calibrated
    #: ones (``fincrm.analytics.calibration``); lower is better.
    brier_raw = models.FloatField(_("Brier score before calibration (test)"), null=True)
    brier = models.FloatField(_("Brier score (test)"), null=True)
    #: How the probabilities were calibrated: "platt", "isotonic" or "" (not calibrated), its
    #: parameters and the rows (an earlier period) it was fitted on.
    calibration = models.CharField(_("calibration"), max_length=10, blank=True)
    calibration_basis = models.JSONField(_("calibration basis"), default=dict, blank=True)
    #: Per probability band of the test clients: lower, upper, n, events, mean_predicted,
    #: observed_rate and mean_raw (the uncalibrated mean probability).
    reliability = models.JSONField(_("reliability table"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("churn model report")
        verbose_name_plural = _("churn model reports")
        ordering = ["-trained_at", "-id"]

    def __str__(self) -> str:
        return f"churn model {self.trained_at:%Y-%m-%d}"


class Confidence(models.TextChoices):
    """How sure the demand forecast is (``fincrm.analytics.demand.CONFIDENCE_LEVELS``)."""

    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class Prediction(models.Model):
    """The latest predictions for one client (rewritten by each prediction run)."""

    customer = models.OneToOneField(
        "customers.Customer", primary_key=True, on_delete=models.CASCADE, related_name="prediction"
    )
    computed_at = models.DateTimeField(_("computed"))
    #: Lifetime value: expected drawdowns in the horizon, probability still active, value.
    expected_transactions = models.FloatField(_("expected drawdowns"), null=True)
    prob_alive = models.FloatField(_("probability still active"), null=True)
    #: ``clv`` = ``clv_running`` (the margin still to come on the running facilities) +
    #: ``clv_drawdowns`` (the value of future drawdowns); either may be unknown.
    clv = models.FloatField(_("lifetime value (CNY)"), null=True, db_index=True)
    clv_running = models.FloatField(_("running book margin (CNY)"), null=True)
    clv_drawdowns = models.FloatField(_("future drawdowns value (CNY)"), null=True)
    #: How the running part was valued: pd, funding and discount rates (a year, 0.03 = 3 %), the
    #: undiscounted margin (CNY) and the number of instalments still to come.
    clv_basis = models.JSONField(_("lifetime value basis"), default=dict, blank=True)
    churn_probability = models.FloatField(_("churn risk"), null=True, db_index=True)
    churn_reasons = models.JSONField(_("churn reasons"), default=list, blank=True)
    next_need_on = models.DateField(_("next financing need"), null=True, db_index=True)
    next_need_amount = models.FloatField(_("expected amount (CNY)"), null=True)
    need_confidence = models.CharField(_("confidence"), max_length=8, blank=True)
    need_reason = models.JSONField(_("why"), default=dict, blank=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")

    def __str__(self) -> str:
        return f"{self.customer_id}: churn {self.churn_probability}"

    @property
    def need_confidence_label(self) -> str:
        code = self.need_confidence
        return str(Confidence(code).label) if code in Confidence.values else code


class NeedReason(models.TextChoices):
    """Why the demand forecast expects a need (``fincrm.analytics.demand.REASON_TEXTS``)."""

    REGULAR_INTERVAL = "regular_interval", _("Own drawdown cycle")
    SEASONAL = "seasonal", _("Own season")
    MATURITY = "maturity", _("Renewal at maturity")
    INDUSTRY_CYCLE = "industry_cycle", _("Industry cycle")
    INDUSTRY_SEASON = "industry_season", _("Industry season")
    SINGLE_DRAWDOWN = "single_drawdown", _("One drawdown, default cycle")
    LAPSED = "lapsed", _("Lapsed")


#: A kind of forecast with fewer predictions in the demand back-test keeps the rules' level.
DEMAND_MIN_PREDICTIONS = 20


class DemandBacktest(models.Model):
    """How often the demand forecast came true: for one prediction run, per confidence level,
    the clients predicted at a past cut-off to draw within the window and how many did
    (``analytics.demand.hit_rates``). An empty level is every other client: the base rate."""

    computed_at = models.DateTimeField(_("computed"))
    cutoff = models.DateField(_("cut-off"))
    window_days = models.PositiveSmallIntegerField(_("window (days)"))
    #: "calibrated": the latest cut-off with levels learnt on the earlier ones; "rule": the
    #: same with the rules' levels; "levels": per kind of forecast (``reason`` and its rule
    #: level) over every cut-off, and the level it earned — the one given today.
    basis = models.CharField(_("basis"), max_length=10)
    reason = models.CharField(_("reason"), max_length=20, blank=True)
    #: "levels" rows: the level the rules gave that kind of forecast before it was tested.
    rule_confidence = models.CharField(_("rule level"), max_length=8, blank=True)
    confidence = models.CharField(_("confidence"), max_length=8, blank=True)
    predictions = models.PositiveIntegerField(_("predictions"))
    came_true = models.PositiveIntegerField(_("came true"))

    class Meta:
        verbose_name = _("demand back-test")
        verbose_name_plural = _("demand back-tests")
        ordering = ["-computed_at", "basis", "id"]

    def __str__(self) -> str:
        return f"{self.cutoff} {self.basis} {self.confidence}: {self.came_true}/{self.predictions}"

    @property
    def hit_rate(self) -> float | None:
        return self.came_true / self.predictions if self.predictions else None

    @property
    def confidence_label(self) -> str:
        code = self.confidence
        return str(Confidence(code).label) if code in Confidence.values else code

    @property
    def rule_confidence_label(self) -> str:
        code = self.rule_confidence
        return str(Confidence(code).label) if code in Confidence.values else code

    @property
    def reason_label(self) -> str:
        code = self.reason
        return str(NeedReason(code).label) if code in NeedReason.values else code


class RecommendationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    DISMISSED = "dismissed", _("Dismissed")


class Recommendation(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="recommendations"
    )
    product = models.ForeignKey("financing.Product", on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField(_("rank"))
    score = models.FloatField(_("score"))
    reason_code = models.CharField(_("reason"), max_length=40)
    reason_value = models.JSONField(_("evidence"), default=dict)
    suggested_amount = models.FloatField(_("suggested amount (CNY)"), null=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RecommendationStatus.choices, default="open"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    application = models.ForeignKey(
        "financing.Application", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        ordering = ["customer", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "product"],
                condition=models.Q(status="open"),
                name="one_open_recommendation_per_product",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.product_id}"


class MonthlyBalance(models.Model):
    """Pre-aggregated for the KPI dashboard (rebuilt by each prediction run): principal of
    facilities started and falling due per month, by manager, team, product and tier. The
    scheduled balance at a month end is the running sum of ``started − due``."""

    month = models.DateField()
    owner_id = models.BigIntegerField(null=True)
    team_id = models.BigIntegerField(null=True)
    product = models.CharField(max_length=20)
    tier = models.CharField(max_length=10, blank=True)
    #: A segment code: the client's rows once per segment it is in, plus once under "*"
    #: (every client) — filters by segment read their rows, others read "*".
    segment = models.CharField(max_length=40, default="*")
    started = models.FloatField(default=0)
    due = models.FloatField(default=0)

    class Meta:
        indexes = [models.Index(fields=["segment", "month", "owner_id"])]

    def __str__(self) -> str:
        return f"{self.month} {self.owner_id} {self.product}"


class FunnelCount(models.Model):
    """Applications created in a month that reached a stage, by manager, team, product and
    tier (rebuilt by each prediction run; ``analytics.kpi.funnel_parts``)."""

    month = models.DateField()
    owner_id = models.BigIntegerField(null=True)
    team_id = models.BigIntegerField(null=True)
    product = models.CharField(max_length=20)
    tier = models.CharField(max_length=10, blank=True)
    #: A segment code: the client's rows once per segment it is in, plus once under "*"
    #: (every client) — filters by segment read their rows, others read "*".
    segment = models.CharField(max_length=40, default="*")
    stage = models.CharField(max_length=16)
    reached = models.IntegerField()
    #: A book-wide row (owner and team left empty): what a user who sees the whole book
    #: reads when no team or manager is asked for, a fraction of the per-manager rows.
    whole_book = models.BooleanField(default=False)

    class Meta:
        # Covering: the dashboard's sums read the index alone.
        indexes = [
            models.Index(
                fields=[
                    "whole_book",
                    "segment",
                    "month",
                    "owner_id",
                    "tier",
                    "product",
                    "stage",
                    "reached",
                ],
                name="insights_funnelcount_cover",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.stage}: {self.reached}"


class FunnelDuration(models.Model):
    """How many of those applications took ``days`` whole days from the previous stage: a
    histogram, so medians over any filter are exact."""

    month = models.DateField()
    owner_id = models.BigIntegerField(null=True)
    team_id = models.BigIntegerField(null=True)
    product = models.CharField(max_length=20)
    tier = models.CharField(max_length=10, blank=True)
    #: A segment code: the client's rows once per segment it is in, plus once under "*"
    #: (every client) — filters by segment read their rows, others read "*".
    segment = models.CharField(max_length=40, default="*")
    stage = models.CharField(max_length=16)
    days = models.IntegerField()
    n = models.IntegerField()

    #: A book-wide row (owner and team left empty): what a user who sees the whole book
    #: reads when no team or manager is asked for, a fraction of the per-manager rows.
    whole_book = models.BooleanField(default=False)

    class Meta:
        # Covering: the dashboard's sums read the index alone.
        indexes = [
            models.Index(
                fields=[
                    "whole_book",
                    "segment",
                    "month",
                    "owner_id",
                    "tier",
                    "product",
                    "stage",
                    "days",
                    "n",
                ],
                name="insights_funnelduration_cover",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.stage} {self.days} d: {self.n}"


class ContactCount(models.Model):
    """Contacts logged in a month by each member of staff, by the client's manager, team and
    tier (rebuilt by each prediction run) — the staff KPIs' contact counts."""

    month = models.DateField()
    manager_id = models.BigIntegerField(null=True)  # who made the contact
    owner_id = models.BigIntegerField(null=True)
    team_id = models.BigIntegerField(null=True)
    product = models.CharField(max_length=20, blank=True)  # unused: contacts have no product
    tier = models.CharField(max_length=10, blank=True)
    #: A segment code: the client's rows once per segment it is in, plus once under "*"
    #: (every client) — filters by segment read their rows, others read "*".
    segment = models.CharField(max_length=40, default="*")
    n = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["segment", "month", "owner_id"])]

    def __str__(self) -> str:
        return f"{self.month} {self.manager_id}: {self.n}"


class Migration(models.Model):
    """Clients moving between tiers (and grades) from the previous full run to the last one,
    counted by manager and team (rebuilt by each prediction run)."""

    kind = models.CharField(max_length=5)  # "tier" or "grade"
    owner_id = models.BigIntegerField(null=True)
    team_id = models.BigIntegerField(null=True)
    product = models.CharField(max_length=20, blank=True)  # unused: clients hold several
    tier = models.CharField(max_length=10, blank=True)
    #: A segment code: the client's rows once per segment it is in, plus once under "*"
    #: (every client) — filters by segment read their rows, others read "*".
    segment = models.CharField(max_length=40, default="*")
    before = models.CharField(max_length=10, blank=True)
    after = models.CharField(max_length=10, blank=True)
    clients = models.IntegerField()
    before_run = models.BigIntegerField()
    after_run = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.kind} {self.before}→{self.after}: {self.clients}"


class KpiFact(models.Model):
    """The KPI dashboard's other figures pre-aggregated (rebuilt by each prediction run, on
    the day ``built_on``): counts ``n`` and sums ``value``/``value2`` of one ``kind`` by
    month, by the client's manager, team, tier and segment, by product where the figure
    filters by product, and by a ``key`` of the kind (``insights.facts``):

    - ``survey``: invitations by the month sent; key ``<answered>|<NPS score>|<rating>``
      (0/1, the 0–10 score and the 1–5 rating, empty when there is none).
    - ``sales``: facilities by the month they started; value: their limits.
    - ``renewal``: facilities by the month they matured; key: renewed, not_renewed or
      pending as at ``built_on``.
    - ``book``: running facilities (no month); key: loan class; value: drawn, value2: drawn
      on those 30+ days past due.
    - ``ticket``: complaints by the month opened; key ``<resolved>|<within SLA>`` (0/1, as
      at ``built_on``); value: the sum of satisfaction ratings, value2: how many were rated.
    - ``decision``: credit decisions by month; key: ``auto`` or ``people``; value: hours
      from submission to the decision (to the minute; null when not submitted).
    - ``task``: tasks due by ``built_on``, by the month due; key: the task owner's id;
      value: how many were completed on or before their due date.
    """

    kind = models.CharField(max_length=10)
    month = models.DateField(null=True, blank=True)
    owner_id = models.BigIntegerField(null=True, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    product = models.CharField(max_length=20, blank=True)
    tier = models.CharField(max_length=10, blank=True)
    #: A segment code: the client's rows once per segment it is in, plus once under "*"
    #: (every client) — filters by segment read their rows, others read "*".
    segment = models.CharField(max_length=40, default="*")
    key = models.CharField(max_length=40, blank=True)
    n = models.BigIntegerField(default=0)
    value = models.FloatField(null=True, blank=True)
    value2 = models.FloatField(null=True, blank=True)
    built_on = models.DateField()

    #: A book-wide row (owner and team left empty): what a user who sees the whole book
    #: reads when no team or manager is asked for, a fraction of the per-manager rows.
    whole_book = models.BooleanField(default=False)

    class Meta:
        # Covering: the dashboard's sums read the index alone.
        indexes = [
            models.Index(
                fields=[
                    "kind",
                    "whole_book",
                    "segment",
                    "month",
                    "owner_id",
                    "tier",
                    "product",
                    "key",
                    "n",
                    "value",
                    "value2",
                ],
                name="insights_kpifact_cover",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.month} {self.key}: {self.n}"
