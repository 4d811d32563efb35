from math import log1p

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from fincrm.analytics.policy import PolicyConfig, default_policy
from fincrm.analytics.tiering import (
    REASON_TEXTS,
    TOP_REASONS,
    _components,
    _reasons,
    assign_tiers,
    demand_signal,
    lifecycle_stage,
    migration_matrix,
    renewal_counts,
    score_customers,
    tier_cutoffs,
)

POLICY = default_policy()


def client(**overrides) -> dict:
    row = {
        "customer_id": 1,
        "kind": "company",
        "client_type": "sme",
        "needs_level": "basic",
        "risk_appetite": "steady",
        "city_tier": "2",
        "industry": "C",
        "tenure_days": 0,
        "interest_income_12m": 0.0,
        "fee_income_12m": 0.0,
        "balance": 0.0,
        "approved_limit": 0.0,
        "revenue": None,
        "revenue_growth": None,
        "debt_to_asset": None,
        "current_ratio": None,
        "predicted_demand": None,
        "renewals": 0,
        "product_count": 0,
        "share_of_wallet": None,
        "interactions_12m": 0,
        "successful_interactions_12m": 0,
        "max_dpd_12m": 0,
        "current_dpd": 0,
        "open_warnings": 0,
        "credit_grade": None,
        "days_since_last_application": None,
        "days_since_last_transaction": None,
        "has_facility": False,
        "company_age_years": 5.0,
        "age_years": None,
    }
    row.update(overrides)
    return row


def frame(*rows) -> pl.DataFrame:
    return pl.DataFrame(list(rows), infer_schema_length=None)


def test_sub_scores_on_hand_computed_data():
    row = client(
        interest_income_12m=1_000_000.0,  # = income_ref: saturates at 1
        balance=0.0,
        tenure_days=365,
        approved_limit=10_000_000.0,
        has_facility=True,
        revenue_growth=0.15,
        renewals=3,
        product_count=1,
        interactions_12m=4,
        successful_interactions_12m=3,
        credit_grade="A",
        days_since_last_transaction=20,
    )
    out = score_customers(frame(row), POLICY).row(0, named=True)
    # contribution = 100·(0.5·1 + 0.3·0 + 0.2·365/1825) / 1.0 = 54
    assert out["contribution"] == pytest.approx(54.0)
    # potential = 100·(0.35·(0.5+0.15/0.6) + 0.25·0.6 + 0.20·1.0) / 0.80 (demand unknown)
    assert out["potential"] == pytest.approx(100 * (0.35 * 0.75 + 0.25 * 0.6 + 0.2) / 0.8)
    # loyalty = 100·(0.3·0.2 + 0.25·1 + 0.15·(1/3) + 0.2·0.75) / 0.9 (wallet unknown)
    assert out["loyalty"] == pytest.approx(100 * (0.06 + 0.25 + 0.05 + 0.15) / 0.9)
    assert out["risk"] == pytest.approx(84.0)  # grade A, no arrears, no warnings
    expected = 0.35 * 54 + 0.2 * out["potential"] + 0.2 * out["loyalty"] + 0.25 * 84
    assert out["value_score"] == pytest.approx(expected)
    assert out["grade"] == "A" and out["lifecycle"] == "active" and out["size_band"] == "medium"


def test_the_reasons_add_up_to_the_score_and_are_sorted():
    row = client(
        interest_income_12m=250_000.0,
        balance=3e6,
        approved_limit=5e6,
        tenure_days=900,
        has_facility=True,
        max_dpd_12m=35,
        open_warnings=1,
        days_since_last_transaction=3,
        credit_grade="BB",
        interactions_12m=2,
        successful_interactions_12m=1,
    )
    policy = POLICY.model_copy(update={})
    out = score_customers(frame(row), policy).row(0, named=True)
    reasons = out["reasons"]
    assert [abs(r["points"]) for r in reasons] == sorted(
        (abs(r["points"]) for r in reasons), reverse=True
    )
    assert all(r["code"] in REASON_TEXTS for r in reasons)
    assert any(r["code"] == "arrears" and r["points"] < 0 and r["value"] == 35 for r in reasons)
    # With every reason (not only the top five) the score is 50 + Σ points.
    import fincrm.analytics.tiering as tiering

    top, tiering.TOP_REASONS = tiering.TOP_REASONS, 50
    try:
        everything = score_customers(frame(row), policy).row(0, named=True)
    finally:
        tiering.TOP_REASONS = top
    assert 50 + sum(r["points"] for r in everything["reasons"]) == pytest.approx(
        out["value_score"], abs=0.05
    )


