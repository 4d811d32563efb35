"""The policy: every weight, cut-off, grade band, control, warning rule, segment and plan.

A validated, immutable config (pydantic). The Django side stores versions of it as JSON and
each snapshot records the version that produced it; :func:`default_policy` is the version
shipped in code. Nothing here imports Django.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .strategy import StrategyRules, strategy_problems

TIERS: tuple[str, ...] = ("core", "key", "ordinary", "low")
LIFECYCLE_STAGES: tuple[str, ...] = ("potential", "new", "active", "dormant", "lost")
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
CHANNELS = Literal["visit", "phone", "wechat", "email", "sms", "meeting"]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Weights(_Config):
    """Weights of the four sub-scores in the value score; they must sum to 1."""

    contribution: float = Field(0.35, ge=0, le=1)
    potential: float = Field(0.20, ge=0, le=1)
    loyalty: float = Field(0.20, ge=0, le=1)
    risk: float = Field(0.25, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> Weights:
        total = self.contribution + self.potential + self.loyalty + self.risk
        if abs(total - 1) > 1e-6:
            raise ValueError(f"must sum to 1 (got {total:.2f})")
        return self


class TierRules(_Config):
    """Tier cut-offs.

    ``absolute`` (the default): the minimum value score of core, key and ordinary. Absolute
    cut-offs keep a client's tier a function of its own data, so an incremental run agrees with
    a full run and a tier means the same thing next year. ``quantile``: the share of the book in
    core, key and ordinary, counted from the top (a fixed-size core team's capacity).
    """

    method: Literal["absolute", "quantile"] = "absolute"
    core: float = Field(62.0, ge=0)
    key: float = Field(50.0, ge=0)
    ordinary: float = Field(36.0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> TierRules:
        if self.method == "absolute":
            if not (100 >= self.core >= self.key >= self.ordinary >= 0):
                raise ValueError("absolute cut-offs must satisfy 100 ≥ core ≥ key ≥ ordinary ≥ 0")
        else:
            shares = (self.core, self.key, self.ordinary)
            if min(shares) <= 0 or sum(shares) >= 1:
                raise ValueError("quantile shares must each be > 0 and sum to less than 1")
        return self


class ContributionRules(_Config):
    """Historical contribution: income, balances and tenure, each saturating at a reference."""

    income_ref_cny: float = Field(1_000_000, gt=0)
    balance_ref_cny: float = Field(20_000_000, gt=0)
    tenure_ref_days: int = Field(1_825, gt=0)
    income_weight: float = Field(0.5, ge=0)
    balance_weight: float = Field(0.3, ge=0)
    tenure_weight: float = Field(0.2, ge=0)


DEFAULT_INDUSTRY_OUTLOOK = {
    "A": 0.5, "B": 0.35, "C": 0.6, "D": 0.65, "E": 0.35, "F": 0.5, "G": 0.55,
    "H": 0.4, "I": 0.8, "J": 0.5, "K": 0.2, "L": 0.55, "M": 0.8, "N": 0.6,
    "O": 0.45, "P": 0.5, "Q": 0.7, "R": 0.45, "S": 0.5, "T": 0.5,
}  # fmt: skip


class PotentialRules(_Config):
    """Potential value: growth, industry outlook, unused limit, predicted demand."""

    growth_ref: float = Field(0.30, gt=0)
    industry_outlook: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_INDUSTRY_OUTLOOK)
    )
    default_outlook: float = Field(0.5, ge=0, le=1)
    growth_weight: float = Field(0.35, ge=0)
    outlook_weight: float = Field(0.25, ge=0)
    headroom_weight: float = Field(0.20, ge=0)
    demand_weight: float = Field(0.20, ge=0)
    #: Predicted demand counts when the next need falls within this many days.
    demand_horizon_days: int = Field(180, gt=0)


class LoyaltyRules(_Config):
    """Loyalty: tenure, renewals, product count, share of wallet, responsiveness,
    satisfaction (the latest survey's 0–10 answer), event attendance."""

    tenure_ref_days: int = Field(1_825, gt=0)
    renewals_ref: int = Field(3, gt=0)
    products_ref: int = Field(3, gt=0)
    tenure_weight: float = Field(0.3, ge=0)
    renewals_weight: float = Field(0.25, ge=0)
    products_weight: float = Field(0.15, ge=0)
    wallet_weight: float = Field(0.1, ge=0)
    responsiveness_weight: float = Field(0.2, ge=0)
    satisfaction_weight: float = Field(0.15, ge=0)
    #: Share of the events a client was invited to (last 12 months) that it came to
    #: (``fincrm.events`` check-ins): a small weight, a sign of engagement rather than of
    #: value. A client never invited has no such input: its weight goes to the others, so a
    #: book without events scores exactly as before.
    events_weight: float = Field(0.05, ge=0)
    #: Clients it referred (``Customer.referred_by``) that became active, saturating at
    #: ``referrals_ref`` (``fincrm.evaluation.referrals``).
    referrals_ref: int = Field(3, gt=0)
    referrals_weight: float = Field(0.1, ge=0)
    #: A facility starting this many days before or after another's maturity renews it.
    renewal_before_days: int = Field(120, ge=0)
    renewal_after_days: int = Field(60, ge=0)
    #: Articles of the knowledge library read in the portal in the last 12 months
    #: (``fincrm.evaluation.knowledge_reads``), saturating at ``knowledge_reads_ref``: a small
    #: weight, engagement rather than value. A client without a portal login has no such
    #: input: its weight goes to the others.
    knowledge_reads_ref: int = Field(6, gt=0)
    knowledge_weight: float = Field(0.05, ge=0)


DEFAULT_GRADE_POINTS = {
    "AAA": 100.0, "AA": 92.0, "A": 84.0, "BBB": 74.0, "BB": 62.0, "B": 48.0, "CCC": 30.0, "C": 10.0,
}  # fmt: skip


class RiskRules(_Config):
    """Risk sub-score (higher = safer): grade points minus arrears and warning penalties."""

    grade_points: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_GRADE_POINTS))
    #: (days past due, penalty points): the penalty of the highest breakpoint reached.
    dpd_penalties: list[tuple[int, float]] = Field(
        default_factory=lambda: [(1, 10.0), (30, 25.0), (60, 40.0), (90, 60.0)]
    )
    warning_penalty: float = Field(5.0, ge=0)
    max_warning_penalty: float = Field(20.0, ge=0)
    #: Points off per open legal dispute (external checks: dishonest debtor, enforcement,
    #: litigation), capped; a client never checked takes none and is told so in its reasons.
    legal_dispute_penalty: float = Field(15.0, ge=0)
    max_legal_penalty: float = Field(45.0, ge=0)


