"""Renewals at maturity, the industry's cycle and season, and the back-test that gives the
confidence levels their meaning (issue 21, point 7)."""

from datetime import date, timedelta

import polars as pl
import pytest

from fincrm.analytics.demand import (
    BACKTEST_SCHEMA,
    REASON_TEXTS,
    apply_confidence,
    backtest_demand,
    calibrate_confidence,
    hit_rates,
    predict_demand,
)

DRAWS = {"customer_id": pl.Int64, "drawn_on": pl.Date, "amount": pl.Float64}
FACILITIES = {"customer_id": pl.Int64, "start_date": pl.Date, "maturity_date": pl.Date}


def frame(rows, schema):
    return pl.DataFrame(rows, schema=schema, orient="row")


def one(pred: pl.DataFrame, customer_id: int) -> dict:
    return pred.filter(pl.col("customer_id") == customer_id).row(0, named=True)


def test_a_single_drawdown_with_a_running_facility_is_due_at_its_maturity():
    draws = frame([(1, date(2022, 3, 1), 5e6)], DRAWS)
    facilities = frame([(1, date(2022, 3, 1), date(2026, 3, 1))], FACILITIES)

    row = one(predict_demand(draws, as_of=date(2026, 1, 10), facilities=facilities), 1)

    # Without the facility: lapsed (idle 1,411 days > 2 × 365). With it: renewal at maturity.
    assert row["expected_next_date"] == date(2026, 3, 1) and row["days_until"] == 50
    assert row["reason"] == "maturity" and row["confidence"] == "medium"
    assert row["active"] is True and row["missed_cycles"] == 0
    assert "{" not in REASON_TEXTS["maturity"]


def test_a_clockwork_client_keeps_its_own_sooner_cycle_before_a_later_maturity():
    draws = frame([(2, date(2025, 1, 1) + timedelta(days=90 * i), 1e6) for i in range(4)], DRAWS)
    facilities = frame([(2, date(2025, 9, 28), date(2026, 9, 28))], FACILITIES)

    row = one(predict_demand(draws, as_of=date(2025, 10, 1), facilities=facilities), 2)

    assert row["reason"] == "regular_interval" and row["confidence"] == "high"
    assert row["expected_next_date"] == date(2025, 12, 27)  # 28 Sep + 90 days


def test_a_maturity_before_as_of_or_a_facility_drawn_after_it_is_not_running():
    draws = frame([(3, date(2024, 1, 1), 1e6)], DRAWS)
    facilities = frame(
        [(3, date(2024, 1, 1), date(2024, 12, 31)), (3, date(2025, 2, 1), date(2026, 2, 1))],
        FACILITIES,
    )

    row = one(predict_demand(draws, as_of=date(2025, 1, 15), facilities=facilities), 3)

    assert row["reason"] == "single_drawdown" and row["expected_next_date"] == date(2025, 12, 31)


def industry_book():
    """Industry C: clients 10-19 draw three times 100 and 120 days apart (20 intervals, median
    110); client 30 (industry C) and 31 (industry F, no history) drew once."""
    rows = []
    for c in range(10, 20):
        start = date(2023, 1, 5)
        rows += [(c, start, 1e6), (c, start + timedelta(days=100), 1e6),
                 (c, start + timedelta(days=220), 1e6)]  # fmt: skip
    rows += [(30, date(2024, 6, 1), 2e6), (31, date(2024, 6, 1), 3e6)]
    industries = pl.DataFrame({"customer_id": [*range(10, 20), 30, 31],
                               "industry": ["C"] * 11 + ["F"]})  # fmt: skip
    return frame(rows, DRAWS), industries


def test_a_single_drawdown_takes_its_industrys_median_cycle():
    draws, industries = industry_book()

    pred = predict_demand(draws, as_of=date(2024, 7, 1), industries=industries,
                          min_industry_drawdowns=1000)  # fmt: skip

    c = one(pred, 30)
    assert c["reason"] == "industry_cycle" and c["cycle_days"] == 110
    assert c["expected_next_date"] == date(2024, 9, 19)  # 1 June + 110 days
    f = one(pred, 31)  # industry F has no intervals: the default cycle
    assert f["reason"] == "single_drawdown" and f["cycle_days"] == 365
    # Below min_industry_intervals, no industry cycle.
    fewer = predict_demand(draws, as_of=date(2024, 7, 1), industries=industries,
                           min_industry_intervals=21, min_industry_drawdowns=1000)  # fmt: skip
    assert one(fewer, 30)["reason"] == "single_drawdown"