def test_income_saturates_logarithmically():
    low, high = score_customers(
        frame(
            client(customer_id=1, interest_income_12m=1e4),
            client(customer_id=2, interest_income_12m=1e8),
        ),
        POLICY,
    )["contribution"].to_list()
    assert low == pytest.approx(100 * 0.5 * log1p(1e4) / log1p(1e6))
    assert high == pytest.approx(50.0)


def test_the_expert_grade_moves_with_arrears_and_balance_sheet():
    rows = frame(
        client(customer_id=1, max_dpd_12m=0, debt_to_asset=0.3, current_ratio=2.0),
        client(customer_id=2, max_dpd_12m=0),
        client(customer_id=3, max_dpd_12m=0, debt_to_asset=0.9, current_ratio=0.8),
        client(customer_id=4, max_dpd_12m=95),
    )
    assert score_customers(rows, POLICY)["expert_grade"].to_list() == ["AA", "A", "BB", "C"]


def test_lifecycle_stages():
    rows = frame(
        client(customer_id=1),
        client(customer_id=2, days_since_last_application=900),
        client(customer_id=3, has_facility=True, tenure_days=30, days_since_last_transaction=30),
        client(customer_id=4, has_facility=True, tenure_days=800, days_since_last_transaction=30),
        client(customer_id=5, has_facility=True, tenure_days=800, days_since_last_transaction=300),
        client(customer_id=6, has_facility=True, tenure_days=900, days_since_last_transaction=600),
    )
    assert lifecycle_stage(rows, POLICY).to_list() == [
        "potential",
        "lost",
        "new",
        "active",
        "dormant",
        "lost",
    ]


def test_quantile_cutoffs_take_shares_from_the_top_and_ties_together():
    policy = PolicyConfig.model_validate(
        {"tiers": {"method": "quantile", "core": 0.1, "key": 0.2, "ordinary": 0.4}}
    )
    scores = np.arange(1, 11, dtype=float)  # 1..10
    cut = tier_cutoffs(scores, policy)
    assert cut == {"core": 10.0, "key": 8.0, "ordinary": 4.0}
    tiers = assign_tiers(scores, cut).to_list()
    assert tiers == ["low"] * 3 + ["ordinary"] * 4 + ["key"] * 2 + ["core"]
    tied = tier_cutoffs([5.0] * 10, policy)
    assert set(assign_tiers([5.0] * 10, tied).to_list()) == {"core"}


def test_the_migration_matrix_counts_moves_and_new_clients():
    before = pl.DataFrame({"customer_id": [1, 2, 3], "tier": ["core", "key", "low"]})
    after = pl.DataFrame({"customer_id": [1, 2, 3, 4], "tier": ["core", "core", "ordinary", "key"]})
    matrix = migration_matrix(before, after)
    rows = {r["from"]: r for r in matrix.iter_rows(named=True)}
    assert rows["core"]["core"] == 1 and rows["key"]["core"] == 1
    assert rows["low"]["ordinary"] == 1 and rows[None]["key"] == 1
    assert (
        matrix.height == 5
        and matrix.select(["core", "key", "ordinary", "low"]).sum_horizontal().sum() == 4
    )


