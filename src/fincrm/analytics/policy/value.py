"""Value scoring, tiers, lifecycle, size bands, segments, clusters and predictions."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import TIER, _Config


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