def test_a_single_drawdown_is_due_in_its_industrys_peak_month_when_it_comes_sooner():
    draws, industries = industry_book()
    # Industry C's 31 drawdowns: 10 on 5 Jan, 10 on 15 Apr, 10 on 13 Aug, 1 on 1 Jun. A ratio
    # of 3.8 needs 3.8 × 31 / 12 = 9.8 in a month: January, April and August qualify, the
    # earliest (January) is the peak; a ratio of 4.0 needs 10.3: none does.
    pred = predict_demand(draws, as_of=date(2024, 7, 1), industries=industries,
                          industry_peak_ratio=3.8, min_industry_drawdowns=30)  # fmt: skip
    c = one(pred, 30)
    # The industry cycle says 19 Sep 2024; January's peak (day 5) is later: the cycle stays.
    assert c["reason"] == "industry_cycle"

    later = predict_demand(draws, as_of=date(2024, 12, 20), industries=industries,
                           industry_peak_ratio=3.8, min_industry_drawdowns=30)  # fmt: skip
    c = one(later, 30)
    # Idle 202 days < 2 × 110: still active; the cycle date rolls to 7 Jan 2025 (one cycle
    # missed), the peak month's 5 Jan 2025 comes sooner.
    assert c["reason"] == "industry_season" and c["expected_next_date"] == date(2025, 1, 5)
    assert c["seasonal_month"] == 1 and c["confidence"] == "low"
    assert one(later, 31)["reason"] != "industry_season"  # industry F: no season
    none = predict_demand(draws, as_of=date(2024, 12, 20), industries=industries,
                          industry_peak_ratio=4.0, min_industry_drawdowns=30)  # fmt: skip
    assert one(none, 30)["reason"] == "industry_cycle"


def backtest_book():
    """Cut-off 1 Jan 2025, window 90 days. Client 1: monthly like clockwork (expected, drew);
    client 2: facility maturing 1 Mar 2025 (expected, drew 5 Mar); client 3: facility
    maturing 1 Feb 2025 (expected, did not draw); client 4: drew once in 2024, idle (not
    expected: due 2025-07; drew anyway on 10 Feb)."""
    rows = [(1, date(2024, 9, 1) + timedelta(days=30 * i), 1e5) for i in range(5)]
    rows += [(1, date(2025, 1, 29), 1e5)]
    rows += [(2, date(2024, 3, 1), 1e6), (2, date(2025, 3, 5), 1e6)]
    rows += [(3, date(2024, 2, 1), 1e6)]
    rows += [(4, date(2024, 7, 1), 1e6), (4, date(2025, 2, 10), 1e6)]
    facilities = frame(
        [(2, date(2024, 3, 1), date(2025, 3, 1)), (3, date(2024, 2, 1), date(2025, 2, 1))],
        FACILITIES,
    )
    return frame(rows, DRAWS), facilities


def test_the_back_test_records_what_was_expected_and_what_happened():
    draws, facilities = backtest_book()

    tested = backtest_demand(draws, cutoffs=[date(2025, 1, 1)], window_days=90,
                             facilities=facilities)  # fmt: skip

    assert tested.schema == pl.Schema(BACKTEST_SCHEMA)
    rows = {r["customer_id"]: r for r in tested.iter_rows(named=True)}
    assert (rows[1]["reason"], rows[1]["rule_confidence"]) == ("regular_interval", "high")
    assert (rows[1]["expected"], rows[1]["drew"]) == (True, True)
    assert (rows[2]["reason"], rows[2]["expected"], rows[2]["drew"]) == ("maturity", True, True)
    assert (rows[3]["reason"], rows[3]["expected"], rows[3]["drew"]) == ("maturity", True, False)
    assert (rows[4]["expected"], rows[4]["drew"]) == (False, True)
    # The history after the cut-off is unseen: client 1's 29 Jan drawdown did not move it.
    assert len(rows) == 4


def test_hit_rates_per_level_and_the_base_rate_of_the_others():
    draws, facilities = backtest_book()
    tested = backtest_demand(draws, cutoffs=[date(2025, 1, 1)], window_days=90,
                             facilities=facilities)  # fmt: skip

    rates = hit_rates(tested)

    assert rates.rows() == [("high", 1, 1, 1.0), ("medium", 2, 1, 0.5), (None, 1, 1, 1.0)]


def test_levels_are_earned_by_the_share_that_came_true():
    def rows(reason, rule, hits, misses, cutoff=date(2025, 1, 1)):
        return [(cutoff, i, reason, rule, True, i < hits) for i in range(hits + misses)]

    tested = pl.DataFrame(
        rows("maturity", "medium", 7, 3) + rows("regular_interval", "high", 2, 8)
        + rows("seasonal", "medium", 4, 6) + rows("lapsed", "low", 1, 1),
        schema=BACKTEST_SCHEMA, orient="row",
    )  # fmt: skip

    calibration = calibrate_confidence(tested, high_hit_rate=0.6, medium_hit_rate=0.3,
                                       min_predictions=5)  # fmt: skip

    assert calibration.select("reason", "hit_rate", "confidence").rows() == [
        ("lapsed", 0.5, "low"),  # 2 predictions < 5: keeps its rule level
        ("maturity", 0.7, "high"),
        ("regular_interval", 0.2, "low"),
        ("seasonal", 0.4, "medium"),
    ]
    pred = pl.DataFrame({"customer_id": [1, 2, 3], "reason": ["maturity", "seasonal", "x"],
                         "confidence": ["medium", "medium", "high"]})  # fmt: skip
    assert apply_confidence(pred, calibration)["confidence"].to_list() == [
        "high", "medium", "high",
    ]  # fmt: skip
    with pytest.raises(ValueError):
        calibrate_confidence(tested, high_hit_rate=0.2, medium_hit_rate=0.3)
