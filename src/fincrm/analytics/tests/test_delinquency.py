from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fincrm.analytics.delinquency import (
    LOAN_CLASSES,
    ClassificationThresholds,
    bucket,
    classify,
    classify_many,
    days_past_due,
    loan_classes,
)

AS_OF = date(2026, 3, 31)


def test_nothing_due_yet_is_zero_days():
    assert days_past_due([date(2026, 4, 15)], [100], [0], AS_OF) == 0


def test_an_installment_due_today_is_not_late_yet():
    assert days_past_due([AS_OF], [100], [0], AS_OF) == 0


def test_days_count_from_the_oldest_unpaid_installment():
    dues = [date(2026, 1, 15), date(2026, 2, 15), date(2026, 3, 15)]
    assert (
        days_past_due(dues, [100, 100, 100], [100, 40, 0], AS_OF)
        == (AS_OF - date(2026, 2, 15)).days
    )


def test_a_fully_paid_schedule_is_current_whatever_the_dates():
    dues = [date(2025, 1, 15), date(2025, 2, 15)]
    assert days_past_due(dues, [100, 100], [100, 100], AS_OF) == 0


def test_a_rounding_cent_does_not_make_a_loan_late():
    assert days_past_due([date(2026, 1, 1)], [100.004], [100.0], AS_OF) == 0


@pytest.mark.parametrize(
    ("dpd", "expected"),
    [
        (0, "normal"),
        (1, "special_mention"),
        (90, "special_mention"),
        (91, "substandard"),
        (270, "substandard"),
        (271, "doubtful"),
        (360, "doubtful"),
        (361, "loss"),
        (2000, "loss"),
    ],
)
def test_five_tier_classification_at_the_regulatory_edges(dpd, expected):
    assert classify(dpd) == expected


@pytest.mark.parametrize(
    ("dpd", "expected"),
    [
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
    ],
)
def test_buckets(dpd, expected):
    assert bucket(dpd) == expected


@given(st.lists(st.integers(min_value=0, max_value=5000), max_size=50))
def test_vectorised_classification_matches_the_scalar_one(values):
    assert list(classify_many(np.array(values, dtype=np.int64))) == [classify(v) for v in values]


@given(st.integers(0, 3000), st.integers(0, 3000))
def test_classification_never_improves_with_more_days_past_due(a, b):
    lo, hi = sorted((a, b))
    assert LOAN_CLASSES.index(classify(lo)) <= LOAN_CLASSES.index(classify(hi))


def test_thresholds_are_configurable():
    strict = ClassificationThresholds(special_mention=1, substandard=61, doubtful=181, loss=361)
    assert classify(61, strict) == "substandard"
    assert classify(61) == "special_mention"


def test_loan_classes_combine_arrears_signals_and_a_stricter_override():
    frame = pl.DataFrame(
        {
            "days_past_due": [0, 0, 0, 0, 95, 400, 0, 10],
            "grade": ["A", "CCC", "C", "A", "A", "A", None, "A"],
            "alert_severities": [[], [], [], ["high"], [], [], None, ["low"]],
            "override": [None, None, None, None, None, "substandard", "doubtful", None],
        },
        schema_overrides={"alert_severities": pl.List(pl.String)},
    )
    out = loan_classes(
        frame,
        watch_grades=["CCC"],
        substandard_grades=["C"],
        watch_alert_severities=["high", "critical"],
    )
    assert out["auto_class"].to_list() == [
        "normal",  # clean
        "special_mention",  # watch grade
        "substandard",  # substandard grade
        "special_mention",  # open high alert
        "substandard",  # 95 days past due
        "loss",  # 400 days
        "normal",  # nothing known
        "special_mention",  # 10 days; a low alert adds nothing
    ]
    # An override only ever makes it stricter: loss stays loss, normal becomes doubtful.
    assert out["loan_class"].to_list()[5:7] == ["loss", "doubtful"]
    assert out["loan_class"].to_list()[:5] == out["auto_class"].to_list()[:5]
