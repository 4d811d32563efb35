import re
from datetime import date, timedelta

import polars as pl
import pytest

from fincrm.analytics.demand import (
    BAD_HORIZONS,
    BAD_PARAM,
    MISSING_COLUMNS,
    NON_POSITIVE_AMOUNTS,
    NULL_VALUES,
    PREDICTION_SCHEMA,
    REASON_TEXTS,
    due_within,
    predict_demand,
)


def history(*rows: tuple[int, date, float]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"customer_id": pl.Int64, "drawn_on": pl.Date, "amount": pl.Float64},
        orient="row",
    )


def every(customer_id: int, start: date, days: int, amounts: list[float]) -> list:
    return [(customer_id, start + timedelta(days=i * days), a) for i, a in enumerate(amounts)]


def one(frame: pl.DataFrame, customer_id: int = 1) -> dict:
    return frame.filter(pl.col("customer_id") == customer_id).row(0, named=True)


def test_a_client_drawing_every_90_days_is_due_90_days_after_the_last_drawdown():
    drawdowns = history(*every(1, date(2024, 1, 1), 90, [100.0, 200.0, 300.0, 400.0]))
    as_of = date(2024, 10, 15)

    row = one(predict_demand(drawdowns, as_of=as_of))

    assert row["last_drawn_on"] == date(2024, 9, 27)
    assert row["expected_next_date"] == date(2024, 12, 26)  # 27 Sep + 90 days
    assert row["median_interval_days"] == 90.0 and row["cycle_days"] == 90
    assert row["interval_cv"] == 0.0 and row["confidence"] == "high"
    assert row["days_until"] == 72 and row["days_since_last"] == 18
    assert row["expected_amount"] == 300.0  # median of the last three: 200, 300, 400
    assert row["reason"] == "regular_interval" and row["active"] is True
    assert row["missed_cycles"] == 0 and row["seasonal_month"] is None


def test_a_client_drawing_every_march_is_due_next_march_on_their_usual_day():
    drawdowns = history(
        (7, date(2022, 3, 15), 1e6), (7, date(2023, 3, 15), 1.2e6), (7, date(2024, 3, 15), 1.1e6)
    )

    row = one(predict_demand(drawdowns, as_of=date(2024, 11, 1)), 7)

    # Intervals 365 and 366 (leap year): a 366-day cycle would say 16 March; the season says 15.
    assert row["cycle_days"] == 366
    assert row["expected_next_date"] == date(2025, 3, 15)
    assert (row["seasonal_month"], row["seasonal_years"]) == (3, 3)
    assert row["reason"] == "seasonal" and row["confidence"] == "high"
    assert row["expected_amount"] == 1.1e6


def test_an_irregular_client_with_a_seasonal_month_is_due_in_that_month():
    drawdowns = history(
        (1, date(2023, 3, 10), 50.0), (1, date(2024, 3, 8), 70.0), (1, date(2024, 5, 20), 60.0)
    )
    as_of = date(2025, 1, 15)

    row = one(predict_demand(drawdowns, as_of=as_of))

    # Intervals 364 and 73: median 218.5 → 219-day cycle, CV 145.5 / 218.5 → low.
    assert row["median_interval_days"] == 218.5 and row["cycle_days"] == 219
    assert row["interval_cv"] == pytest.approx(145.5 / 218.5)
    # The interval date (25 Dec 2024, rolled to 1 Aug 2025) loses to March, on day 9
    # (median of the 10th and the 8th).
    assert row["expected_next_date"] == date(2025, 3, 9)
    assert row["reason"] == "seasonal" and row["confidence"] == "medium"
    assert row["seasonal_month"] == 3 and row["seasonal_years"] == 2
    assert row["missed_cycles"] == 0 and row["days_until"] == 53


