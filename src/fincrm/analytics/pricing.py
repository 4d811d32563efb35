"""Risk- and relationship-based pricing: the rate offered to a client, built from components.

Every component is a whole number of basis points (1 bp = 0.01 % a year), so a quote reads as
a sum a person can check by hand::

    base rate (the one-year LPR)            300 bp
  + the grade's spread                       220 bp
  + tenor premium (the tenor's band)          10 bp
  + security (by guarantee type, collateral scaled by coverage)   −18 bp
  − tier discount (core, key)                 20 bp
  − years with us (per full year, capped)      6 bp
  = the offered rate                         486 bp = 4.86 %

The **floor** is the rule's rate less the discretion an account manager may concede on their
own (``PricingRules.discretion_bp``): a rate below it is a control breach at approval, which
only an approver allowed to override may accept, with a reason. The relationship discounts
are part of the rule, not discretion: a core client's discount is its due, so its floor is
lower too.

The quote also carries the arrangement fee after the tier's waiver and, for clients in
seasonal industries, the flexible repayment the rule allows (quarterly instalments,
interest-only months). Nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from .policy import PolicyConfig

#: The order components are listed in (and their codes, which the UI translates).
COMPONENTS: tuple[str, ...] = ("base", "grade_spread", "tenor", "security", "tier", "years")
#: Components the relationship earns (the rest price the risk and the money's cost).
RELATIONSHIP: frozenset[str] = frozenset({"tier", "years"})


@dataclass(frozen=True)
class QuoteInputs:
    """What a price depends on.

    Parameters
    ----------
    grade : the client's credit grade (a row of ``grade_controls``).
    tier : the client's value tier (core, key, ordinary, low) or None when not yet evaluated.
    amount : the amount asked for, CNY (> 0).
    tenor_months : months.
    guarantee_type : credit, guarantee, mortgage, pledge or receivables.
    collateral_value : CNY; coverage = collateral_value / amount.
    years_with_us : full years since the client came to us.
    industry : GB/T 4754 section (one letter).
    arrangement_fee_percent : the product's arrangement fee, % of the amount.
    """

    grade: str
    tier: str | None
    amount: float
    tenor_months: int
    guarantee_type: str = "credit"
    collateral_value: float = 0.0
    years_with_us: int = 0
    industry: str = ""
    arrangement_fee_percent: float = 0.0


@dataclass(frozen=True)
class Component:
    code: str
    bp: int
    #: What it was read from (a band, a coverage, a tier), for the explanation.
    basis: str = ""


@dataclass(frozen=True)
class Quote:
    """A priced offer. Rates in % a year, fees in % of the amount."""

    components: tuple[Component, ...]
    rate_bp: int
    floor_bp: int
    arrangement_fee_percent: float
    fee_waived_share: float
    seasonal: bool
    frequencies: tuple[str, ...]
    interest_only_months: int

    @property
    def rate_percent(self) -> Decimal:
        return Decimal(self.rate_bp) / 100

    @property
    def floor_percent(self) -> Decimal:
        return Decimal(self.floor_bp) / 100


_V = TypeVar("_V")


def _get(table: Mapping[Any, _V], key: str | None, default: _V) -> _V:
    """``table[key]``, else ``default``. The policy's tables are keyed by literal names (tier,
    guarantee type); the inputs carry plain strings, and an unknown or missing one (``None``)
    takes the default."""
    return table.get(key, default)


def _bp(value: float) -> int:
    """Whole basis points, halves away from zero (not banker's rounding: −12.5 bp is −13)."""
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def price(inputs: QuoteInputs, policy: PolicyConfig) -> Quote:
    """The offered rate, its components and its floor under ``policy``.

    Reads ``lending.base_rate_percent`` (the reference rate), the grade's
    ``pricing_spread_bp`` and ``lending.pricing`` (every other component). A ValueError when
    the grade has no controls row or the amount is not positive.
    """
    if inputs.grade not in policy.grade_controls:
        raise ValueError(f"no grade controls for grade {inputs.grade!r}")
    if inputs.amount <= 0:
        raise ValueError("amount must be positive")
    rules = policy.lending.pricing
    components = [
        Component("base", _bp(policy.lending.base_rate_percent * 100)),
        Component("grade_spread", policy.grade_controls[inputs.grade].pricing_spread_bp,
                  inputs.grade),
    ]  # fmt: skip
    band = next(b for b in rules.tenor_premiums
                if b.up_to_months is None or inputs.tenor_months <= b.up_to_months)  # fmt: skip
    components.append(
        Component("tenor", band.premium_bp, str(band.up_to_months or "")),
    )
    security_bp = _get(rules.guarantee_bp, inputs.guarantee_type, 0)
    basis = inputs.guarantee_type
    if inputs.guarantee_type in rules.collateral_types:
        coverage = min(inputs.collateral_value / inputs.amount, 1.0)
        security_bp = _bp(security_bp * round(coverage, 4))
        basis = f"{inputs.guarantee_type}:{coverage:.2f}"
    components.append(Component("security", security_bp, basis))
    tier_bp = _get(rules.tier_discount_bp, inputs.tier, 0)
    years_bp = min(max(inputs.years_with_us, 0) * rules.discount_per_year_bp,
                   rules.max_years_discount_bp)  # fmt: skip
    components.append(Component("tier", -tier_bp, inputs.tier or ""))
    components.append(Component("years", -years_bp, str(max(inputs.years_with_us, 0))))
    rate_bp = max(sum(c.bp for c in components), 0)
    waived = _get(rules.fee_waiver_share, inputs.tier, 0.0)
    seasonal = inputs.industry in rules.seasonal_industries
    return Quote(
        components=tuple(components),
        rate_bp=rate_bp,
        floor_bp=max(rate_bp - rules.discretion_bp, 0),
        arrangement_fee_percent=round(inputs.arrangement_fee_percent * (1 - waived), 4),
        fee_waived_share=waived,
        seasonal=seasonal,
        frequencies=tuple(rules.seasonal_frequencies) if seasonal else ("monthly",),
        interest_only_months=rules.seasonal_interest_only_months if seasonal else 0,
    )
