"""The whole policy (``PolicyConfig``), the version shipped in code, and its validation."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal, cast

from pydantic import Field, ValidationError, model_validator

from ..strategy import StrategyRules, strategy_problems
from .base import SEVERITIES, SEVERITY, TIER, TIERS, _Config
from .credit import (
    ChecksRules,
    ExpertGradeRules,
    GradeBand,
    GradeControls,
    LoanClassRules,
    ScorecardScaling,
    WarningRule,
    _controls,
    _grades,
    _warnings,
)
from .lending import LendingRules
from .service import (
    CarePlan,
    LoyaltyProgram,
    MessagingRules,
    ServicePlan,
    ServiceRules,
    SurveyRules,
    _care,
    _plans,
)
from .staff import StaffIncentive, StaffTraining
from .value import (
    Clustering,
    ContributionRules,
    LifecycleRules,
    LoyaltyRules,
    PotentialRules,
    PredictionRules,
    RiskRules,
    SegmentRule,
    SizeBand,
    TierRules,
    Weights,
    _segments,
)

ROUTE = Literal["owner", "team_lead", "risk_officer"]


def _alert_routing() -> dict[SEVERITY, ROUTE]:
    return {
        "low": "owner",
        "medium": "owner",
        "high": "team_lead",
        "critical": "risk_officer",
    }


class PolicyConfig(_Config):
    weights: Weights = Field(default_factory=Weights)
    tiers: TierRules = Field(default_factory=TierRules)
    contribution: ContributionRules = Field(default_factory=ContributionRules)
    potential: PotentialRules = Field(default_factory=PotentialRules)
    loyalty: LoyaltyRules = Field(default_factory=LoyaltyRules)
    risk: RiskRules = Field(default_factory=RiskRules)
    lifecycle: LifecycleRules = Field(default_factory=LifecycleRules)
    size_bands: list[SizeBand] = Field(
        default_factory=lambda: [
            SizeBand(code="none", upper_cny=1.0),
            SizeBand(code="micro", upper_cny=1_000_000),
            SizeBand(code="small", upper_cny=10_000_000),
            SizeBand(code="medium", upper_cny=50_000_000),
            SizeBand(code="large", upper_cny=200_000_000),
            SizeBand(code="very_large", upper_cny=None),
        ]
    )
    expert_grade: ExpertGradeRules = Field(default_factory=ExpertGradeRules)
    grades: list[GradeBand] = Field(default_factory=_grades)
    grade_controls: dict[str, GradeControls] = Field(default_factory=_controls)
    scorecard: ScorecardScaling = Field(default_factory=ScorecardScaling)
    early_warning: list[WarningRule] = Field(default_factory=_warnings)
    loan_classification: LoanClassRules = Field(default_factory=LoanClassRules)
    #: Who must act on an alert of each severity: the client's account manager, the lead of
    #: its team (up the team tree), or the least-loaded risk officer. The owner is always told.
    alert_routing: dict[SEVERITY, ROUTE] = Field(default_factory=_alert_routing)
    segments: list[SegmentRule] = Field(default_factory=_segments)
    clustering: Clustering = Field(default_factory=Clustering)
    service_plans: dict[Literal["core", "key", "ordinary", "low"], ServicePlan] = Field(
        default_factory=_plans
    )
    service: ServiceRules = Field(default_factory=ServiceRules)
    surveys: SurveyRules = Field(default_factory=SurveyRules)
    care_plans: dict[TIER, CarePlan] = Field(default_factory=_care)
    messaging: MessagingRules = Field(default_factory=MessagingRules)
    loyalty_program: LoyaltyProgram = Field(default_factory=LoyaltyProgram)
    prediction: PredictionRules = Field(default_factory=PredictionRules)
    lending: LendingRules = Field(default_factory=LendingRules)
    checks: ChecksRules = Field(default_factory=ChecksRules)
    staff_incentive: StaffIncentive = Field(default_factory=StaffIncentive)
    staff_training: StaffTraining = Field(default_factory=StaffTraining)
    #: Strategies per segment and lifecycle stage (``fincrm.analytics.strategy``).
    strategies: StrategyRules = Field(default_factory=StrategyRules)

    @model_validator(mode="after")
    def _consistent(self) -> PolicyConfig:
        grades = [band.grade for band in self.grades]
        pds = [band.max_pd for band in self.grades]
        if len(set(grades)) != len(grades):
            raise ValueError("grades: grade codes must be unique")
        if any(b <= a for a, b in pairwise(pds)) or pds[-1] != 1.0:
            raise ValueError("grades: max_pd must increase and the last band must end at 1.0")
        missing = [g for g in grades if g not in self.grade_controls]
        if missing:
            raise ValueError(f"grade_controls: no row for grade(s) {', '.join(missing)}")
        unknown = [g for _days, g in self.expert_grade.dpd_grades if g not in grades]
        unknown += [g for g in self.risk.grade_points if g not in grades]
        rules = self.loan_classification
        unknown += [g for g in rules.watch_grades + rules.substandard_grades if g not in grades]
        unknown += [g for g in self.prediction.product_min_grade.values() if g not in grades]
        lending = self.lending
        unknown += [r.worst_grade for r in lending.approval_authority
                    if r.worst_grade and r.worst_grade not in grades]  # fmt: skip
        if lending.renewal_worst_grade not in grades:
            unknown.append(lending.renewal_worst_grade)
        if unknown:
            raise ValueError(f"unknown grade(s) {', '.join(sorted(set(unknown)))}")
        codes = [rule.code for rule in self.early_warning]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"early_warning: duplicate rule code(s) {', '.join(duplicates)}")
        missing_plans = [t for t in TIERS if t not in self.service_plans]
        missing_plans += [f"care:{t}" for t in TIERS if t not in self.care_plans]
        missing_plans += [f"sla:{s}" for s in SEVERITIES if s not in self.service.sla]
        if missing_plans:
            raise ValueError(f"service_plans: no plan for tier(s) {', '.join(missing_plans)}")
        uppers = [b.upper_cny for b in self.size_bands]
        if not uppers or uppers[-1] is not None or None in uppers[:-1]:
            raise ValueError("size_bands: only the last band may (and must) be open-ended")
        # The check above leaves no None before the last band; mypy cannot follow `None in`.
        if any(b <= a for a, b in pairwise(cast(list[float], uppers[:-1]))):
            raise ValueError("size_bands: upper bounds must increase")
        segment_codes = [rule.code for rule in self.segments]
        if problems := strategy_problems(self.strategies, segment_codes=segment_codes):
            raise ValueError("; ".join(problems))
        return self


def default_policy() -> PolicyConfig:
    """The policy shipped with fincrm (policy version 1)."""
    return PolicyConfig()


def policy_errors(data: dict) -> list[str]:
    """Human-readable problems of a policy dict, or [] when it is valid.

    Each message names where the problem is ("weights: must sum to 1 (got 1.10)").
    """
    try:
        PolicyConfig.model_validate(data)
    except ValidationError as exc:
        messages = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            text = error["msg"].removeprefix("Value error, ")
            messages.append(f"{where}: {text}" if where else text)
        return messages
    return []
