"""Tests for ``fincrm.analytics.surveys``: every expected number is worked out by hand here."""

from __future__ import annotations

import math
import re

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy import stats

from fincrm.analytics import surveys as s

# --------------------------------------------------------------------------------------------
# nps / csat / response_rate
# --------------------------------------------------------------------------------------------


def test_nps_is_promoters_minus_detractors_in_points():
    # 3 promoters (9, 10, 10), 2 passives (7, 8), 5 detractors (0..6): (3 - 5) / 10 = -20 %.
    assert s.nps([9, 10, 10, 7, 8, 0, 3, 5, 6, 6]) == pytest.approx(-20.0)


def test_nps_boundaries_and_extremes():
    assert s.nps([9]) == 100.0
    assert s.nps([6]) == -100.0
    assert s.nps([7, 8]) == 0.0
    assert s.nps([10, 10, 0]) == pytest.approx(100 / 3)


def test_nps_ignores_unanswered_and_is_none_without_answers():
    assert s.nps([10, None, float("nan"), 0, 8]) == pytest.approx(0.0)
    assert s.nps([]) is None
    assert s.nps([None, None]) is None


@pytest.mark.parametrize("bad", [-1, 11, 7.5])
def test_nps_rejects_answers_outside_0_to_10(bad):
    with pytest.raises(ValueError, match=re.escape(s.NPS_OUT_OF_RANGE)):
        s.nps([5, bad])


def test_csat_is_the_share_of_satisfied_ratings():
    assert s.csat([5, 4, 3, 2, 1]) == pytest.approx(40.0)
    assert s.csat([5, 4, None, 3]) == pytest.approx(200 / 3)
    assert s.csat([7, 6, 1], scale=7, satisfied_from=6) == pytest.approx(200 / 3)
    assert s.csat([]) is None


def test_csat_validates_ratings_and_scale():
    with pytest.raises(ValueError, match=re.escape(s.CSAT_OUT_OF_RANGE)):
        s.csat([6])
    with pytest.raises(ValueError, match=re.escape(s.CSAT_OUT_OF_RANGE)):
        s.csat([0])
    with pytest.raises(ValueError, match=re.escape(s.CSAT_BAD_SCALE)):
        s.csat([1], scale=5, satisfied_from=6)
    with pytest.raises(ValueError, match=re.escape(s.CSAT_BAD_SCALE)):
        s.csat([1], scale=1, satisfied_from=1)


def test_response_rate_in_percent():
    assert s.response_rate(8, 2) == 25.0
    assert s.response_rate(0, 0) is None
    for sent, answered in [(3, 4), (-1, 0), (3, -1)]:
        with pytest.raises(ValueError, match=re.escape(s.RESPONSE_COUNTS)):
            s.response_rate(sent, answered)


# --------------------------------------------------------------------------------------------
# summarise
# --------------------------------------------------------------------------------------------


def responses() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "tier": ["core", "core", "core", "core", "key", "key", "key", None],
            "nps_score": [10, 9, 4, None, 7, None, 2, 10],
            "csat_score": [5, 4, 2, None, 3, None, None, 5],
            "answered": [True, True, True, False, True, False, True, True],
        }
    )


def test_summarise_counts_and_scores_per_group():
    out = s.summarise(responses(), ["tier"])
    expected = pl.DataFrame(
        {
            "tier": ["core", "key", None],
            "sent": [4, 3, 1],
            "answered": [3, 2, 1],
            "response_rate": [75.0, 200 / 3, 100.0],
            "nps_responses": [3, 2, 1],
            "promoters": [2, 0, 1],
            "passives": [0, 1, 0],
            "detractors": [1, 1, 0],
            # core: (2 - 1) / 3; key: (0 - 1) / 2; None: 1 / 1.
            "nps": [100 / 3, -50.0, 100.0],
            "csat_responses": [3, 1, 1],
            "csat": [200 / 3, 0.0, 100.0],
        }
    )
    assert_frame_equal(out, expected)


def test_summarise_agrees_with_the_scalar_functions():
    frame = responses()
    overall = s.summarise(frame, []).row(0, named=True)
    answered = frame.filter(pl.col("answered"))
    assert overall["nps"] == pytest.approx(s.nps(answered["nps_score"].to_list()))
    assert overall["csat"] == pytest.approx(s.csat(answered["csat_score"].to_list()))
    assert overall["response_rate"] == pytest.approx(s.response_rate(8, 6))


def test_summarise_ignores_scores_on_unanswered_rows_and_nulls_empty_scores():
    frame = pl.DataFrame(
        {
            "tier": ["core", "core"],
            "nps_score": [10, None],
            "csat_score": [5, None],
            "answered": [False, False],
        }
    )
    row = s.summarise(frame, ["tier"]).row(0, named=True)
    assert row["sent"] == 2
    assert row["answered"] == 0
    assert row["response_rate"] == 0.0
    assert row["nps_responses"] == 0
    assert row["nps"] is None
    assert row["csat"] is None


