"""Lending: approval authority, automatic approval, pricing, dunning, extensions, use of funds
and cover.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import Field, model_validator

from .base import TIER, _Config

ROLE = Literal["lead", "risk", "exec", "admin"]


class AuthorityRule(_Config):
    """A row of the approval authority table: an application inside its bounds is approved
    once every role listed has approved it (one role: a single approver; several: four eyes
    or a committee, each member's vote recorded)."""

    roles: list[ROLE] = Field(min_length=1)
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


GUARANTEE_TYPE = Literal["credit", "guarantee", "mortgage", "pledge", "receivables"]

COLLATERAL_TYPE = Literal["mortgage", "pledge", "receivables"]


def _guarantee_bp() -> dict[GUARANTEE_TYPE, int]:
    return {"credit": 0, "guarantee": 0, "mortgage": -30, "pledge": -20, "receivables": -10}


def _collateral_types() -> list[COLLATERAL_TYPE]:
    return ["mortgage", "pledge", "receivables"]


def _tier_discount_bp() -> dict[TIER, int]:
    return {"core": 20, "key": 10}


def _fee_waiver_share() -> dict[TIER, float]:
    return {"core": 1.0, "key": 0.5}


def _seasonal_frequencies() -> list[Literal["monthly", "quarterly"]]:
    return ["monthly", "quarterly"]


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
    guarantee_bp: dict[GUARANTEE_TYPE, int] = Field(default_factory=_guarantee_bp)
    #: Guarantee types whose adjustment scales with coverage (collateral value / amount,
    #: capped at 1): a mortgage worth 60 % of the loan earns 60 % of the mortgage's discount.
    collateral_types: list[COLLATERAL_TYPE] = Field(default_factory=_collateral_types)
    tier_discount_bp: dict[TIER, int] = Field(default_factory=_tier_discount_bp)
    #: Years with us: this much per full year since the client came, at most the cap.
    discount_per_year_bp: int = Field(2, ge=0)
    max_years_discount_bp: int = Field(10, ge=0)
    #: What an account manager may concede below the rule's rate without an exception.
    discretion_bp: int = Field(10, ge=0)
    #: Share of the product's arrangement fee waived, by tier (1: waived).
    fee_waiver_share: dict[TIER, float] = Field(default_factory=_fee_waiver_share)
    #: GB/T 4754 sections whose cash comes in seasons: offered quarterly instalments and up
    #: to ``seasonal_interest_only_months`` months paying interest only.
    seasonal_industries: list[str] = Field(default_factory=lambda: ["A", "H"])
    seasonal_frequencies: list[Literal["monthly", "quarterly"]] = Field(
        default_factory=_seasonal_frequencies
    )
    seasonal_interest_only_months: int = Field(3, ge=0, le=12)

    @model_validator(mode="after")
    def _bands(self) -> PricingRules:
        bands = self.tenor_premiums
        if not bands or bands[-1].up_to_months is not None:
            raise ValueError("tenor_premiums: the last band must be open (no up_to_months)")
        if any(a.up_to_months is None or b.up_to_months is None
               or b.up_to_months <= a.up_to_months
               for a, b in pairwise(bands[:-1])):  # fmt: skip
            raise ValueError("tenor_premiums: up_to_months must increase")
        if any(not 0 <= share <= 1 for share in self.fee_waiver_share.values()):
            raise ValueError("fee_waiver_share: each share must be between 0 and 1")
        return self


EVIDENCE_KIND = Literal["invoice", "payee_contract", "bank_statement"]


def _evidence_kinds() -> dict[str, list[EVIDENCE_KIND]]:
    trade: list[EVIDENCE_KIND] = ["invoice", "payee_contract", "bank_statement"]
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

    evidence: dict[str, list[EVIDENCE_KIND]] = Field(default_factory=_evidence_kinds)
    deadline_days: int = Field(90, ge=1)


def _claimable_classes() -> list[Literal["substandard", "doubtful", "loss"]]:
    return ["substandard", "doubtful", "loss"]


class CoverRules(_Config):
    """Guarantees and credit insurance: the owner's reminder this many days before one
    expires; a claim may be made against a facility in one of ``claimable_classes`` or
    written off."""

    expiry_reminder_days: int = Field(30, ge=1)
    claimable_classes: list[Literal["substandard", "doubtful", "loss"]] = Field(
        default_factory=_claimable_classes
    )


def _override_roles() -> list[ROLE]:
    return ["risk"]


def _green_channel_skip_stages() -> list[Literal["documents", "due_diligence"]]:
    return ["due_diligence"]


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
    override_roles: list[ROLE] = Field(default_factory=_override_roles)
    #: The green channel (tiers whose service plan grants it): stages it passes by, and the
    #: hours from submission to a decision.
    green_channel_skip_stages: list[Literal["documents", "due_diligence"]] = Field(
        default_factory=_green_channel_skip_stages
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