scores = st.floats(0, 100, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(scores, min_size=1, max_size=40), st.integers(0, 39), st.floats(0, 50))
def test_tiers_are_monotone_in_the_value_score(values, index, bump):
    index %= len(values)
    for policy in (
        POLICY,
        PolicyConfig.model_validate(
            {"tiers": {"method": "quantile", "core": 0.1, "key": 0.2, "ordinary": 0.3}}
        ),
    ):
        cut = tier_cutoffs(values, policy)
        order = {"low": 0, "ordinary": 1, "key": 2, "core": 3}
        before = assign_tiers(values, cut).to_list()[index]
        raised = list(values)
        raised[index] = min(100.0, raised[index] + bump)
        after = assign_tiers(raised, cut).to_list()[index]
        assert order[after] >= order[before]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=4, max_size=4),
    st.integers(0, 3),
    st.floats(0, 5e6),
    st.integers(0, 2000),
    st.integers(0, 200),
)
def test_weights_summing_to_one_keep_scores_in_range_and_monotone(raw, which, income, tenure, dpd):
    total = sum(raw) or 1.0
    weights = [r / total for r in raw] if sum(raw) else [0.25] * 4
    weights[-1] = max(0.0, 1 - sum(weights[:-1]))  # exact sum; never -2e-16 from rounding
    keys = ["contribution", "potential", "loyalty", "risk"]
    policy = PolicyConfig.model_validate({"weights": dict(zip(keys, weights, strict=True))})
    base = client(
        interest_income_12m=income, tenure_days=tenure, max_dpd_12m=dpd, has_facility=True
    )
    better = dict(base, interest_income_12m=income * 2 + 1)
    out = score_customers(frame(base, dict(better, customer_id=2)), policy)
    assert out["value_score"].min() >= 0 and out["value_score"].max() <= 100
    for key in keys:
        assert out[key].min() >= 0 and out[key].max() <= 100
    # More income never lowers the value score: with any cut-offs, never a worse tier.
    assert out["value_score"][1] >= out["value_score"][0] - 1e-9


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 500), min_size=2, max_size=20, unique=True))
def test_scoring_a_subset_gives_the_same_rows_as_scoring_everything(dpds):
    rows = [
        client(
            customer_id=i,
            max_dpd_12m=d,
            interest_income_12m=float(d * 1000),
            has_facility=True,
            tenure_days=d,
        )
        for i, d in enumerate(dpds)
    ]
    full = score_customers(frame(*rows), POLICY).drop("reasons")
    part = score_customers(frame(*rows[::2]), POLICY).drop("reasons")
    same_rows = full.filter(pl.col("customer_id").is_in(part["customer_id"].to_list()))
    # Equal up to the last bit of floating-point summation order (snapshots keep 2 decimals).
    assert_frame_equal(part, same_rows, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)


def _reasons_long_form(scored: pl.DataFrame, components, risk_weight: float) -> pl.DataFrame:
    """The reasons as first written: one row per client and component, grouped and sorted
    (the reference the row-wise ``_reasons`` must reproduce exactly)."""
    raw = scored.with_columns(
        outlook=pl.lit(None, dtype=pl.Float64),
        headroom=pl.lit(None, dtype=pl.Float64),
        responsiveness=pl.lit(None, dtype=pl.Float64),
    )
    parts = []
    for i, (code, sub, column, _w, _e) in enumerate(components):
        value = (
            pl.col(f"_v{i}")
            if column in {"outlook", "headroom", "responsiveness"}
            else pl.col(column)
        )
        parts.append(
            raw.select(
                "customer_id",
                code=pl.lit(code),
                component=pl.lit(sub),
                value=value.cast(pl.Float64),
                points=pl.col(f"_p{i}"),
            )
        )
    for code, value, points in (
        ("credit_grade", pl.col("_grade_points"), risk_weight * (pl.col("_grade_points") - 50)),
        ("arrears", pl.col("max_dpd_12m").fill_null(0), -risk_weight * pl.col("_penalty")),
        ("open_warnings", pl.col("open_warnings").fill_null(0), -risk_weight * pl.col("_warnings")),
        ("legal_disputes", pl.col("open_legal_disputes"), -risk_weight * pl.col("_legal")),
    ):
        parts.append(
            raw.select(
                "customer_id",
                code=pl.lit(code),
                component=pl.lit("risk"),
                value=value.cast(pl.Float64),
                points=points,
            )
        )
    long = pl.concat(parts).filter(pl.col("points") != 0)
    long = long.group_by("customer_id", "code").agg(
        pl.col("component").first(), pl.col("value").first(), pl.col("points").sum()
    )
    return (
        long.with_columns(order=pl.col("points").abs())
        .sort(["customer_id", "order", "code"], descending=[False, True, False])
        .group_by("customer_id", maintain_order=True)
        .agg(
            reasons=pl.struct("code", "component", "value", points=pl.col("points").round(2)).head(
                TOP_REASONS
            )
        )
    )


