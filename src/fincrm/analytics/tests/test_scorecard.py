from itertools import pairwise

import numpy as np
import pandas as pd
import polars as pl
import pytest

from fincrm.analytics.policy import ExpertScorecard, policy_errors
from fincrm.analytics.scorecard import (
    InsufficientData,
    Scorecard,
    auc,
    band_shares,
    build_default_labels,
    calibration_shift,
    expert_score,
    fit_scorecard,
    grade_from_pd,
    information_value,
    population_stability,
    scaling,
    score_distribution,
    select_characteristics,
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
    holdout_auc = auc(y, fitted.predict_proba(X))
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
    score = fitted.score(X)
    factor, offset = scaling(600, 50, 20)
    explained = fitted.explain(X)
    assert explained.columns == ["dpd", "leverage", "noise"] and explained.height == 500
    assert np.allclose(explained.sum_horizontal(), score)
    pd_ = fitted.predict_proba(X)
    assert np.allclose(pd_, 1 / (1 + np.exp((score - offset) / factor)))
    again = Scorecard.from_dict(fitted.to_dict())
    assert np.array_equal(again.score(X), score)
    assert again.explain(X).equals(explained)


def test_too_few_defaults_is_insufficient_data():
    X, y = synthetic(200, 4)
    y[:] = 0
    y[:5] = 1
    with pytest.raises(InsufficientData, match="5 defaults"):
        Scorecard(["dpd"], min_defaults=30).fit(X, y)


def test_an_unfitted_scorecard_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        Scorecard(["dpd"]).score(pl.DataFrame({"dpd": [1.0]}))


def test_fit_scorecard_takes_pandas_with_a_categorical_column_and_missing_values():
    rng = np.random.default_rng(5)
    n = 4000
    sector = rng.choice(["steel", "retail", "software", "farming"], n)
    dpd = rng.exponential(10, n).round()
    logit = -3 + 0.05 * dpd + np.select([sector == "steel", sector == "software"], [1.5, -1.0])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({"dpd": dpd, "sector": sector})
    frame.loc[rng.random(n) < 0.05, "sector"] = None

    card = fit_scorecard(frame, y, monotonic={"dpd": "ascending"})

    assert card.features == ["dpd", "sector"]
    assert auc(y, card.predict_proba(frame)) > 0.7
    one = pl.DataFrame(
        {"dpd": [0.0, 0.0, 0.0, 0.0], "sector": ["steel", "software", None, "mining"]}
    )
    points = card.explain(one)["sector"].to_list()
    assert points[0] < points[1]  # steel defaults more than software: fewer points
    # Missing has its own bin; a sector never seen in training is neutral (WoE 0).
    table = card.points_table_.filter(pl.col("feature") == "sector")
    assert "missing" in table["bin"].to_list() and "(other)" in table["bin"].to_list()
    neutral = table.filter(pl.col("bin") == "(other)")["points"][0]
    assert points[3] == pytest.approx(neutral)


def test_population_stability_is_zero_for_the_same_population_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    reference = score_distribution(rng.normal(600, 40, 20_000))
    assert len(reference["shares"]) == 10 and sum(reference["shares"]) == pytest.approx(1)
    same = band_shares(rng.normal(600, 40, 20_000), reference["edges"])
    shifted = band_shares(rng.normal(560, 40, 20_000), reference["edges"])
    assert population_stability(reference["shares"], same) < 0.01
    assert population_stability(reference["shares"], shifted) > 0.25
    # Hand-computed: two bands, 50/50 against 25/75.
    assert population_stability([0.5, 0.5], [0.25, 0.75]) == pytest.approx(
        (0.25 - 0.5) * np.log(0.5) + (0.75 - 0.5) * np.log(1.5)
    )


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


def test_a_characteristic_with_nothing_to_bin_is_binned_neutral_and_not_selected():
    X, y = synthetic(2000, 6)
    X = X.with_columns(empty=pl.lit(None, dtype=pl.Float64), same=pl.lit(3.0))
    card = fit_scorecard(X, y)
    assert card.iv_["empty"] == 0 and card.iv_["same"] == 0
    assert card.selection_["empty"] == card.selection_["same"] == "low_iv"
    explained = card.explain(X)
    assert "empty" not in explained.columns and "same" not in explained.columns
    assert explained["dpd"].n_unique() > 1


def test_information_value_of_two_bins_is_the_textbook_sum():
    # Bin A: 80 goods, 20 bads; bin B: 20 goods, 30 bads (100 goods, 50 bads in all).
    y = np.array([0] * 80 + [1] * 20 + [0] * 20 + [1] * 30)
    woe_a, woe_b = np.log(0.8 / 0.4), np.log(0.2 / 0.6)
    woe = np.array([woe_a] * 100 + [woe_b] * 50)
    expected = (0.8 - 0.4) * woe_a + (0.2 - 0.6) * woe_b
    assert information_value(woe, y) == pytest.approx(expected)
    assert information_value(np.zeros(150), y) == 0


def test_selection_keeps_the_strongest_and_drops_weak_and_duplicate_characteristics():
    a = np.array([1.0, -1.0, 1.0, -1.0, 0.5, -0.5])
    W = np.column_stack([a, a * 2 + 0.01, np.array([1.0, 1.0, -1.0, -1.0, 0.0, 0.0]), a * 0])
    iv = {"strong": 0.5, "twin": 0.4, "other": 0.1, "weak": 0.01}
    fate = select_characteristics(
        W, ["strong", "twin", "other", "weak"], iv, min_iv=0.02, max_correlation=0.8
    )
    assert fate == {
        "strong": "kept",
        "twin": "correlated:strong",
        "other": "kept",
        "weak": "low_iv",
    }


def suppressed(n: int, seed: int):
    """Default depends on the share of the bill repaid; the bill alone says little."""
    rng = np.random.default_rng(seed)
    bill = np.exp(rng.normal(10, 1, n))
    share = rng.beta(2, 2, n)
    paid = bill * share
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1 - 3 * (share - 0.5))))).astype(int)
    return pl.DataFrame({"bill": bill, "paid": paid, "noise": rng.normal(0, 1, n)}), y