def test_a_late_but_active_client_is_rolled_forward_by_whole_cycles():
    drawdowns = history(*every(1, date(2024, 1, 1), 30, [10.0, 10.0, 10.0]))
    row = one(predict_demand(drawdowns, as_of=date(2024, 4, 15)))

    # Due 31 March, missed: one more cycle gives 30 April, with one level less confidence.
    assert row["expected_next_date"] == date(2024, 4, 30)
    assert row["missed_cycles"] == 1 and row["confidence"] == "medium"
    assert row["active"] is True and row["reason"] == "regular_interval"

    # Due exactly on as_of is not late.
    on_time = one(predict_demand(drawdowns, as_of=date(2024, 3, 31)))
    assert on_time["expected_next_date"] == date(2024, 3, 31) and on_time["missed_cycles"] == 0


def test_a_lapsed_client_keeps_the_past_date_with_low_confidence():
    drawdowns = history(*every(1, date(2024, 1, 1), 30, [10.0, 10.0, 10.0]))
    # Last drawdown 1 March; 92 idle days are more than two 30-day cycles.
    row = one(predict_demand(drawdowns, as_of=date(2024, 6, 1)))

    assert row["active"] is False and row["reason"] == "lapsed"
    assert row["expected_next_date"] == date(2024, 3, 31) and row["days_until"] == -62
    assert row["confidence"] == "low" and row["missed_cycles"] == 0
    patient = one(predict_demand(drawdowns, as_of=date(2024, 6, 1), lapse_after_cycles=4))
    assert patient["active"] is True and patient["expected_next_date"] == date(2024, 6, 29)


def test_a_single_drawdown_uses_the_policy_cycle_with_low_confidence():
    drawdowns = history((3, date(2024, 5, 1), 500.0))

    row = one(predict_demand(drawdowns, as_of=date(2024, 6, 1)), 3)
    assert row["expected_next_date"] == date(2025, 5, 1)
    assert row["cycle_days"] == 365 and row["median_interval_days"] is None
    assert row["confidence"] == "low" and row["reason"] == "single_drawdown"
    assert row["expected_amount"] == 500.0

    short = one(predict_demand(drawdowns, as_of=date(2024, 6, 1), default_cycle_days=180), 3)
    assert short["expected_next_date"] == date(2024, 10, 28)


def test_same_day_drawdowns_count_once_and_later_ones_are_ignored():
    drawdowns = history(
        (1, date(2024, 1, 1), 40.0),
        (1, date(2024, 1, 1), 60.0),
        (1, date(2024, 2, 1), 100.0),
        (1, date(2024, 3, 1), 300.0),  # after as_of
        (2, date(2024, 3, 1), 5.0),  # only after as_of: no prediction
    )
    out = predict_demand(drawdowns, as_of=date(2024, 2, 15))

    assert out["customer_id"].to_list() == [1]
    row = one(out)
    assert row["n_drawdowns"] == 2 and row["median_interval_days"] == 31.0
    assert row["expected_amount"] == 100.0  # median of 100 and 100
    assert row["expected_next_date"] == date(2024, 3, 3)
    assert row["interval_cv"] is None and row["confidence"] == "low"  # one interval


def test_the_amount_can_follow_the_growth_of_the_drawdowns():
    drawdowns = history(*every(1, date(2024, 1, 1), 90, [100.0, 110.0, 121.0]))
    as_of = date(2024, 7, 1)

    assert one(predict_demand(drawdowns, as_of=as_of))["expected_amount"] == 110.0
    grown = one(predict_demand(drawdowns, as_of=as_of, scale_by_growth=True))
    assert grown["expected_amount"] == pytest.approx(133.1)
    assert grown["growth_per_drawdown"] == pytest.approx(0.1)
    pair = one(predict_demand(drawdowns, as_of=as_of, scale_by_growth=True, amount_window=2))
    assert pair["expected_amount"] == pytest.approx(115.5 * 1.1**1.5)


def test_a_clockwork_quarterly_client_is_not_seasonal_though_its_months_recur():
    drawdowns = history(*every(1, date(2022, 1, 3), 91, [10.0] * 12))
    last = date(2022, 1, 3) + timedelta(days=11 * 91)

    row = one(predict_demand(drawdowns, as_of=last + timedelta(days=5)))

    assert row["reason"] == "regular_interval" and row["seasonal_month"] is None
    assert row["expected_next_date"] == last + timedelta(days=91)


