from datetime import date

import polars as pl
import pytest

from fincrm.analytics.delinquency import BUCKETS, bucket, bucket_expr, roll_rates


def test_roll_rates_on_hand_data():
    jan, feb, mar = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
    frame = pl.DataFrame(
        {
            "facility_id": [1, 1, 1, 2, 2, 2, 3, 3],
            "month": [jan, feb, mar, jan, feb, mar, jan, feb],
            "bucket": [
                "current",
                "1-30",
                "31-60",
                "current",
                "current",
                "current",
                "1-30",
                "current",
            ],
        }
    )
    matrix = {r["from"]: r for r in roll_rates(frame).iter_rows(named=True)}
    assert list(matrix) == list(BUCKETS)
    assert matrix["current"]["n"] == 3
    assert matrix["current"]["current"] == pytest.approx(2 / 3)
    assert matrix["current"]["1-30"] == pytest.approx(1 / 3)
    assert matrix["1-30"]["n"] == 2
    assert matrix["1-30"]["31-60"] == pytest.approx(0.5)
    assert matrix["1-30"]["current"] == pytest.approx(0.5)
    assert matrix["90+"]["n"] == 0 and matrix["90+"]["90+"] == 0.0


def test_the_vectorised_bucket_matches_the_scalar_one():
    days = [0, 1, 30, 31, 60, 61, 90, 91, 400]
    vector = pl.DataFrame({"d": days}).select(bucket_expr(pl.col("d")).alias("b"))["b"].to_list()
    assert vector == [bucket(d) for d in days]