def test_summarise_joins_the_previous_period_on_the_group_keys():
    previous = pl.DataFrame(
        {
            "tier": ["core", "core", "low", None],
            "nps_score": [10, 10, 0, 0],
            "csat_score": [5, 1, 5, 1],
            "answered": [True, True, True, True],
        }
    )
    out = s.summarise(responses(), ["tier"], previous=previous)
    assert out.columns[-4:] == ["previous_nps", "previous_csat", "nps_delta", "csat_delta"]
    rows = {r["tier"]: r for r in out.iter_rows(named=True)}
    assert set(rows) == {"core", "key", None}  # "low" only existed before
    assert rows["core"]["previous_nps"] == 100.0
    assert rows["core"]["nps_delta"] == pytest.approx(100 / 3 - 100)
    assert rows["core"]["previous_csat"] == 50.0
    assert rows["core"]["csat_delta"] == pytest.approx(200 / 3 - 50)
    assert rows["key"]["previous_nps"] is None
    assert rows["key"]["nps_delta"] is None
    assert rows[None]["previous_nps"] == -100.0  # null keys match null keys
    assert rows[None]["nps_delta"] == 200.0


def test_summarise_by_several_columns_and_overall_with_previous():
    frame = responses().with_columns(period=pl.lit("2026-Q1"))
    out = s.summarise(frame, ["period", "tier"])
    assert out.select("period", "tier").rows() == [
        ("2026-Q1", "core"),
        ("2026-Q1", "key"),
        ("2026-Q1", None),
    ]
    overall = s.summarise(frame, [], previous=frame)
    assert overall.height == 1
    assert overall["nps_delta"].to_list() == [0.0]


def test_summarise_validates_columns_and_scores():
    with pytest.raises(ValueError, match=re.escape(s.MISSING_COLUMNS)):
        s.summarise(responses(), ["segment"])
    with pytest.raises(ValueError, match=re.escape(s.NPS_OUT_OF_RANGE)):
        s.summarise(responses().with_columns(nps_score=pl.lit(11)), ["tier"])
    with pytest.raises(ValueError, match=re.escape(s.CSAT_OUT_OF_RANGE)):
        s.summarise(responses().with_columns(csat_score=pl.lit(6)), ["tier"])


# --------------------------------------------------------------------------------------------
# driver_analysis
# --------------------------------------------------------------------------------------------


def test_driver_analysis_one_driver_by_hand():
    # x = 1..5, y = 2 4 5 4 5: Sxx = 10, Sxy = 6, b = 0.6, a = 4 - 0.6 * 3 = 2.2,
    # residuals -0.8 0.6 1.0 -0.6 -0.2, RSS = 2.4, TSS = 6, R² = 0.6,
    # sigma² = 2.4 / 3 = 0.8, se(b) = sqrt(0.8 / 10), beta = 0.6 * sqrt(10 / 6) = sqrt(0.6).
    frame = pl.DataFrame({"overall": [2, 4, 5, 4, 5], "speed": [1, 2, 3, 4, 5]})
    result = s.driver_analysis(frame, target="overall", drivers=["speed"])
    assert result.n == 5
    assert result.r_squared == pytest.approx(0.6)
    assert result.intercept == pytest.approx(2.2)
    assert result.warning == s.SMALL_SAMPLE_WARNING  # 5 < 30
    (effect,) = result.drivers
    se = math.sqrt(0.08)
    t_crit = stats.t.ppf(0.975, 3)
    assert effect.driver == "speed"
    assert effect.coefficient == pytest.approx(0.6)
    assert effect.std_error == pytest.approx(se)
    assert effect.ci_low == pytest.approx(0.6 - t_crit * se)
    assert effect.ci_high == pytest.approx(0.6 + t_crit * se)
    assert effect.p_value == pytest.approx(2 * stats.t.sf(0.6 / se, 3))
    assert effect.beta == pytest.approx(math.sqrt(0.6))
    assert effect.rank == 1


