import re
from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from fincrm.analytics.kpi import (
    DUPLICATE_KEYS,
    DUPLICATE_PERIODS,
    DUPLICATE_STAGES,
    MISSING_COLUMNS,
    NOT_A_DATE,
    NOT_PERIOD_START,
    UNKNOWN_CATEGORY,
    UNKNOWN_LOAN_CLASS,
    funnel,
    growth,
    migration_matrix,
    renewal_rate,
    renewal_status,
    staff_kpis,
)

STAGES = ["submitted", "review", "approved", "disbursed"]


def d(month: int, day: int, year: int = 2025) -> date:
    return date(year, month, day)


# --- funnel ----------------------------------------------------------------------------------


def applications() -> pl.DataFrame:
    return pl.DataFrame(
        [
            ("m1", d(1, 1), d(1, 3), d(1, 10), d(1, 20)),
            ("m1", d(1, 2), d(1, 4), d(1, 6), None),
            ("m1", d(1, 5), None, d(1, 8), None),  # fast-tracked: no review date
            ("m2", d(1, 5), d(1, 15), None, None),
            ("m2", d(1, 7), None, None, None),
            ("m2", None, None, None, None),  # a lead never submitted
        ],
        schema={"manager": pl.String, **dict.fromkeys(STAGES, pl.Date)},
        orient="row",
    )


def test_the_funnel_counts_conversion_and_days_by_hand():
    out = funnel(applications(), STAGES)

    assert out["stage"].to_list() == STAGES and out["step"].to_list() == [1, 2, 3, 4]
    assert out["reached"].to_list() == [5, 4, 3, 1]  # the fast-tracked one reached review
    assert out["conversion_from_previous"].to_list() == pytest.approx([None, 0.8, 0.75, 1 / 3])
    assert out["conversion_from_first"].to_list() == pytest.approx([1.0, 0.8, 0.6, 0.2])
    # submitted → review: 2, 2 and 10 days; review → approved: 7 and 2; approved → disbursed: 10.
    assert out["median_days_from_previous"].to_list() == [None, 2.0, 4.5, 10.0]
    assert out["mean_days_from_previous"].to_list() == pytest.approx([None, 14 / 3, 4.5, 10.0])


def test_the_funnel_by_manager():
    out = funnel(applications(), STAGES, by="manager")

    assert out.columns[:3] == ["manager", "stage", "step"]
    assert out.select("manager", "stage", "reached").rows() == [
        ("m1", "submitted", 3),
        ("m1", "review", 3),
        ("m1", "approved", 3),
        ("m1", "disbursed", 1),
        ("m2", "submitted", 2),
        ("m2", "review", 1),
        ("m2", "approved", 0),
        ("m2", "disbursed", 0),
    ]
    m2 = out.filter(pl.col("manager") == "m2")
    assert m2["conversion_from_previous"].to_list() == [None, 0.5, 0.0, None]  # 0 of 0: null
    assert m2["median_days_from_previous"].to_list() == [None, 10.0, None, None]


def test_funnel_durations_take_datetimes_and_skip_backwards_pairs():
    frame = pl.DataFrame(
        {
            "submitted": [datetime(2025, 1, 1, 9), datetime(2025, 1, 10), datetime(2025, 1, 1)],
            "approved": [datetime(2025, 1, 2, 21), datetime(2025, 1, 9), None],
        }
    )
    out = funnel(frame, ["submitted", "approved"])
    assert out["reached"].to_list() == [3, 2]
    assert out["median_days_from_previous"].to_list() == [None, 1.5]  # 36 hours; −1 day skipped


def test_the_funnel_refuses_unknown_or_repeated_stages():
    message = MISSING_COLUMNS.format(frame="applications", missing="signed")
    with pytest.raises(ValueError, match=re.escape(message)):
        funnel(applications(), ["submitted", "signed"])
    stages = ["submitted", "submitted"]
    with pytest.raises(ValueError, match=re.escape(DUPLICATE_STAGES.format(stages=stages))):
        funnel(applications(), stages)


# --- renewals --------------------------------------------------------------------------------

AS_OF = d(6, 30)


