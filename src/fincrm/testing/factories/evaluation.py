"""Factories for what the evaluation, risk and insights write: policy versions, runs and
their parts, snapshots and classifications, scorecards, assessments, proposals, alerts,
reviews, predictions and the KPI cubes."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import factory

from fincrm.accounts.choices import Role
from fincrm.analytics.policy import default_policy
from fincrm.evaluation.choices import Grade, Lifecycle, RunKind, Tier
from fincrm.evaluation.models import (
    Classification,
    EvaluationPart,
    EvaluationRun,
    PolicyVersion,
    SegmentSize,
    Snapshot,
    SnapshotArchive,
    TierChange,
)
from fincrm.insights.models import (
    ChurnModelReport,
    ContactCount,
    DemandBacktest,
    FunnelCount,
    FunnelDuration,
    KpiFact,
    MonthlyBalance,
    Prediction,
    Recommendation,
)
from fincrm.insights.models import Migration as TierMigration
from fincrm.risk.choices import ReviewFrequency, ScoreMethod, Severity
from fincrm.risk.models import (
    Alert,
    ControlProposal,
    CreditAssessment,
    CreditAssessmentArchive,
    ModelSwitch,
    Review,
    ScorecardModel,
)

from .accounts import UserFactory
from .customers import CustomerFactory
from .financing import ProductFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVALUATED_AT = datetime(2026, 6, 14, 2, 0, tzinfo=SHANGHAI)


class PolicyVersionFactory(factory.django.DjangoModelFactory):
    """A stored policy version holding the default shipped in code (not the active one unless
    asked: only one version may be active)."""

    class Meta:
        model = PolicyVersion

    number = factory.Sequence(lambda n: n + 100)
    config = factory.LazyFunction(lambda: default_policy().model_dump(mode="json"))
    note = "测试策略"


class EvaluationRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvaluationRun

    kind = RunKind.FULL
    policy = factory.SubFactory(PolicyVersionFactory)
    as_of = date(2026, 6, 14)
    cutoffs = factory.LazyFunction(lambda: {"core": 80.0, "key": 60.0, "ordinary": 35.0})


class EvaluationPartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvaluationPart

    run = factory.SubFactory(EvaluationRunFactory)
    first_id = 1
    end_id = 10_001


class _SnapshotFields(factory.django.DjangoModelFactory):
    run = factory.SubFactory(EvaluationRunFactory)
    customer = factory.SubFactory(CustomerFactory)
    contribution = 72.5
    potential = 64.0
    loyalty = 58.0
    risk = 81.0
    value_score = 69.4
    tier = Tier.KEY
    grade = Grade.A
    grade_source = "scorecard"
    size_band = "medium"
    lifecycle = Lifecycle.ACTIVE
    segments = factory.LazyFunction(lambda: ["manufacturing"])
    reasons = factory.LazyFunction(lambda: [{"component": "risk", "code": "grade_a"}])


class SnapshotFactory(_SnapshotFields):
    class Meta:
        model = Snapshot


class SnapshotArchiveFactory(_SnapshotFields):
    class Meta:
        model = SnapshotArchive

    id = factory.Sequence(lambda n: 9_000_000 + n)


class ClassificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Classification

    customer = factory.SubFactory(CustomerFactory)
    run = factory.SubFactory(EvaluationRunFactory)
    tier = Tier.KEY
    tier_since = EVALUATED_AT
    value_score = 69.4
    grade = Grade.A
    size_band = "medium"
    lifecycle = Lifecycle.ACTIVE
    segments = factory.LazyFunction(lambda: ["manufacturing"])
    evaluated_at = EVALUATED_AT


class TierChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TierChange

    customer = factory.SubFactory(CustomerFactory)
    run = factory.SubFactory(EvaluationRunFactory)
    from_tier = Tier.ORDINARY
    to_tier = Tier.KEY


class SegmentSizeFactory(factory.django.DjangoModelFactory):
    """A full run's count of one manager's core clients in the growing segment."""

    class Meta:
        model = SegmentSize

    run = factory.SubFactory(EvaluationRunFactory)
    owner_id = factory.LazyFunction(lambda: UserFactory(role=Role.ACCOUNT_MANAGER).pk)
    tier = Tier.CORE
    segment = "growing"
    clients = 12


class ScorecardModelFactory(factory.django.DjangoModelFactory):
    """A trained scorecard's record (not the active one unless asked)."""

    class Meta:
        model = ScorecardModel

    observation_date = date(2025, 12, 31)
    params = factory.LazyFunction(lambda: {"pdo": 20, "base_score": 600, "base_odds": 50})
    features = factory.LazyFunction(lambda: ["debt_ratio", "current_ratio"])
    n_train = 1200
    n_defaults = 96
    auc_train = 0.78
    auc_holdout = 0.74
    ks_holdout = 0.41
    bins_table = factory.LazyFunction(lambda: [{"feature": "debt_ratio", "bin": "<0.6"}])
    score_reference = factory.LazyFunction(lambda: {"mean": 612.0, "std": 48.0})
    is_active = False