def test_every_reason_formats_from_its_own_row():
    drawdowns = history(
        *every(1, date(2024, 1, 1), 90, [1.0, 2.0, 3.0]),
        (2, date(2024, 5, 1), 1.0),
        *[(3, date(year, 3, 15), 1.0) for year in (2022, 2023, 2024)],
        *every(4, date(2020, 1, 1), 30, [1.0, 1.0]),
    )
    out = predict_demand(drawdowns, as_of=date(2024, 8, 1))
    assert out["reason"].to_list() == ["regular_interval", "single_drawdown", "seasonal", "lapsed"]
    texts = [REASON_TEXTS[row["reason"]].format(**row) for row in out.iter_rows(named=True)]
    assert texts[0] == "Draws about every 90 days"
    assert texts[2] == "Drew in month 3 in 3 different years"
    assert texts[3] == "No drawdown for 1644 days against a usual cycle of 30 days"


def test_an_empty_history_gives_an_empty_prediction_and_string_ids_are_kept():
    empty = predict_demand(history(), as_of=date(2024, 1, 1))
    assert empty.is_empty() and empty.schema == pl.Schema(PREDICTION_SCHEMA)
    named = pl.DataFrame({"customer_id": ["c-1"], "drawn_on": [date(2024, 1, 1)], "amount": [1.0]})
    assert predict_demand(named, as_of=date(2024, 2, 1))["customer_id"].to_list() == ["c-1"]


def test_bad_inputs_are_refused_by_name():
    with pytest.raises(ValueError, match=re.escape(MISSING_COLUMNS.format(missing="amount"))):
        predict_demand(history().drop("amount"), as_of=date(2024, 1, 1))
    nulls = pl.DataFrame(
        {"customer_id": [1], "drawn_on": [None], "amount": [1.0]},
        schema={"customer_id": pl.Int64, "drawn_on": pl.Date, "amount": pl.Float64},
    )
    with pytest.raises(ValueError, match=re.escape(NULL_VALUES.format(column="drawn_on"))):
        predict_demand(nulls, as_of=date(2024, 1, 1))
    refund = history((1, date(2024, 1, 1), 10.0), (1, date(2024, 2, 1), 0.0))
    with pytest.raises(ValueError, match=re.escape(NON_POSITIVE_AMOUNTS.format(count=1))):
        predict_demand(refund, as_of=date(2024, 3, 1), scale_by_growth=True)
    message = BAD_PARAM.format(name="default_cycle_days", rule="an integer ≥ 1", value=0)
    with pytest.raises(ValueError, match=re.escape(message)):
        predict_demand(refund, as_of=date(2024, 3, 1), default_cycle_days=0)


def test_due_within_buckets_the_expected_dates():
    as_of = date(2024, 6, 1)
    offsets = [0, 30, 31, 60, 61, 90, 91, -1, None]
    pred = pl.DataFrame(
        {"expected_next_date": [None if d is None else as_of + timedelta(days=d) for d in offsets]},
        schema={"expected_next_date": pl.Date},
    )

    out = due_within(pred, as_of=as_of)

    assert out["due_within"].to_list() == ["30", "30", "60", "60", "90", "90", None, None, None]
    assert due_within(pred, as_of=as_of, days=(7,))["due_within"].to_list()[:2] == ["7", None]
    for bad in ((60, 30), (), (0, 30)):
        with pytest.raises(ValueError, match=re.escape(BAD_HORIZONS.format(days=bad))):
            due_within(pred, as_of=as_of, days=bad)


def test_due_within_works_on_predictions():
    drawdowns = history(*every(1, date(2024, 1, 1), 90, [1.0, 1.0, 1.0, 1.0]))
    as_of = date(2024, 10, 15)
    out = due_within(predict_demand(drawdowns, as_of=as_of), as_of=as_of)
    assert out["due_within"].to_list() == ["90"]  # 72 days away