def facilities() -> pl.DataFrame:
    rows = [
        # id, customer, start, maturity, manager
        ("F1", 1, d(1, 1, 2024), d(12, 31, 2024), "m1"),  # renewed by F2, 15 days after
        ("F2", 1, d(1, 15), d(1, 15, 2026), "m1"),
        ("F3", 2, d(3, 1, 2024), d(1, 31), "m1"),  # F4 comes 121 days later: not renewed
        ("F4", 2, d(6, 1), d(6, 1, 2026), "m1"),
        ("F5", 3, d(5, 1, 2024), d(5, 31), "m2"),  # window open; F12 starts after as_of
        ("F12", 3, d(7, 10), d(7, 10, 2026), "m2"),
        ("F6", 4, d(6, 1, 2023), d(6, 30, 2024), "m2"),  # matured before the period
        ("F7", 4, d(5, 1, 2024), d(3, 1), "m2"),  # renewed early by F8, 76 days ahead
        ("F8", 4, d(12, 15, 2024), d(12, 15), "m2"),
        ("F9", 5, d(7, 1, 2024), d(6, 30), "m2"),  # matures on as_of: pending
    ]
    return pl.DataFrame(
        rows,
        schema=["facility_id", "customer_id", "start_date", "maturity_date", "manager"],
        orient="row",
    )


def test_each_matured_facility_is_renewed_pending_or_not():
    out = renewal_status(facilities(), as_of=AS_OF)
    assert out.select("facility_id", "status", "renewed_by").rows() == [
        ("F1", "renewed", "F2"),
        ("F3", "not_renewed", None),
        ("F7", "renewed", "F8"),
        ("F5", "pending", None),
        ("F9", "pending", None),
    ]


def test_the_renewal_rate_leaves_open_windows_out():
    out = renewal_rate(facilities(), as_of=AS_OF)
    assert out.to_dicts() == [
        {"matured": 5, "renewed": 2, "not_renewed": 1, "pending": 2, "renewal_rate": 2 / 3}
    ]
    by_manager = renewal_rate(facilities(), as_of=AS_OF, by="manager")
    assert by_manager.rows() == [("m1", 2, 1, 1, 0, 0.5), ("m2", 3, 1, 0, 2, 1.0)]
    # A 130-day window makes F4 a renewal of F3.
    wide = renewal_rate(facilities(), as_of=AS_OF, window_days=130)
    assert wide["renewed"].to_list() == [3] and wide["renewal_rate"].to_list() == [1.0]


def test_renewal_refuses_duplicate_facilities():
    twice = pl.concat([facilities(), facilities().head(1)])
    message = DUPLICATE_KEYS.format(frame="facilities", count=1, key="facility_id")
    with pytest.raises(ValueError, match=re.escape(message)):
        renewal_rate(twice, as_of=AS_OF)


# --- growth ----------------------------------------------------------------------------------


def series() -> pl.DataFrame:
    rows = [
        ("a", d(1, 1, 2024), 100.0),
        ("a", d(2, 1, 2024), 110.0),
        ("a", d(3, 1, 2024), 99.0),
        ("a", d(5, 1, 2024), 120.0),  # April missing
        ("a", d(1, 1), 150.0),
        ("a", d(2, 1), 0.0),
        ("a", d(3, 1), 50.0),
        ("b", d(1, 1, 2024), -100.0),
        ("b", d(2, 1, 2024), -50.0),
    ]
    return pl.DataFrame(rows, schema=["book", "period", "value"], orient="row")


def test_period_over_period_and_year_over_year_growth_by_hand():
    out = growth(series(), by="book")

    a = out.filter(pl.col("book") == "a")
    assert a["pop_growth"].to_list() == pytest.approx(
        [None, 0.1, -0.1, None, None, -1.0, None]  # no April → no May growth; 0 → null
    )
    assert a["previous_value"].to_list() == [None, 100.0, 110.0, None, None, 150.0, 0.0]
    assert a["yoy_growth"].to_list() == pytest.approx(
        [None, None, None, None, 0.5, -1.0, 50 / 99 - 1]
    )
    b = out.filter(pl.col("book") == "b")
    assert b["pop_growth"].to_list() == [None, 0.5]  # a smaller loss is growth
    assert out.columns == [
        "book",
        "period",
        "value",
        "previous_value",
        "pop_growth",
        "year_ago_value",
        "yoy_growth",
    ]