class _AssessmentFields(factory.django.DjangoModelFactory):
    customer = factory.SubFactory(CustomerFactory)
    method = ScoreMethod.EXPERT
    score = 640.0
    pd = 0.021
    grade = Grade.A
    points = factory.LazyFunction(lambda: {"debt_ratio": 35.0, "current_ratio": 28.0})
    signals = factory.LazyFunction(lambda: {"debt_ratio": 0.56, "current_ratio": 1.6})


class CreditAssessmentFactory(_AssessmentFields):
    class Meta:
        model = CreditAssessment


class CreditAssessmentArchiveFactory(_AssessmentFields):
    class Meta:
        model = CreditAssessmentArchive

    id = factory.Sequence(lambda n: 9_000_000 + n)


class ControlProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ControlProposal

    customer = factory.SubFactory(CustomerFactory)
    from_grade = Grade.A
    to_grade = Grade.BB
    controls = factory.LazyFunction(lambda: {"max_limit": 2000000, "min_rate": 0.065})


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    customer = factory.SubFactory(CustomerFactory)
    rule_code = "dpd_30"
    signal = "days_past_due"
    value = 31.0
    threshold = 30.0
    severity = Severity.HIGH
    raised_on = date(2026, 6, 14)
    assigned_to = factory.LazyAttribute(lambda o: o.customer.owner)


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    customer = factory.SubFactory(CustomerFactory)
    due_on = date(2026, 9, 30)
    frequency = ReviewFrequency.QUARTERLY
    grade = Grade.A


class ChurnModelReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChurnModelReport

    train_cutoff = date(2025, 6, 30)
    test_cutoff = date(2025, 12, 31)
    horizon_days = 180
    n_train = 900
    n_test = 300
    train_churn_rate = 0.12
    auc = 0.71
    lift_top_decile = 2.4
    top_decile_rate = 0.29
    base_rate = 0.12
    importance = factory.LazyFunction(lambda: {"days_since_contact": 0.31, "utilisation": 0.22})
    brier_raw = 0.21
    brier = 0.17
    calibration = "platt"


class PredictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prediction

    customer = factory.SubFactory(CustomerFactory)
    computed_at = EVALUATED_AT
    expected_transactions = 1.4
    prob_alive = 0.86
    clv = 182000.0
    clv_running = 120000.0
    clv_drawdowns = 62000.0
    churn_probability = 0.14
    next_need_on = date(2026, 9, 1)
    next_need_amount = 2500000.0


class DemandBacktestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DemandBacktest

    computed_at = EVALUATED_AT
    cutoff = date(2025, 12, 31)
    window_days = 90
    basis = "calibrated"
    confidence = "high"
    predictions = 120
    came_true = 74


class RecommendationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recommendation

    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    rank = 1
    score = 0.82
    reason_code = "peer_uptake"
    reason_value = factory.LazyFunction(lambda: {"share": 0.4})
    suggested_amount = 2000000.0


class _CubeFields(factory.django.DjangoModelFactory):
    """The KPI cubes' common keys: the owner and team a row is summed for."""

    class Params:
        owner = factory.SubFactory(UserFactory)

    owner_id = factory.LazyAttribute(lambda o: o.owner.id)
    team_id = factory.LazyAttribute(lambda o: o.owner.team_id)


class KpiFactFactory(_CubeFields):
    """Last night's count of one manager's complaints opened in May, resolved within SLA."""

    class Meta:
        model = KpiFact

    kind = "ticket"
    month = date(2026, 5, 1)
    key = "1|1"
    n = 3
    value = 12.0
    value2 = 3
    built_on = date(2026, 6, 30)


class MonthlyBalanceFactory(_CubeFields):
    class Meta:
        model = MonthlyBalance

    month = date(2026, 5, 1)
    product = "working_capital"
    started = 3000000.0
    due = 266000.0


class FunnelCountFactory(_CubeFields):
    class Meta:
        model = FunnelCount

    month = date(2026, 5, 1)
    product = "working_capital"
    stage = "submitted"
    reached = 12


class FunnelDurationFactory(_CubeFields):
    class Meta:
        model = FunnelDuration

    month = date(2026, 5, 1)
    product = "working_capital"
    stage = "submitted"
    days = 45
    n = 12


class ContactCountFactory(_CubeFields):
    class Meta:
        model = ContactCount

    month = date(2026, 5, 1)
    manager_id = factory.LazyAttribute(lambda o: o.owner_id)
    n = 8


class TierMigrationFactory(_CubeFields):
    class Meta:
        model = TierMigration

    kind = "tier"
    tier = Tier.KEY
    before = Tier.ORDINARY
    after = Tier.KEY
    clients = 5
    before_run = factory.LazyAttribute(lambda o: EvaluationRunFactory().id)
    after_run = factory.LazyAttribute(lambda o: EvaluationRunFactory().id)


class ModelSwitchFactory(factory.django.DjangoModelFactory):
    """A pending request to make a challenger scorecard the active one."""

    class Meta:
        model = ModelSwitch

    challenger = factory.SubFactory(ScorecardModelFactory)
    reason = "挑战者模型验证集 AUC 更高"
    requested_by = factory.SubFactory(UserFactory, role=Role.RISK_OFFICER)