class LifecycleRules(_Config):
    new_days: int = Field(180, gt=0)
    dormant_days: int = Field(180, gt=0)
    lost_days: int = Field(540, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> LifecycleRules:
        if self.lost_days <= self.dormant_days:
            raise ValueError("lost_days must be greater than dormant_days")
        return self


class SizeBand(_Config):
    code: str
    upper_cny: float | None = None


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
        default_factory=lambda: ["high", "critical"]
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


class Condition(_Config):
    field: str
    op: Literal[">=", ">", "<=", "<", "==", "!=", "in"]
    value: float | str | list[float | str]


class SegmentRule(_Config):
    """A client is in the segment when ALL conditions of ANY of ``any_of`` hold."""

    code: str
    name_zh: str
    name_en: str
    any_of: list[list[Condition]]


class Clustering(_Config):
    k: int = Field(5, ge=2, le=20)
    features: list[str] = Field(
        default_factory=lambda: [
            "revenue",
            "revenue_growth",
            "approved_limit",
            "balance",
            "tenure_days",
            "interactions_12m",
            "max_dpd_12m",
        ]
    )
    seed: int = 0


class ServicePlan(_Config):
    contact_every_days: int = Field(gt=0)
    priority_channel: CHANNELS
    green_channel: bool = False
    recommend_products: bool = True
    report_every_days: int | None = Field(None, gt=0)


SEVERITY = Literal["low", "medium", "high", "critical"]
TIER = Literal["core", "key", "ordinary", "low"]
OCCASIONS: tuple[str, ...] = (
    "birthday", "contact_birthday", "founding_anniversary",
    "new_year", "spring_festival", "dragon_boat", "mid_autumn", "national_day",
)  # fmt: skip
OCCASION = Literal[
    "birthday", "contact_birthday", "founding_anniversary",
    "new_year", "spring_festival", "dragon_boat", "mid_autumn", "national_day",
]  # fmt: skip


class SlaRule(_Config):
    """Response and resolution windows of a complaint or request of one severity."""

    respond_hours: float = Field(gt=0)
    resolve_hours: float = Field(gt=0)
    #: Count only working hours of working days (Chinese holidays and make-up days).
    business_days: bool = True

    @model_validator(mode="after")
    def _order(self) -> SlaRule:
        if self.resolve_hours < self.respond_hours:
            raise ValueError("resolve_hours must not be shorter than respond_hours")
        return self


def _sla() -> dict[str, SlaRule]:
    return {
        "low": SlaRule(respond_hours=16, resolve_hours=72),
        "medium": SlaRule(respond_hours=8, resolve_hours=40),
        "high": SlaRule(respond_hours=4, resolve_hours=16),
        "critical": SlaRule(respond_hours=2, resolve_hours=24, business_days=False),
    }


class ServiceRules(_Config):
    sla: dict[SEVERITY, SlaRule] = Field(default_factory=_sla)
    #: A ticket is "at risk" when less than this share of its window is left.
    at_risk_share: float = Field(0.2, gt=0, lt=1)
    #: Follow-up visits (回访): after a disbursement, after a complaint is closed, and this
    #: many days before a facility matures.
    follow_up_after_disbursement_days: int = Field(7, ge=0)
    follow_up_after_complaint_days: int = Field(3, ge=0)
    follow_up_before_maturity_days: int = Field(60, ge=1)


class SurveyRules(_Config):
    #: An answer at or below these opens a follow-up task for the account manager.
    low_nps: int = Field(6, ge=0, le=10)
    low_rating: int = Field(2, ge=1, le=5)
    #: Driver analysis below this many complete responses carries a warning.
    min_responses: int = Field(30, ge=5)
    annual_every_days: int = Field(365, gt=0)


class CarePlan(_Config):
    occasions: list[OCCASION]
    channel: CHANNELS
    #: Days ahead of the occasion the care task falls due.
    lead_days: int = Field(3, ge=0, le=60)
    gift: bool = False


def _care() -> dict[str, CarePlan]:
    everything = list(OCCASIONS)
    return {
        "core": CarePlan(occasions=everything, channel="visit", lead_days=7, gift=True),
        "key": CarePlan(occasions=["birthday", "contact_birthday", "founding_anniversary",
                                   "spring_festival", "mid_autumn"], channel="phone",
                        lead_days=5, gift=True),
        "ordinary": CarePlan(occasions=["birthday", "spring_festival", "mid_autumn"],
                             channel="wechat"),
        "low": CarePlan(occasions=["spring_festival"], channel="sms", lead_days=1),
    }  # fmt: skip


MESSAGE_CHANNEL = Literal["sms", "wechat", "email"]


def _caps() -> dict[str, dict[str, int]]:
    return {
        "core": {"sms": 4, "wechat": 6, "email": 6},
        "key": {"sms": 3, "wechat": 4, "email": 4},
        "ordinary": {"sms": 2, "wechat": 3, "email": 3},
        "low": {"sms": 1, "wechat": 2, "email": 2},
    }


class MessagingRules(_Config):
    """What protects clients from the lender's messages (``fincrm.messaging``)."""

    #: No SMS or WeChat message between these local hours (Asia/Shanghai) unless urgent.
    quiet_from_hour: int = Field(21, ge=0, le=23)
    quiet_until_hour: int = Field(8, ge=0, le=23)
    #: At most ``caps[tier][channel]`` messages that are not urgent per client and channel
    #: within ``cap_window_days``.
    cap_window_days: int = Field(7, gt=0, le=90)
    caps: dict[TIER, dict[MESSAGE_CHANNEL, int]] = Field(default_factory=_caps)


class Reward(_Config):
    code: str
    name_zh: str
    name_en: str
    points: int = Field(gt=0)


class MembershipLevel(_Config):
    code: str
    name_zh: str
    name_en: str
    min_points: int = Field(ge=0)
    #: The lowest value tier that may hold this level.
    min_tier: TIER = "low"


class LoyaltyProgram(_Config):
    earn: dict[
        Literal["on_time_repayment", "renewal", "referral", "survey_answered", "event_attendance"],
        int,
    ] = Field(
        default_factory=lambda: {
            "on_time_repayment": 10,
            "renewal": 500,
            "referral": 300,
            "survey_answered": 50,
            # Checked in at a forum, seminar, training day or client gathering (fincrm.events).
            "event_attendance": 100,
        }
    )
    #: Points expire this many months after they were earned (oldest used first).
    expiry_months: int = Field(24, ge=1)
    rewards: list[Reward] = Field(
        default_factory=lambda: [
            Reward(code="fee_discount_500", name_zh="手续费减免 500 元",
                   name_en="500 CNY fee discount", points=1000),
            Reward(code="fee_discount_2000", name_zh="手续费减免 2000 元",
                   name_en="2,000 CNY fee discount", points=3500),
            Reward(code="industry_report", name_zh="行业研究报告",
                   name_en="Industry research report", points=300),
            Reward(code="finance_training", name_zh="财务管理培训名额",
                   name_en="Seat at a finance training", points=800),
        ]
    )  # fmt: skip
    levels: list[MembershipLevel] = Field(
        default_factory=lambda: [
            MembershipLevel(code="standard", name_zh="普通会员", name_en="Standard", min_points=0),
            MembershipLevel(code="silver", name_zh="银卡会员", name_en="Silver", min_points=500,
                            min_tier="ordinary"),
            MembershipLevel(code="gold", name_zh="金卡会员", name_en="Gold", min_points=2000,
                            min_tier="key"),
            MembershipLevel(code="diamond", name_zh="钻石会员", name_en="Diamond",
                            min_points=5000, min_tier="core"),
        ]
    )  # fmt: skip

    @model_validator(mode="after")
    def _levels(self) -> LoyaltyProgram:
        if not self.levels or self.levels[0].min_points != 0:
            raise ValueError("levels: the first level must start at 0 points")
        if any(b.min_points <= a.min_points for a, b in pairwise(self.levels)):
            raise ValueError("levels: min_points must increase")
        codes = [r.code for r in self.rewards]
        if len(set(codes)) != len(codes):
            raise ValueError("rewards: codes must be unique")
        return self


class PredictionRules(_Config):
    """Lifetime value, churn, demand and recommendations (``fincrm predict``)."""

    #: Lifetime value: a transaction is a drawdown (a facility starting); its value the
    #: interest it earns over its tenor. Forecast horizon and discounting in weeks.
    clv_horizon_weeks: int = Field(104, gt=0, le=520)
    clv_discount_rate_annual: float = Field(0.10, ge=0, le=1)
    #: L2 penalty of the BG/NBD fit: books where few clients repeat need one to stay finite.
    clv_penalizer: float = Field(0.01, ge=0, le=10)
    #: The lender's cost of funds (% a year) netted from the margin still to come on running
    #: facilities and from the value of future drawdowns. None: the reference rate
    #: (``lending.base_rate_percent``, the one-year LPR) stands in for it.
    clv_funding_cost_percent: float | None = Field(None, ge=0, le=100)
    #: Churn: an active client that within this many days has no facility left, no new
    #: drawdown and no application.
    churn_horizon_days: int = Field(180, ge=30, le=730)
    #: A retention task for clients at or above this churn risk in these tiers.
    retention_min_probability: float = Field(0.5, gt=0, lt=1)
    retention_min_tier: TIER = "key"
    competitor_words: list[str] = Field(
        default_factory=lambda: ["他行", "其他银行", "别家", "竞争对手", "利率更低", "同业报价"]
    )
    #: Demand: the cycle assumed for a client with a single drawdown (and no industry cycle).
    default_cycle_days: int = Field(365, gt=0)
    #: Demand back-test: "draws within this many days" checked at past cut-offs this far
    #: apart; a kind of prediction is high (medium) confidence when at least this share of
    #: its past predictions came true.
    demand_window_days: int = Field(90, ge=7, le=365)
    demand_high_hit_rate: float = Field(0.6, ge=0, le=1)
    demand_medium_hit_rate: float = Field(0.3, ge=0, le=1)
    #: Recommendations: lowest grade eligible per product type, peers needed to cite them.
    product_min_grade: dict[str, str] = Field(
        default_factory=lambda: {
            "working_capital": "BB", "equipment_leasing": "BB", "factoring": "B",
            "supply_chain": "B", "project": "A", "bill_discounting": "BBB",
        }
    )  # fmt: skip
    min_peers: int = Field(10, ge=1)
    recommendations_per_client: int = Field(3, ge=1, le=10)


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


def _c(field: str, op: str, value) -> Condition:
    return Condition(field=field, op=op, value=value)


def _segments() -> list[SegmentRule]:
    return [
        SegmentRule(
            code="startup",
            name_zh="创业起步客户",
            name_en="Startup owners",
            any_of=[
                [_c("kind", "==", "company"), _c("company_age_years", "<", 3)],
                [_c("client_type", "==", "sme_owner"), _c("revenue", "<", 5_000_000)],
            ],
        ),
        SegmentRule(
            code="growing",
            name_zh="成长型企业",
            name_en="Growing entrepreneurs",
            any_of=[[_c("revenue_growth", ">=", 0.2), _c("company_age_years", "<", 10)]],
        ),
        SegmentRule(
            code="mature_investor",
            name_zh="成熟投资客户",
            name_en="Mature investors",
            any_of=[
                [_c("client_type", "==", "hnw")],
                [_c("company_age_years", ">=", 10), _c("revenue", ">=", 200_000_000)],
            ],
        ),
        SegmentRule(
            code="supply_chain_core",
            name_zh="供应链核心企业",
            name_en="Supply-chain anchors",
            any_of=[
                [
                    _c("client_type", "in", ["large", "institution"]),
                    _c("industry", "in", ["C", "F", "G"]),
                ]
            ],
        ),
        SegmentRule(
            code="watch",
            name_zh="高风险关注客户",
            name_en="Risk watch list",
            any_of=[[_c("max_dpd_12m", ">=", 30)], [_c("open_warnings", ">=", 2)]],
        ),
    ]


def _plans() -> dict[str, ServicePlan]:
    return {
        "core": ServicePlan(contact_every_days=14, priority_channel="visit", green_channel=True,
                            recommend_products=True, report_every_days=30),
        "key": ServicePlan(contact_every_days=30, priority_channel="phone",
                           recommend_products=True, report_every_days=90),
        "ordinary": ServicePlan(contact_every_days=90, priority_channel="wechat"),
        "low": ServicePlan(contact_every_days=180, priority_channel="sms",
                           recommend_products=False),
    }  # fmt: skip


class AuthorityRule(_Config):
    """A row of the approval authority table: an application inside its bounds is approved
    once every role listed has approved it (one role: a single approver; several: four eyes
    or a committee, each member's vote recorded)."""

    roles: list[Literal["lead", "risk", "exec", "admin"]] = Field(min_length=1)
    max_amount_cny: float | None = Field(None, gt=0)  # None: no upper bound
    worst_grade: str | None = None  # the worst grade it may approve; None: any grade
    product_types: list[str] = Field(default_factory=list)  # empty: every product type
    own_teams_only: bool = False  # a lead: clients of their own team and the teams below


class AutoApproval(_Config):
    """Fast decisions for small loans (小额快贷): an application inside these bounds is approved
    by the rule the moment it reaches credit review — no control breached, every document
    accepted, no open early warning — except a random ``sample_share`` of them, sent to a
    person anyway (the rule's own quality check). Everything else follows the authority
    table."""

    enabled: bool = True
    max_amount_cny: float = Field(300_000, gt=0)
    worst_grade: str = "A"
    product_types: list[str] = Field(default_factory=list)  # empty: every product type
    sample_share: float = Field(0.05, ge=0, le=1)


class DunningStep(_Config):
    days_past_due: int = Field(ge=1)
    step: Literal["sms", "call", "visit", "letter", "guarantor", "legal"]


def _authority() -> list[AuthorityRule]:
    return [
        AuthorityRule(roles=["lead"], max_amount_cny=1_000_000, worst_grade="BBB",
                      own_teams_only=True),
        AuthorityRule(roles=["risk"], max_amount_cny=10_000_000),
        AuthorityRule(roles=["risk", "exec"]),
    ]  # fmt: skip


class ExtensionLimit(_Config):
    """How long an extension (展期) of a loan of up to ``up_to_months`` original tenor may be,
    all its extensions counted together: at most ``max_share`` of the original tenor and at
    most ``max_months`` (either may be absent)."""

    up_to_months: int | None = Field(None, ge=1)  # None: any longer tenor
    max_share: float | None = Field(None, gt=0)
    max_months: int | None = Field(None, ge=1)


def _extension_limits() -> list[ExtensionLimit]:
    """中国人民银行《贷款通则》第十二条: a short-term loan (up to a year) may be extended by no
    more than its original tenor, a medium-term one (up to five years) by no more than half of
    it, a long-term one by no more than three years."""
    return [
        ExtensionLimit(up_to_months=12, max_share=1.0),
        ExtensionLimit(up_to_months=60, max_share=0.5),
        ExtensionLimit(max_months=36),
    ]


def _dunning() -> list[DunningStep]:
    steps = [(1, "sms"), (3, "call"), (15, "visit"), (30, "letter"), (60, "guarantor"),
             (90, "legal")]  # fmt: skip
    return [DunningStep(days_past_due=d, step=s) for d, s in steps]


class TenorPremium(_Config):
    up_to_months: int | None = Field(None, ge=1)  # None: any longer tenor
    premium_bp: int


def _tenor_premiums() -> list[TenorPremium]:
    """Up to a year: the one-year LPR prices it; beyond five years the five-year LPR does (in
    2025 50 bp above the one-year); the bands between step up to it."""
    bands = [(12, 0), (36, 10), (60, 25), (None, 50)]
    return [TenorPremium(up_to_months=m, premium_bp=bp) for m, bp in bands]


class PricingRules(_Config):
    """The offered rate (``fincrm.analytics.pricing.price``): the reference rate, plus the
    grade's spread, plus a tenor premium, plus a security adjustment, less the relationship's
    discounts; its floor is that rate less ``discretion_bp``. All in basis points a year.

    Defaults follow common practice of Chinese lenders to small firms: secured loans priced
    below unsecured ones (a mortgage most, receivables least), the arrangement fee waived for
    core clients and halved for key ones, and for seasonal trades (agriculture, accommodation
    and catering) quarterly instalments and interest-only months over the off-season.
    """

    tenor_premiums: list[TenorPremium] = Field(default_factory=_tenor_premiums)
    #: By guarantee type (negative: cheaper). A third-party guarantee is what the grade's
    #: spread already assumes for most grades, so it is priced at 0.
    guarantee_bp: dict[Literal["credit", "guarantee", "mortgage", "pledge", "receivables"], int] = (
        Field(
            default_factory=lambda: {
                "credit": 0,
                "guarantee": 0,
                "mortgage": -30,
                "pledge": -20,
                "receivables": -10,
            }
        )
    )
    #: Guarantee types whose adjustment scales with coverage (collateral value / amount,
    #: capped at 1): a mortgage worth 60 % of the loan earns 60 % of the mortgage's discount.
    collateral_types: list[Literal["mortgage", "pledge", "receivables"]] = Field(
        default_factory=lambda: ["mortgage", "pledge", "receivables"]
    )
    tier_discount_bp: dict[Literal["core", "key", "ordinary", "low"], int] = Field(
        default_factory=lambda: {"core": 20, "key": 10}
    )
    #: Years with us: this much per full year since the client came, at most the cap.
    discount_per_year_bp: int = Field(2, ge=0)
    max_years_discount_bp: int = Field(10, ge=0)
    #: What an account manager may concede below the rule's rate without an exception.
    discretion_bp: int = Field(10, ge=0)
    #: Share of the product's arrangement fee waived, by tier (1: waived).
    fee_waiver_share: dict[Literal["core", "key", "ordinary", "low"], float] = Field(
        default_factory=lambda: {"core": 1.0, "key": 0.5}
    )
    #: GB/T 4754 sections whose cash comes in seasons: offered quarterly instalments and up
    #: to ``seasonal_interest_only_months`` months paying interest only.
    seasonal_industries: list[str] = Field(default_factory=lambda: ["A", "H"])
    seasonal_frequencies: list[Literal["monthly", "quarterly"]] = Field(
        default_factory=lambda: ["monthly", "quarterly"]
    )
    seasonal_interest_only_months: int = Field(3, ge=0, le=12)

    @model_validator(mode="after")
    def _bands(self) -> PricingRules:
        bands = self.tenor_premiums
        if not bands or bands[-1].up_to_months is not None:
            raise ValueError("tenor_premiums: the last band must be open (no up_to_months)")
        if any(b.up_to_months is None or b.up_to_months <= a.up_to_months
               for a, b in pairwise(bands[:-1])):  # fmt: skip
            raise ValueError("tenor_premiums: up_to_months must increase")
        if any(not 0 <= share <= 1 for share in self.fee_waiver_share.values()):
            raise ValueError("fee_waiver_share: each share must be between 0 and 1")
        return self


def _evidence_kinds() -> dict[str, list[str]]:
    trade = ["invoice", "payee_contract", "bank_statement"]
    return {
        "working_capital": trade,
        "equipment_leasing": ["invoice", "payee_contract"],
        "factoring": ["invoice", "bank_statement"],
        "supply_chain": trade,
        "project": trade,
        "bill_discounting": ["invoice"],
    }


class UseOfFundsRules(_Config):
    """Evidence that the money went where the application said (贷后资金用途检查): the kinds
    asked for each product type and the days after disbursement to provide them. An item still
    unproven after its deadline, or a payee that does not fit, fires the early-warning rules
    on the signals ``funds_evidence_overdue`` and ``funds_payee_mismatch``."""

    evidence: dict[str, list[Literal["invoice", "payee_contract", "bank_statement"]]] = Field(
        default_factory=_evidence_kinds
    )
    deadline_days: int = Field(90, ge=1)


class CoverRules(_Config):
    """Guarantees and credit insurance: the owner's reminder this many days before one
    expires; a claim may be made against a facility in one of ``claimable_classes`` or
    written off."""

    expiry_reminder_days: int = Field(30, ge=1)
    claimable_classes: list[Literal["substandard", "doubtful", "loss"]] = Field(
        default_factory=lambda: ["substandard", "doubtful", "loss"]
    )


class LendingRules(_Config):
    """Origination, approval, booking and collections (credit policy, the risk committee's)."""

    use_of_funds: UseOfFundsRules = Field(default_factory=UseOfFundsRules)
    cover: CoverRules = Field(default_factory=CoverRules)

    #: The reference rate (one-year LPR, % a year): the first component of every quote.
    base_rate_percent: float = Field(3.0, ge=0)
    #: The offered rate and its floor from grade, tenor, security and relationship.
    pricing: PricingRules = Field(default_factory=PricingRules)
    approval_authority: list[AuthorityRule] = Field(default_factory=_authority)
    #: Whoever moved an application to credit review may not approve it.
    maker_checker: bool = True
    #: Roles that may approve despite a breached control, recording a reason.
    override_roles: list[Literal["lead", "risk", "exec", "admin"]] = Field(
        default_factory=lambda: ["risk"]
    )
    #: The green channel (tiers whose service plan grants it): stages it passes by, and the
    #: hours from submission to a decision.
    green_channel_skip_stages: list[Literal["documents", "due_diligence"]] = Field(
        default_factory=lambda: ["due_diligence"]
    )
    green_channel_decision_hours: int = Field(48, ge=1)
    #: One approval level fewer on the green channel: a rule of several approvers needs this
    #: many fewer (risk officer + executive → the risk officer), never fewer than one.
    green_channel_fewer_approvers: int = Field(1, ge=0)
    auto_approval: AutoApproval = Field(default_factory=AutoApproval)
    #: {year} and {seq} (the facility's sequence number that year): HT2026000123.
    contract_number_pattern: str = "HT{year}{seq:06d}"
    dunning: list[DunningStep] = Field(default_factory=_dunning)
    #: Below this many days past due the account manager works the arrears; from it the
    #: collections team (the members of ``collector_team``; risk officers when it is empty).
    collector_after_days: int = Field(30, ge=1)
    collector_team: str = "催收组"
    #: Days after a promised date before an unpaid promise counts as broken.
    promise_grace_days: int = Field(1, ge=0)
    #: Collection letters (催收函, 担保人通知函, 律师函): the lender that signs them and the days
    #: from a letter's date to the date by which it asks the arrears to be paid.
    lender_name: str = Field("示例融资服务有限公司", min_length=1, max_length=100)
    letter_pay_within_days: int = Field(7, ge=1)
    #: A good client's renewal application is opened this many days before maturity.
    renewal_days_before_maturity: int = Field(60, ge=1)
    renewal_worst_grade: str = "BBB"
    #: Extensions by original tenor: the first band that fits applies; the last is open.
    extension_limits: list[ExtensionLimit] = Field(default_factory=_extension_limits)

    @model_validator(mode="after")
    def _extension_bands(self) -> LendingRules:
        bands = self.extension_limits
        if not bands or bands[-1].up_to_months is not None:
            raise ValueError("extension_limits: the last band must be open (no up_to_months)")
        return self


class IncentiveMeasure(_Config):
    """One measure of the staff incentive scheme: its weight, the month's target and which way
    is better. Attainment is value / target (higher is better) or 2 − value / target (lower is
    better: on target 1, none at all 2), floored at 0 and capped by the scheme's ``cap``."""

    weight: float = Field(ge=0)
    target: float = Field(gt=0)
    lower_is_better: bool = False


def _incentive_measures() -> dict[str, IncentiveMeasure]:
    rows = {  # measure: (weight, monthly target, lower is better)
        "contacts": (0.20, 40, False),  # contacts made
        "nps": (0.10, 40, False),  # NPS of the manager's clients (points, −100..100)
        "csat": (0.10, 85, False),  # CSAT of the manager's clients (% satisfied)
        "new_facilities": (0.15, 2, False),  # facilities booked
        "new_amount": (0.15, 5_000_000, False),  # their approved limits (CNY)
        "dpd30_share": (0.20, 0.03, True),  # share of the book's balance 30+ days past due
        "complaints": (0.10, 1, True),  # complaints from the manager's clients
    }
    return {k: IncentiveMeasure(weight=w, target=t, lower_is_better=b)
            for k, (w, t, b) in rows.items()}  # fmt: skip


class StaffIncentive(_Config):
    """The monthly scorecard of account managers and leads (员工考核, issue 24 point 7): each
    measure against its target, capped at ``cap`` times, weighted; a measure without data for
    someone (no survey answered, no book) is left out and its weight shared among the rest."""

    measures: dict[
        Literal["contacts", "nps", "csat", "new_facilities", "new_amount", "dpd30_share",
                "complaints"],
        IncentiveMeasure,
    ] = Field(default_factory=_incentive_measures)  # fmt: skip
    cap: float = Field(1.2, ge=1, le=5)
    #: Days past due from which an instalment counts against asset quality.
    dpd_threshold_days: int = Field(30, ge=1)

    @model_validator(mode="after")
    def _some_weight(self) -> StaffIncentive:
        if not any(m.weight > 0 for m in self.measures.values()):
            raise ValueError("staff_incentive: at least one measure needs a weight above 0")
        return self


class StaffTraining(_Config):
    """Required courses: a certificate expiring within ``expiring_within_days`` is flagged."""

    expiring_within_days: int = Field(30, ge=0, le=365)


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
    signal_categories: list[
        Literal["dishonest", "enforcement", "litigation", "penalty", "registration", "shareholder"]
    ] = Field(default_factory=lambda: ["dishonest", "enforcement", "litigation", "penalty"])


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
    alert_routing: dict[
        Literal["low", "medium", "high", "critical"], Literal["owner", "team_lead", "risk_officer"]
    ] = Field(
        default_factory=lambda: {
            "low": "owner",
            "medium": "owner",
            "high": "team_lead",
            "critical": "risk_officer",
        }
    )
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
        if any(b <= a for a, b in pairwise(uppers[:-1])):
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