def test_quarterly_growth():
    quarters = pl.DataFrame(
        {"period": [d(1, 1), d(4, 1), d(10, 1), d(1, 1, 2026)], "value": [10, 20, 30, 40]}
    )
    out = growth(quarters, freq="1q")
    assert out["pop_growth"].to_list() == pytest.approx([None, 1.0, None, 1 / 3])
    assert out["yoy_growth"].to_list() == pytest.approx([None, None, None, 3.0])


def test_growth_refuses_ambiguous_periods():
    shifted = series().with_columns(pl.col("period").dt.month_end())
    message = NOT_PERIOD_START.format(count=9, column="period", first=d(1, 31, 2024))
    with pytest.raises(ValueError, match=re.escape(message)):
        growth(shifted, by="book")
    message = DUPLICATE_PERIODS.format(count=4, first="period=2024-01-01")
    with pytest.raises(ValueError, match=re.escape(message)):
        growth(series())  # two books mixed in one series
    text = series().with_columns(pl.col("period").cast(pl.String))
    with pytest.raises(
        ValueError, match=re.escape(NOT_A_DATE.format(column="period", dtype=pl.String))
    ):
        growth(text, by="book")


# --- migration -------------------------------------------------------------------------------


def test_the_migration_matrix_by_hand():
    before = pl.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "tier": ["core", "key", "key", "ordinary", "low", "low"],
        }
    )
    after = pl.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 7],
            "tier": ["key", "core", "key", "low", "ordinary", "core"],
        }
    )

    m = migration_matrix(before, after)

    assert m.counts.columns == ["from", "core", "key", "ordinary", "low", "exited"]
    assert m.counts.rows() == [
        ("core", 0, 1, 0, 0, 0),
        ("key", 1, 1, 0, 0, 0),
        ("ordinary", 0, 0, 0, 1, 0),
        ("low", 0, 0, 1, 0, 1),
        (None, 1, 0, 0, 0, 0),  # new clients
    ]
    assert m.shares.rows() == [
        ("core", 0.0, 1.0, 0.0, 0.0, 0.0),
        ("key", 0.5, 0.5, 0.0, 0.0, 0.0),
        ("ordinary", 0.0, 0.0, 0.0, 1.0, 0.0),
        ("low", 0.0, 0.0, 0.5, 0.0, 0.5),
        (None, 1.0, 0.0, 0.0, 0.0, 0.0),
    ]
    assert (m.upgrades, m.downgrades, m.unchanged, m.new, m.exited) == (2, 2, 1, 1, 1)


def test_the_migration_matrix_takes_any_order_and_leaves_empty_rows_null():
    before = pl.DataFrame({"id": [1, 2], "grade": ["A", "BBB"]})
    after = pl.DataFrame({"id": [1, 2], "grade": ["AA", "BBB"]})
    m = migration_matrix(before, after, key="id", col="grade", order=["AA", "A", "BBB"])
    assert (m.upgrades, m.downgrades, m.unchanged) == (1, 0, 1)
    assert m.shares.row(0) == ("AA", None, None, None, None)
    assert_frame_equal(
        m.counts.filter(pl.col("from") == "A"),
        pl.DataFrame(
            {"from": ["A"], "AA": [1], "A": [0], "BBB": [0], "exited": [0]},
            schema={
                "from": pl.String,
                "AA": pl.Int64,
                "A": pl.Int64,
                "BBB": pl.Int64,
                "exited": pl.Int64,
            },
        ),
    )