@pytest.mark.parametrize("seed", range(5))
def test_reasons_are_the_long_form_ones_with_ties_zeros_nulls_and_nan(seed):
    rng = np.random.default_rng(seed)
    n = 2_000
    components = _components(POLICY)

    def draw(choices):  # few distinct values: many ties and zeros
        return rng.choice(np.array(choices, dtype=float), n)

    columns = {"customer_id": np.arange(n) * 7 + 3}
    for i, (_code, _sub, column, _w, _e) in enumerate(components):
        columns[f"_v{i}"] = draw([np.nan, 0.0, 0.25, 0.5, 1.0])
        columns[f"_p{i}"] = draw([0.0, 0.0, 0.0, 0.5, -0.5, 1.25, -1.25, 2.0, np.nan])
        if column not in {"outlook", "headroom", "responsiveness"}:
            columns[column] = draw([np.nan, 0.0, 3.0, 1200.0])
    for name in ("_grade_points", "_penalty", "_warnings", "max_dpd_12m", "open_warnings",
                 "_legal", "open_legal_disputes"):  # fmt: skip
        columns[name] = draw([0.0, 0.0, 10.0, 50.0, 62.5])
    columns["_grade_points"] = draw([50.0, 50.0, 20.0, 80.0, np.nan])
    quiet = rng.random(n) < 0.1  # clients nothing moved: no reasons at all
    for name in columns:
        if name.startswith("_p") or name in ("_penalty", "_warnings", "_legal"):
            columns[name] = np.where(quiet, 0.0, columns[name])
    columns["_grade_points"] = np.where(quiet, 50.0, columns["_grade_points"])
    # Clients only three inputs moved: fewer reasons than TOP_REASONS, however many
    # components the policy has (drawn after the others: their draws stay as they were).
    sparse = ~quiet & (rng.random(n) < 0.05)
    for name in [f"_p{i}" for i in range(3, len(components))] + ["_penalty", "_warnings", "_legal"]:
        columns[name] = np.where(sparse, 0.0, columns[name])
    columns["_grade_points"] = np.where(sparse, 50.0, columns["_grade_points"])
    # NaN stands for a null input: the frame carries both kinds.
    scored = pl.DataFrame(columns).with_columns(
        pl.col(c).fill_nan(None) for c in columns if c.startswith(("_v", "max_", "open_"))
    )
    risk_weight = POLICY.weights.risk

    expected = scored.select("customer_id").join(
        _reasons_long_form(scored, components, risk_weight), on="customer_id", how="left"
    )
    assert expected["reasons"].null_count() > 0
    assert (expected["reasons"].list.len() < TOP_REASONS).any()
    assert_frame_equal(_reasons(scored, components, risk_weight), expected)


