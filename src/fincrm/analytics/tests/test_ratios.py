from datetime import date

import polars as pl
import pytest

from fincrm.analytics.ratios import (
    RATIOS,
    STATEMENT_LINES,
    compute_ratios,
    industry_medians,
    latest_ratios,
    ratio_changes,
)


def statement(customer_id=1, year=2025, **values):
    base = dict(
        revenue=100.0,
        cost=70.0,
        net_profit=10.0,
        total_assets=200.0,
        total_liabilities=120.0,
        current_assets=80.0,
        current_liabilities=40.0,
        inventory=20.0,
        receivables=25.0,
        operating_cash_flow=12.0,
        interest_expense=5.0,
    )
    base.update(values)
    return {"customer_id": customer_id, "period_end": date(year, 12, 31), **base}


def frame(*rows):
    return pl.DataFrame(
        list(rows),
        schema={
            "customer_id": pl.Int64,
            "period_end": pl.Date,
            **dict.fromkeys(STATEMENT_LINES, pl.Float64),
        },
    )


def test_every_ratio_on_hand_computed_data():
    out = compute_ratios(
        frame(
            statement(
                year=2024, revenue=80.0, total_assets=180.0, receivables=15.0, inventory=10.0
            ),
            statement(),
        )
    )
    latest = out.filter(pl.col("period_end") == date(2025, 12, 31)).row(0, named=True)
    assert latest["current_ratio"] == pytest.approx(2.0)
    assert latest["quick_ratio"] == pytest.approx(1.5)
    assert latest["debt_to_asset"] == pytest.approx(0.6)
    assert latest["interest_coverage"] == pytest.approx(3.0)
    assert latest["net_margin"] == pytest.approx(0.1)
    assert latest["roa"] == pytest.approx(10 / 190)
    assert latest["revenue_growth"] == pytest.approx(0.25)
    assert latest["ocf_to_debt"] == pytest.approx(0.1)
    assert latest["receivable_turnover"] == pytest.approx(100 / 20)
    assert latest["inventory_turnover"] == pytest.approx(70 / 15)
    first = out.filter(pl.col("period_end") == date(2024, 12, 31)).row(0, named=True)
    assert first["revenue_growth"] is None  # no earlier period
    assert first["roa"] == pytest.approx(10 / 180)


@pytest.mark.parametrize(
    ("field", "value", "nulls"),
    [
        ("current_liabilities", 0.0, {"current_ratio", "quick_ratio"}),
        ("interest_expense", 0.0, {"interest_coverage"}),
        ("revenue", 0.0, {"net_margin"}),
        ("total_assets", -5.0, {"debt_to_asset", "roa"}),
        ("total_liabilities", None, {"debt_to_asset", "ocf_to_debt"}),
        ("inventory", 0.0, {"inventory_turnover"}),
        ("receivables", None, {"receivable_turnover"}),
    ],
)
def test_zero_negative_or_missing_denominators_give_null_never_inf(field, value, nulls):
    out = compute_ratios(frame(statement(**{field: value}))).row(0, named=True)
    for ratio in RATIOS:
        v = out[ratio]
        assert v is None or (v == v and abs(v) != float("inf")), (ratio, v)
    assert {r for r in nulls if out[r] is None} == nulls


def test_growth_after_a_zero_revenue_year_is_null():
    out = compute_ratios(frame(statement(year=2024, revenue=0.0), statement()))
    assert out["revenue_growth"].to_list() == [None, None]


def test_latest_ratios_and_industry_medians():
    ratios = compute_ratios(
        frame(
            statement(1, 2024, current_assets=40.0),
            statement(1, 2025, current_assets=60.0),
            statement(2, 2025, current_assets=100.0),
            statement(3, 2025, current_assets=20.0),
        )
    )
    latest = latest_ratios(ratios).sort("customer_id")
    assert latest["current_ratio"].to_list() == [1.5, 2.5, 0.5]
    industry = pl.DataFrame({"customer_id": [1, 2, 3], "industry": ["C", "C", "F"]})
    medians = industry_medians(ratios, industry)
    assert medians.filter(pl.col("industry") == "C")["current_ratio"][0] == pytest.approx(2.0)


def test_changes_between_the_last_two_statements():
    changes = ratio_changes(
        frame(
            statement(1, 2024, revenue=100.0, operating_cash_flow=20.0),
            statement(1, 2025, revenue=60.0, operating_cash_flow=5.0),
            statement(2, 2025),
        )
    )
    rows = {r["customer_id"]: r for r in changes.iter_rows(named=True)}
    assert rows[1]["revenue_change"] == pytest.approx(-0.4)
    assert rows[1]["ocf_change"] == pytest.approx(-0.75)
    assert rows[2]["revenue_change"] is None
