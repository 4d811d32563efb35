"""The pricing rule on hand-computed quotes (bp = 0.01 % a year)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fincrm.analytics.policy import PolicyConfig, default_policy, policy_errors
from fincrm.analytics.pricing import QuoteInputs, price

POLICY = default_policy()


def _bps(quote) -> dict[str, int]:
    return {c.code: c.bp for c in quote.components}


def test_an_ordinary_client_pays_the_reference_rate_plus_the_grades_spread():
    quote = price(QuoteInputs(grade="BBB", tier="ordinary", amount=800_000, tenor_months=12,
                              guarantee_type="guarantee"), POLICY)  # fmt: skip
    # 300 + 220 + 0 (≤ 12 months) + 0 (a guarantee) − 0 − 0 = 520 bp; floor 520 − 10.
    assert _bps(quote) == {"base": 300, "grade_spread": 220, "tenor": 0, "security": 0,
                           "tier": 0, "years": 0}  # fmt: skip
    assert quote.rate_percent == Decimal("5.2") and quote.floor_percent == Decimal("5.1")
    assert quote.seasonal is False and quote.interest_only_months == 0


def test_a_core_farm_with_a_part_mortgage_gets_every_component():
    quote = price(
        QuoteInputs(grade="BBB", tier="core", amount=1_000_000, tenor_months=24,
                    guarantee_type="mortgage", collateral_value=600_000, years_with_us=3,
                    industry="A", arrangement_fee_percent=1.0),
        POLICY,
    )  # fmt: skip
    # 300 + 220 + 10 (13–36 months) − 30 × 0.6 (coverage) − 20 (core) − 3 × 2 (years) = 486.
    assert _bps(quote) == {"base": 300, "grade_spread": 220, "tenor": 10, "security": -18,
                           "tier": -20, "years": -6}  # fmt: skip
    assert (quote.rate_bp, quote.floor_bp) == (486, 476)
    assert quote.arrangement_fee_percent == 0.0 and quote.fee_waived_share == 1.0
    assert quote.seasonal and quote.frequencies == ("monthly", "quarterly")
    assert quote.interest_only_months == 3


@pytest.mark.parametrize(
    ("tenor", "premium"), [(12, 0), (13, 10), (36, 10), (37, 25), (60, 25), (61, 50), (120, 50)]
)
def test_the_tenor_premium_by_band(tenor, premium):
    quote = price(QuoteInputs(grade="A", tier=None, amount=1e6, tenor_months=tenor), POLICY)
    assert _bps(quote)["tenor"] == premium


@pytest.mark.parametrize(
    ("kind", "collateral", "bp"),
    [
        ("credit", 0, 0),
        ("guarantee", 0, 0),
        ("mortgage", 0, 0),  # no collateral valued yet: no discount
        ("mortgage", 250_000, -8),  # −30 × 0.25 = −7.5, halves away from zero
        ("mortgage", 2_000_000, -30),  # coverage capped at 1
        ("pledge", 500_000, -10),
        ("receivables", 1_000_000, -10),
    ],
)
def test_the_security_adjustment_by_type_and_coverage(kind, collateral, bp):
    inputs = QuoteInputs(grade="A", tier=None, amount=1_000_000, tenor_months=12,
                         guarantee_type=kind, collateral_value=collateral)  # fmt: skip
    assert _bps(price(inputs, POLICY))["security"] == bp


def test_a_key_client_of_eight_years_the_years_discount_capped_and_the_fee_halved():
    inputs = QuoteInputs(grade="AA", tier="key", amount=500_000, tenor_months=48,
                         years_with_us=8, industry="C", arrangement_fee_percent=1.5)  # fmt: skip
    quote = price(inputs, POLICY)
    # 300 + 110 + 25 (37–60 months) + 0 − 10 (key) − min(8 × 2, 10) = 415 bp.
    assert quote.rate_bp == 415 and _bps(quote)["years"] == -10
    assert quote.arrangement_fee_percent == 0.75 and not quote.seasonal


def test_the_rule_is_policy_data():
    data = default_policy().model_dump()
    data["lending"]["base_rate_percent"] = 3.1
    data["lending"]["pricing"]["tier_discount_bp"] = {"core": 40}
    data["lending"]["pricing"]["discretion_bp"] = 0
    policy = PolicyConfig.model_validate(data)
    quote = price(QuoteInputs(grade="BBB", tier="core", amount=1e6, tenor_months=12), policy)
    assert (quote.rate_bp, quote.floor_bp) == (310 + 220 - 40, 490)


def test_bad_pricing_rules_are_named():
    data = default_policy().model_dump()
    data["lending"]["pricing"]["tenor_premiums"] = [{"up_to_months": 12, "premium_bp": 0}]
    data["lending"]["pricing"]["fee_waiver_share"] = {"core": 1.5}
    assert any("tenor_premiums" in e for e in policy_errors(data))


def test_an_ungraded_client_or_no_amount_cannot_be_priced():
    with pytest.raises(ValueError, match="grade"):
        price(QuoteInputs(grade="ZZ", tier=None, amount=1, tenor_months=12), POLICY)
    with pytest.raises(ValueError, match="amount"):
        price(QuoteInputs(grade="A", tier=None, amount=0, tenor_months=12), POLICY)