def test_satisfaction_counts_in_loyalty_and_an_unknown_input_is_reported_with_its_weight():
    row = client(
        tenure_days=365,
        renewals=3,
        product_count=1,
        interactions_12m=4,
        successful_interactions_12m=3,
        last_nps=8.0,
    )
    out = score_customers(frame(row), POLICY).row(0, named=True)
    lo = POLICY.loyalty
    known = (
        lo.tenure_weight
        + lo.renewals_weight
        + lo.products_weight
        + lo.responsiveness_weight
        + lo.satisfaction_weight
    )
    expected = (
        lo.tenure_weight * 0.2
        + lo.renewals_weight * 1.0
        + lo.products_weight / 3
        + lo.responsiveness_weight * 0.75
        + lo.satisfaction_weight * 0.8
    )
    assert out["loyalty"] == pytest.approx(100 * expected / known)
    reasons = {r["code"]: r for r in out["reasons"]}
    # Share of wallet is unknown: reported, with the share of loyalty it would have had.
    wallet = reasons["missing_share_of_wallet"]
    total = known + lo.wallet_weight
    assert wallet["component"] == "loyalty" and wallet["points"] == 0
    assert wallet["value"] == pytest.approx(lo.wallet_weight / total)
    assert "missing_satisfaction" not in reasons and "missing_responsiveness" not in reasons
    # Revenue growth, headroom and demand are unknown too: each says so.
    assert {"missing_revenue_growth", "missing_unused_limit", "missing_predicted_demand"} <= set(
        reasons
    )
    # A frame without the satisfaction column: unknown for every client, reported.
    old = score_customers(frame(client()), POLICY).row(0, named=True)
    assert "missing_satisfaction" in {r["code"] for r in old["reasons"]}


def test_demand_counts_by_confidence_when_the_need_falls_within_the_horizon():
    needs = pl.DataFrame(
        {
            "days": [30, 200, -10, None, 100, 100],
            "confidence": ["high", "high", "medium", "", "low", "unknown"],
        }
    )
    signal = needs.select(
        demand_signal(pl.col("days"), pl.col("confidence"), horizon_days=180)
    ).to_series()
    assert signal.to_list() == [1.0, 0.0, 0.7, 0.0, 0.4, 0.0]


def test_a_renewal_is_a_facility_that_starts_around_the_maturity_of_an_earlier_one():
    from datetime import date

    d = date
    rows = [  # client, start, maturity
        (1, d(2023, 1, 1), d(2024, 1, 1)),
        (1, d(2023, 12, 1), d(2024, 12, 1)),
        (1, d(2024, 12, 20), d(2025, 12, 1)),
        (2, d(2023, 1, 1), d(2025, 1, 1)),
        (2, d(2023, 3, 1), d(2025, 3, 1)),
        (3, d(2024, 1, 1), d(2025, 1, 1)),
    ]
    facilities = pl.DataFrame(
        rows, schema=["customer_id", "start_date", "maturity_date"], orient="row"
    )
    counts = renewal_counts(facilities, before_days=120, after_days=60).sort("customer_id")
    # Client 1 renewed twice (a month before, then 19 days after, maturity); client 2 took a
    # second facility two months into the first (not a renewal); client 3 has one facility.
    assert counts.rows() == [(1, 2)]


def test_open_legal_disputes_cost_risk_points_capped_and_never_checked_is_named():
    # Grade A (84 points), no arrears, no alerts; disputes: never checked, 0, 2, 4.
    rows = [
        client(customer_id=i, credit_grade="A", open_legal_disputes=n)
        for i, n in enumerate([None, 0.0, 2.0, 4.0], start=1)
    ]
    out = {r["customer_id"]: r for r in score_customers(frame(*rows), POLICY).rows(named=True)}
    assert POLICY.risk.legal_dispute_penalty == 15 and POLICY.risk.max_legal_penalty == 45
    assert [out[i]["risk"] for i in (1, 2, 3, 4)] == [84.0, 84.0, 54.0, 39.0]  # 2×15; capped 45
    codes = {i: {r["code"]: r for r in out[i]["reasons"]} for i in out}
    assert "missing_legal_disputes" in codes[1] and "legal_disputes" not in codes[1]
    assert codes[1]["missing_legal_disputes"]["component"] == "risk"
    assert "missing_legal_disputes" not in codes[2] and "legal_disputes" not in codes[2]
    two = codes[3]["legal_disputes"]
    assert (two["value"], two["points"]) == (2.0, round(-POLICY.weights.risk * 30, 2))
    assert codes[4]["legal_disputes"]["points"] == round(-POLICY.weights.risk * 45, 2)
    # A frame without the column (a caller older than the input): unknown for everyone.
    old = score_customers(frame(client(credit_grade="A")), POLICY).row(0, named=True)
    assert old["risk"] == 84.0 and "missing_legal_disputes" in {r["code"] for r in old["reasons"]}
