"""Credit risk: the expert grade, grade bands and their controls, the scorecard, loan classes,
early-warning rules and external checks.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import Field, model_validator

from .base import SEVERITY, _Config


class ExpertGradeRules(_Config):
    """Grade when no statistical score exists, documented so a risk officer can check it.

    Start from the grade of the worst arrears in 12 months (``dpd_grades``: highest breakpoint
    reached), then move one notch down for each balance-sheet breach (debt-to-asset above
    ``max_debt_to_asset``, current ratio below ``min_current_ratio``) and one notch up when both
    are comfortably inside (debt-to-asset below ``good_debt_to_asset`` and current ratio above
    ``good_current_ratio``); missing ratios move nothing.
    """

    dpd_grades: list[tuple[int, str]] = Field(
        default_factory=lambda: [
            (0, "A"),
            (1, "BBB"),
            (15, "BB"),
            (30, "B"),
            (60, "CCC"),
            (90, "C"),
        ]
    )
    max_debt_to_asset: float = 0.75
    min_current_ratio: float = 1.0
    good_debt_to_asset: float = 0.5
    good_current_ratio: float = 1.5


class GradeBand(_Config):
    grade: str
    max_pd: float = Field(gt=0, le=1)


class GradeControls(_Config):
    limit_revenue_multiple: float = Field(ge=0)
    max_tenor_months: int = Field(gt=0)
    pricing_spread_bp: int = Field(ge=0)
    guarantee: Literal["none", "guarantee", "collateral", "guarantee_and_collateral"]
    margin_ratio: float = Field(ge=0, le=1)
    review_frequency: Literal["monthly", "quarterly", "half_yearly", "yearly"]


class ExpertScorecard(_Config):
    """The expert scorecard, used while the book has too few defaults to fit one.

    ln(odds of default) = base_logit
      + arrears_per_day · min(max DPD in 12 months, arrears_cap_days)
      + leverage_per_unit · max(debt-to-asset − leverage_above, 0)
      − low_leverage_bonus if debt-to-asset < low_leverage_below
      + illiquid_penalty if current ratio < illiquid_below
      − coverage_bonus if interest coverage > coverage_above
      − growth_weight · clip(revenue growth, −growth_cap, +growth_cap)
      − tenure_bonus · min(tenure / tenure_full_days, 1)
    Missing inputs contribute nothing; every number is the risk committee's to set.
    """

    base_logit: float = -5.0  # ≈ 0.7 % PD: an unknown clean client
    arrears_per_day: float = Field(0.04, ge=0)  # 90 DPD → +3.6
    arrears_cap_days: int = Field(120, gt=0)
    leverage_above: float = Field(0.6, ge=0)
    leverage_per_unit: float = Field(4.0, ge=0)
    low_leverage_below: float = Field(0.4, ge=0)
    low_leverage_bonus: float = Field(0.5, ge=0)
    illiquid_below: float = Field(1.0, ge=0)
    illiquid_penalty: float = Field(0.8, ge=0)
    coverage_above: float = Field(3.0, ge=0)
    coverage_bonus: float = Field(0.6, ge=0)
    growth_weight: float = Field(1.5, ge=0)
    growth_cap: float = Field(0.5, gt=0)
    tenure_full_days: int = Field(1825, gt=0)
    tenure_bonus: float = Field(0.8, ge=0)


class ScorecardScaling(_Config):
    base_points: float = 600.0
    base_odds: float = Field(50.0, gt=0)
    pdo: float = Field(20.0, gt=0)
    min_defaults: int = Field(30, ge=1)
    #: The expert card's weight in a fitted scorecard, in defaults: with d defaults in
    #: training it has ``prior_defaults / (prior_defaults + d)`` of the say (0: none).
    prior_defaults: float = Field(100.0, ge=0)
    #: Calibrate a blended scorecard in the large: shift its log-odds so that its mean PD on
    #: the training rows is their default rate (``analytics.scorecard.Scorecard``, step 5).
    #: Off by default: it moves most grades at once, so a risk committee turns it on; the
    #: model governance page shows the gap it would close. Applies from the next training.
    calibrate_in_the_large: bool = False
    horizon_days: int = Field(365, gt=0)
    default_dpd: int = Field(90, gt=0)
    #: The nightly run trains a challenger this many months after the latest scorecard was
    #: trained (0: never); it is put in use only when a risk officer's switch is approved.
    retrain_months: int = Field(6, ge=0, le=60)
    expert: ExpertScorecard = Field(default_factory=ExpertScorecard)


def _watch_alert_severities() -> list[SEVERITY]:
    return ["high", "critical"]


class LoanClassRules(_Config):
    """China's five-tier classification (贷款五级分类) of each facility.

    Days past due set the floor (defaults: the 2023 NFRA/PBoC rule — any arrears → special
    mention, over 90 days → substandard, over 270 → doubtful, over 360 → loss); risk signals
    can only make a class more severe: a client graded in ``watch_grades`` or with an open
    alert of a severity in ``watch_alert_severities`` is at least special mention, one graded
    in ``substandard_grades`` at least substandard. A risk officer may classify more strictly
    still, with a reason; never less strictly than these rules.
    """

    special_mention_days: int = Field(1, ge=1)
    substandard_days: int = Field(91, ge=1)
    doubtful_days: int = Field(271, ge=1)
    loss_days: int = Field(361, ge=1)
    watch_grades: list[str] = Field(default_factory=lambda: ["CCC"])
    substandard_grades: list[str] = Field(default_factory=lambda: ["C"])
    watch_alert_severities: list[Literal["low", "medium", "high", "critical"]] = Field(
        default_factory=_watch_alert_severities
    )
    #: A restructured facility (重组资产, 2023 NFRA/PBoC rule, art. 18-19) is at least special
    #: mention through its observation period (this many months from the first due date of
    #: the new terms, and at least two instalments), at least substandard in arrears in it.
    restructured_floor: Literal["special_mention", "substandard"] = "special_mention"
    restructured_arrears_floor: Literal["substandard", "doubtful"] = "substandard"
    restructuring_observation_months: int = Field(12, ge=1)

    @model_validator(mode="after")
    def _increasing(self) -> LoanClassRules:
        days = [self.special_mention_days, self.substandard_days, self.doubtful_days]
        days.append(self.loss_days)
        if any(b <= a for a, b in pairwise(days)):
            raise ValueError("days past due thresholds must increase from special mention to loss")
        return self


class WarningRule(_Config):
    code: str
    signal: str
    op: Literal[">=", ">", "<=", "<", "=="]
    threshold: float
    severity: Literal["low", "medium", "high", "critical"]
    cooldown_days: int = Field(30, ge=0)


def _grades() -> list[GradeBand]:
    bands = [("AAA", 0.0005), ("AA", 0.001), ("A", 0.003), ("BBB", 0.008), ("BB", 0.02),
             ("B", 0.06), ("CCC", 0.15), ("C", 1.0)]  # fmt: skip
    return [GradeBand(grade=g, max_pd=p) for g, p in bands]


def _controls() -> dict[str, GradeControls]:
    rows = {
        "AAA": (0.6, 60, 80, "none", 0.0, "yearly"),
        "AA": (0.5, 48, 110, "none", 0.0, "yearly"),
        "A": (0.4, 36, 150, "guarantee", 0.0, "half_yearly"),
        "BBB": (0.3, 36, 220, "guarantee", 0.05, "half_yearly"),
        "BB": (0.2, 24, 320, "collateral", 0.1, "quarterly"),
        "B": (0.1, 12, 450, "guarantee_and_collateral", 0.2, "quarterly"),
        "CCC": (0.0, 6, 600, "guarantee_and_collateral", 0.3, "monthly"),
        "C": (0.0, 3, 800, "guarantee_and_collateral", 0.5, "monthly"),
    }
    keys = ("limit_revenue_multiple", "max_tenor_months", "pricing_spread_bp", "guarantee",
            "margin_ratio", "review_frequency")  # fmt: skip
    return {g: GradeControls(**dict(zip(keys, row, strict=True))) for g, row in rows.items()}


def _warnings() -> list[WarningRule]:
    rows = [
        ("dpd_1", "current_dpd", ">=", 1, "low"),
        ("dpd_15", "current_dpd", ">=", 15, "low"),
        ("dpd_30", "current_dpd", ">=", 30, "medium"),
        ("dpd_60", "current_dpd", ">=", 60, "high"),
        ("dpd_90", "current_dpd", ">=", 90, "critical"),
        ("utilisation_spike", "utilisation_change", ">=", 0.3, "medium"),
        ("revenue_drop", "revenue_change", "<=", -0.3, "high"),
        ("cash_flow_drop", "ocf_change", "<=", -0.5, "medium"),
        ("current_ratio_breach", "current_ratio", "<", 1.0, "medium"),
        ("leverage_breach", "debt_to_asset", ">", 0.8, "high"),
        ("score_drop", "score_change", "<=", -40, "high"),
        ("complaints", "complaints_90d", ">=", 2, "medium"),
        ("contact_lost", "days_since_successful_contact", ">=", 180, "low"),
        ("maturity_no_renewal", "maturity_without_renewal_days", "<=", 60, "low"),
        ("external_finding", "external_findings", ">=", 1, "high"),
        ("funds_evidence_overdue", "funds_evidence_overdue", ">=", 1, "medium"),
        ("funds_payee_mismatch", "funds_payee_mismatch", ">=", 1, "high"),
    ]
    return [WarningRule(code=c, signal=s, op=o, threshold=t, severity=v) for c, s, o, t, v in rows]


CHECK_CATEGORY = Literal[
    "dishonest", "enforcement", "litigation", "penalty", "registration", "shareholder"
]


def _signal_categories() -> list[CHECK_CATEGORY]:
    return ["dishonest", "enforcement", "litigation", "penalty"]


class ChecksRules(_Config):
    """External checks (外部核查, seed 004): reputation and legal data about clients, asked at
    onboarding, before approval and every ``recheck_days`` for the live book, at most
    ``daily_limit`` lookups a day (a paid source's quota). An open finding of
    ``signal_categories`` first reported within ``signal_days`` fires the early-warning rule on
    the signal ``external_findings``."""

    recheck_days: int = Field(30, ge=1)
    before_approval_days: int = Field(7, ge=0)
    daily_limit: int = Field(500, ge=0)
    signal_days: int = Field(30, ge=1)
    signal_categories: list[CHECK_CATEGORY] = Field(default_factory=_signal_categories)