def test_driver_analysis_matches_least_squares_and_ranks_by_beta():
    rng = np.random.default_rng(7)
    n = 40
    speed = rng.integers(1, 6, n).astype(float)
    attitude = rng.integers(1, 6, n).astype(float)
    fees = rng.integers(0, 11, n).astype(float)  # different scale: 0..10
    overall = 0.5 + 0.2 * speed + 0.9 * attitude + 0.05 * fees + rng.normal(0, 0.5, n)
    frame = pl.DataFrame(
        {"overall": overall, "speed": speed, "attitude": attitude, "fees": fees}
    ).vstack(pl.DataFrame({"overall": [None], "speed": [3.0], "attitude": [2.0], "fees": [1.0]}))
    drivers = ["speed", "attitude", "fees"]
    result = s.driver_analysis(frame, target="overall", drivers=drivers)

    x = np.column_stack([np.ones(n), speed, attitude, fees])
    coef, rss, *_ = np.linalg.lstsq(x, overall, rcond=None)
    df = n - 4
    sigma2 = rss[0] / df
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(x.T @ x)))[1:]
    t_crit = stats.t.ppf(0.975, df)
    betas = coef[1:] * x[:, 1:].std(axis=0, ddof=1) / overall.std(ddof=1)
    r2 = 1 - rss[0] / ((overall - overall.mean()) ** 2).sum()

    assert result.n == n  # the row with a null target is dropped
    assert result.warning is None
    assert result.r_squared == pytest.approx(r2)
    assert result.intercept == pytest.approx(coef[0])
    expected_order = sorted(range(3), key=lambda j: -abs(betas[j]))
    assert [e.driver for e in result.drivers] == [drivers[j] for j in expected_order]
    assert [e.rank for e in result.drivers] == [1, 2, 3]
    by_name = {e.driver: e for e in result.drivers}
    for j, name in enumerate(drivers):
        effect = by_name[name]
        assert effect.coefficient == pytest.approx(coef[j + 1])
        assert effect.std_error == pytest.approx(se[j])
        assert effect.ci_low == pytest.approx(coef[j + 1] - t_crit * se[j])
        assert effect.ci_high == pytest.approx(coef[j + 1] + t_crit * se[j])
        assert effect.p_value == pytest.approx(2 * stats.t.sf(abs(coef[j + 1] / se[j]), df))
        assert effect.beta == pytest.approx(betas[j])
    table = result.to_frame()
    assert table["driver"].to_list() == [e.driver for e in result.drivers]
    assert table.columns == [
        "driver", "coefficient", "std_error", "ci_low", "ci_high", "p_value", "beta", "rank"
    ]  # fmt: skip


def test_driver_analysis_without_enough_rows_returns_no_coefficients():
    # Two drivers need n > 3; three complete rows (one row has a null driver).
    frame = pl.DataFrame(
        {
            "overall": [5, 4, 3, 2],
            "speed": [5, 3, 4, None],
            "fees": [1, 2, 2, 1],
        }
    )
    result = s.driver_analysis(frame, target="overall", drivers=["speed", "fees"])
    assert result.n == 3
    assert result.drivers == ()
    assert result.r_squared is None
    assert result.warning == s.TOO_FEW_WARNING
    assert result.to_frame().height == 0


def test_driver_analysis_flags_collinear_drivers_and_a_constant_target():
    frame = pl.DataFrame(
        {"overall": [1, 2, 3, 4, 5, 4], "a": [1, 2, 3, 4, 5, 6], "b": [2, 4, 6, 8, 10, 12]}
    )
    result = s.driver_analysis(frame, target="overall", drivers=["a", "b"])
    assert (result.drivers, result.warning) == ((), s.COLLINEAR_WARNING)
    constant = frame.with_columns(overall=pl.lit(3))
    result = s.driver_analysis(constant, target="overall", drivers=["a"])
    assert (result.drivers, result.warning) == ((), s.NO_VARIATION_WARNING)


def test_driver_analysis_validates_its_arguments():
    frame = pl.DataFrame({"overall": [1, 2], "a": [1, 2]})
    for drivers in ([], ["a", "a"], ["overall"]):
        with pytest.raises(ValueError, match=re.escape(s.BAD_DRIVERS)):
            s.driver_analysis(frame, target="overall", drivers=drivers)
    with pytest.raises(ValueError, match=re.escape(s.MISSING_COLUMNS)):
        s.driver_analysis(frame, target="overall", drivers=["b"])
    with pytest.raises(ValueError, match=re.escape(s.BAD_MIN_RESPONSES)):
        s.driver_analysis(frame, target="overall", drivers=["a"], min_responses=0)


def test_summarise_of_weighted_rows_equals_the_summary_of_the_rows_they_stand_for():
    rows = pl.DataFrame(
        {
            "month": ["03", "03", "03", "03", "04", "04"],
            "answered": [True, True, False, True, True, False],
            "nps_score": [10, 3, None, None, 8, None],
            "csat_score": [5, 2, None, 4, None, None],
            "n": [3, 2, 4, 1, 2, 5],
        }
    )
    expanded = rows.select(pl.all().repeat_by("n").explode()).drop("n")
    weighted = s.summarise(rows, ["month"], weight="n")
    assert_frame_equal(weighted, s.summarise(expanded, ["month"]))
    march = weighted.row(0, named=True)
    counts = (march["sent"], march["answered"], march["promoters"], march["detractors"])
    assert counts == (10, 6, 3, 2)
    assert march["nps"] == pytest.approx(100 * (3 - 2) / 5)
    assert march["csat"] == pytest.approx(100 * 4 / 6)
