from itertools import pairwise

import numpy as np
import polars as pl
import pytest

from fincrm.analytics.policy import ExpertScorecard, policy_errors
from fincrm.analytics.scorecard import (
    InsufficientData,
    Scorecard,
    auc,
    build_default_labels,
    expert_score,
    grade_from_pd,
    scaling,
)


def synthetic(n: int, seed: int):
    """logit(PD) = −3 + 0.05·dpd + 3·(leverage − 0.5); ``noise`` has no effect."""
    rng = np.random.default_rng(seed)
    dpd = rng.exponential(10, n).round()
    leverage = rng.uniform(0.1, 0.95, n)
    noise = rng.normal(0, 1, n)
    logit = -3 + 0.05 * dpd + 3 * (leverage - 0.5)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    leverage[rng.random(n) < 0.05] = np.nan  # some missing values
    X = pl.DataFrame({"dpd": dpd, "leverage": leverage, "noise": noise})
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = synthetic(5000, 1)
    card = Scorecard(
        ["dpd", "leverage", "noise"], monotonic={"dpd": "ascending", "leverage": "ascending"}
    ).fit(X, y)
    return card


def test_the_scorecard_learns_the_true_relation(fitted):
    X, y = synthetic(3000, 2)  # hold-out from the same process
    holdout_auc = auc(y, fitted.predict_pd(X))
    assert holdout_auc > 0.70
    table = fitted.points_table_
    woe = table.filter((pl.col("feature") == "dpd") & (pl.col("bin") != "missing"))["woe"]
    assert all(a >= b for a, b in pairwise(woe))  # riskier bins, lower WoE
    spread = table.group_by("feature").agg(
        (pl.col("points").max() - pl.col("points").min()).alias("r")
    )
    ranges = dict(spread.iter_rows())
    assert ranges["noise"] < ranges["dpd"] / 3


def test_score_and_pd_are_consistent_and_round_trip(fitted):
    X, _y = synthetic(500, 3)
    scored = fitted.score(X)
    factor, offset = scaling(600, 50, 20)
    points = scored.select(pl.selectors.starts_with("points_")).sum_horizontal()
    assert np.allclose(points, scored["score"])
    assert np.allclose(scored["pd"], 1 / (1 + np.exp((scored["score"] - offset) / factor)))
    assert np.allclose(scored["pd"], fitted.predict_pd(X))
    again = Scorecard.from_dict(fitted.to_dict())
    assert again.score(X).equals(scored)


def test_too_few_defaults_is_insufficient_data():
    X, y = synthetic(200, 4)
    y[:] = 0
    y[:5] = 1
    with pytest.raises(InsufficientData, match="5 defaults"):
        Scorecard(["dpd"], min_defaults=30).fit(X, y)


def test_an_unfitted_scorecard_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        Scorecard(["dpd"]).score(pl.DataFrame({"dpd": [1.0]}))


def test_the_expert_score_falls_as_arrears_grow():
    X = pl.DataFrame(
        {
            "max_dpd_12m": [0, 15, 45, 90, 150],
            "debt_to_asset": [0.5] * 5,
            "current_ratio": [1.5] * 5,
            "interest_coverage": [4.0] * 5,
            "revenue_growth": [0.1] * 5,
            "tenure_days": [1000] * 5,
        }
    )
    out = expert_score(X)
    assert out["score"].to_list() == sorted(out["score"].to_list(), reverse=True)
    assert out["pd"].to_list() == sorted(out["pd"].to_list())
    clean = expert_score(X.head(1).with_columns(pl.lit(None).alias("debt_to_asset")))
    assert clean["pd"][0] == pytest.approx(
        1 / (1 + np.exp(-(-5.0 - 0.6 - 0.15 - 0.8 * 1000 / 1825)))
    )
    # The points explain the score: they add up to it, and arrears cost 0.04·dpd log-odds.
    points = out.select(pl.selectors.starts_with("points_"))
    assert np.allclose(points.sum_horizontal(), out["score"])
    factor, _offset = scaling(600, 50, 20)
    assert out["points_arrears"].to_list() == pytest.approx(
        [-factor * 0.04 * min(d, 120) for d in (0, 15, 45, 90, 150)]
    )


def test_grades_from_pd_bands():
    bands = [("A", 0.01), ("B", 0.05), ("C", 1.0)]
    assert grade_from_pd(np.array([0.0, 0.01, 0.0100001, 0.05, 0.5, 1.0]), bands).tolist() == [
        "A",
        "A",
        "B",
        "B",
        "C",
        "C",
    ]


def test_default_labels_look_only_inside_the_horizon():
    from datetime import date

    obs = pl.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 4],
            "as_of": [
                date(2025, 3, 1),
                date(2025, 9, 1),
                date(2025, 6, 1),
                date(2024, 12, 1),
                date(2026, 2, 1),
            ],
            "dpd": [10, 95, 30, 120, 100],
        }
    )
    labels = build_default_labels(obs, observation_date=date(2025, 1, 1), horizon_days=365)
    assert dict(labels.sort("customer_id").iter_rows()) == {1: 1, 2: 0}


def test_the_expert_scorecard_takes_its_numbers_from_the_policy():
    X = pl.DataFrame(
        {
            "max_dpd_12m": [30.0],
            "debt_to_asset": [None],
            "current_ratio": [None],
            "interest_coverage": [None],
            "revenue_growth": [None],
            "tenure_days": [0.0],
        }
    )
    stricter = ExpertScorecard(base_logit=-4.0, arrears_per_day=0.1)
    out = expert_score(X, stricter)
    assert out["pd"][0] == pytest.approx(1 / (1 + np.exp(-(-4.0 + 0.1 * 30))))
    assert expert_score(X)["pd"][0] == pytest.approx(1 / (1 + np.exp(-(-5.0 + 0.04 * 30))))
    # A policy that breaks the rules of the numbers is refused by name.
    errors = policy_errors({"scorecard": {"expert": {"growth_cap": 0}}})
    assert errors == ["scorecard.expert.growth_cap: Input should be greater than 0"]