def test_the_regularisation_is_chosen_by_cross_validation_and_a_fixed_c_is_kept():
    X, y = synthetic(1500, 7)
    card = fit_scorecard(X, y)
    assert card.C_ in Scorecard.C_GRID and card.cv_log_loss_ > 0
    fixed = fit_scorecard(X, y, C=0.5)
    assert fixed.C_ == 0.5 and fixed.cv_log_loss_ is None


def test_dropping_wrong_signs_leaves_every_point_moving_with_the_woe():
    X, y = suppressed(3000, 8)
    card = fit_scorecard(X, y, wrong_signs="drop", min_iv=0.0)
    assert (card.coef_ <= 0).all()
    assert set(card.selection_.values()) <= {"kept", "wrong_sign", "low_iv"}
    assert all(card.selection_[f] == "kept" for f in card.features_)
    with pytest.raises(ValueError, match="wrong_signs"):
        fit_scorecard(X, y, wrong_signs="sometimes")


def test_a_blend_with_the_expert_card_weighs_it_by_credibility():
    X, y = synthetic(600, 9)
    events = int(y.sum())
    expert = pl.DataFrame({"expert_base": np.full(600, 580.0), "expert_dpd": -X["dpd"]})
    factor, offset = scaling(600, 50, 20)
    prior = (offset - expert.sum_horizontal().to_numpy()) / factor  # its log-odds of default
    card = fit_scorecard(X, y, prior_defaults=60, min_defaults=10)
    unblended = fit_scorecard(X, y, min_defaults=10)
    # Fitted without a prior, prior_defaults changes nothing.
    assert card.prior_weight_ == 0
    card = Scorecard(
        ["dpd", "leverage", "noise"], prior_defaults=60, min_defaults=10, calibrate=True
    ).fit(X, y, prior=prior)
    w = 60 / (60 + events)
    assert card.prior_weight_ == pytest.approx(w)
    statistical = np.log(1 / unblended.predict_proba(X) - 1) * -1
    blended = card.predict_proba(X, prior=prior)
    shift = card.calibration_shift_
    assert np.allclose(np.log(blended / (1 - blended)), (1 - w) * statistical + w * prior + shift)
    # Calibrated in the large: the expert card sits near 2 % (its 50:1 base odds), this book
    # defaults far more often; the shift brings the mean PD to the training default rate
    # without changing the order of the rows.
    assert abs(shift) > 0.1 and card.calibration_gap_ == shift
    assert blended.mean() == pytest.approx(events / 600, abs=1e-9)
    unshifted = 1 / (1 + np.exp(-((1 - w) * statistical + w * prior)))
    assert card.train_mean_pd_ == pytest.approx(unshifted.mean())
    assert card.train_mean_pd_ < events / 600
    assert card.train_default_rate_ == events / 600
    assert auc(y, blended) == pytest.approx(auc(y, unshifted))
    # Not asked to calibrate, the card reports the gap and leaves its PDs where they fall.
    plain = Scorecard(["dpd", "leverage", "noise"], prior_defaults=60, min_defaults=10).fit(
        X, y, prior=prior
    )
    assert plain.calibration_shift_ == 0 and plain.calibration_gap_ == pytest.approx(shift)
    assert np.allclose(plain.predict_proba(X, prior=prior), unshifted)
    # The points still add up to the score, and the score to the PD.
    explained = card.explain(X, prior_points=expert)
    assert explained.columns == [*card.features_, "expert_base", "expert_dpd"]
    assert np.allclose(explained.sum_horizontal(), card.score(X, prior_points=expert))
    assert np.allclose(blended, 1 / (1 + np.exp((card.score(X, expert) - offset) / factor)))
    with pytest.raises(ValueError, match="expert card"):
        card.predict_proba(X)
    again = Scorecard.from_dict(card.to_dict())
    assert np.allclose(again.predict_proba(X, prior=prior), blended)
    # A card stored before the shift existed scores as it always did.
    stored = card.to_dict()
    for key in ("calibrate", "calibration_shift", "calibration_gap"):
        del stored[key]
    assert np.allclose(Scorecard.from_dict(stored).predict_proba(X, prior=prior), unshifted)


@pytest.mark.parametrize(
    ("logit", "rate"),
    [([0.0, 0.0, 0.0, 0.0], 0.5), ([-4.0, -3.0, -2.0], 0.2), ([1.0, 2.0], 0.05)],
)
def test_the_calibration_shift_makes_the_mean_pd_the_rate(logit, rate):
    shift = calibration_shift(np.array(logit), rate)
    assert np.mean(1 / (1 + np.exp(-(np.array(logit) + shift)))) == pytest.approx(rate, abs=1e-9)


def test_the_calibration_shift_refuses_a_rate_outside_zero_one():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        calibration_shift(np.zeros(3), 0.0)