def test_the_migration_matrix_refuses_unknown_categories_and_duplicates():
    before = pl.DataFrame({"customer_id": [1, 2], "tier": ["core", None]})
    after = pl.DataFrame({"customer_id": [1, 1], "tier": ["core", "gold"]})
    message = UNKNOWN_CATEGORY.format(
        frame="before", column="tier", values=[None], order=["core", "key", "ordinary", "low"]
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        migration_matrix(before, after)
    message = DUPLICATE_KEYS.format(frame="after", count=1, key="customer_id")
    with pytest.raises(ValueError, match=re.escape(message)):
        migration_matrix(before.head(1), after)


# --- staff -----------------------------------------------------------------------------------


def staff_inputs() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    contacts = pl.DataFrame({"manager_id": [1, 1, 1, 2, None]})
    tasks = pl.DataFrame(
        [
            (1, d(3, 10), d(3, 9)),  # on time
            (1, d(3, 15), d(3, 20)),  # late
            (1, d(3, 20), None),  # overdue, open
            (1, d(4, 10), d(3, 1)),  # not due yet: not judged
            (2, d(3, 1), d(3, 1)),  # on time, on the day
            (3, d(4, 30), None),  # not due yet
        ],
        schema={"manager_id": pl.Int64, "due_on": pl.Date, "completed_on": pl.Date},
        orient="row",
    )
    conversions = pl.DataFrame({"manager_id": [1, 2, 2]})
    portfolio = pl.DataFrame(
        {
            "manager_id": [1, 1, 1, 2, 4],
            "balance": [100.0, 50.0, 50.0, 300.0, 0.0],
            "loan_class": ["normal", "special_mention", "substandard", "normal", "normal"],
        }
    )
    return contacts, tasks, conversions, portfolio


def test_staff_kpis_by_hand():
    out = staff_kpis(*staff_inputs(), as_of=d(3, 31))

    assert out.columns == [
        "manager_id",
        "contacts",
        "tasks_due",
        "tasks_on_time",
        "on_time_share",
        "conversions",
        "balance",
        "good_balance",
        "good_balance_share",
    ]
    assert out.rows() == [
        (1, 3, 3, 1, 1 / 3, 1, 200.0, 100.0, 0.5),
        (2, 1, 1, 1, 1.0, 2, 300.0, 300.0, 1.0),
        (3, 0, 0, 0, None, 0, 0.0, 0.0, None),
        (4, 0, 0, 0, None, 0, 0.0, 0.0, None),
    ]


def test_staff_kpis_with_special_mention_counted_as_good():
    out = staff_kpis(*staff_inputs(), as_of=d(3, 31), good_classes=("normal", "special_mention"))
    assert out["good_balance_share"].to_list()[:2] == [0.75, 1.0]


def test_staff_kpis_refuse_an_unknown_loan_class():
    contacts, tasks, conversions, portfolio = staff_inputs()
    portfolio = portfolio.with_columns(loan_class=pl.lit("good"))
    message = UNKNOWN_LOAN_CLASS.format(
        values=["good"], order=["normal", "special_mention", "substandard", "doubtful", "loss"]
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        staff_kpis(contacts, tasks, conversions, portfolio, as_of=d(3, 31))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.integers(0, 60)), min_size=4, max_size=4),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 4),
)
def test_funnel_from_summed_parts_equals_the_funnel_of_all_rows(offsets, chunks):
    from datetime import date, timedelta

    from fincrm.analytics.kpi import funnel, funnel_from_parts, funnel_parts

    stages = ["lead", "submitted", "approved", "disbursed"]
    base = date(2026, 1, 1)
    rows = [
        {
            s: (base + timedelta(days=o) if o is not None else None)
            for s, o in zip(stages, r, strict=True)
        }
        for r in offsets
    ]
    frame = pl.DataFrame(rows, schema=dict.fromkeys(stages, pl.Date))
    # Pre-aggregate in several chunks (as the cube does by month and manager), then sum.
    parts = [funnel_parts(frame[i::chunks], stages) for i in range(chunks)]
    counts = pl.concat([c for c, _d in parts])
    durations = pl.concat([d for _c, d in parts])
    expected = funnel(frame, stages)
    got = funnel_from_parts(counts, durations, stages)
    assert_frame_equal(got, expected, check_dtypes=False)


def test_decision_speed_counts_the_rule_and_the_hours_by_month():
    from fincrm.analytics.kpi import decision_speed

    frame = pl.DataFrame(
        {
            "month": ["2026-05", "2026-05", "2026-05", "2026-06", "2026-06"],
            "automatic": [True, False, False, True, True],
            "hours": [0.01, 30.0, 50.0, 0.02, None],
        }
    )
    table = decision_speed(frame).to_dicts()
    assert table == [
        {"month": "2026-05", "decided": 3, "automatic": 1,
         "automatic_share": pytest.approx(100 / 3),
         "hours_automatic": 0.01, "hours_people": 40.0},
        {"month": "2026-06", "decided": 2, "automatic": 2, "automatic_share": 100.0,
         "hours_automatic": 0.02, "hours_people": None},
    ]  # fmt: skip
