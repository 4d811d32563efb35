import re
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from fincrm.analytics.churn import (
    BAD_FRACTION,
    BAD_PARAM,
    CHURN_FEATURES,
    EMPTY_SPLIT,
    EXPLAIN_SCHEMA,
    FEATURE_LABELS,
    LEAKAGE,
    MISSING_FEATURES,
    NO_EVENTS,
    NON_NUMERIC_FEATURE,
    NOT_FITTED,
    ONE_CLASS,
    TRAIN_AFTER_CUTOFF,
    UNKNOWN_TIER,
    ChurnModel,
    assert_no_leakage,
    auc,
    lift_at,
    retention_candidates,
    time_split,
)

DRIVERS = {"activity_trend", "complaints_12m"}
CUTOFF = date(2024, 7, 1)


def synthetic(n: int, seed: int) -> pl.DataFrame:
    """logit(churn) = −3 − 5·activity_trend + 1.5·complaints_12m; every other feature is noise."""
    rng = np.random.default_rng(seed)
    activity = rng.normal(0, 0.5, n)
    complaints = rng.poisson(0.8, n)
    logit = -3.0 - 5.0 * activity + 1.5 * complaints
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    as_of = [date(2023, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 730, n)]
    return pl.DataFrame(
        {
            "as_of": as_of,
            "activity_trend": activity,
            "balance_trend": rng.normal(0, 0.3, n),
            "utilisation": rng.uniform(0, 1, n),
            "complaints_12m": complaints,
            "last_nps": np.where(rng.random(n) < 0.3, np.nan, rng.integers(0, 11, n)),
            "days_since_last_contact": rng.integers(0, 200, n),
            "days_to_nearest_maturity": rng.integers(-30, 720, n),
            "competitor_mentions_12m": rng.poisson(0.5, n),
            "tenure_days": rng.integers(30, 3000, n),
            "open_warnings": rng.poisson(0.3, n),
            "max_dpd_12m": rng.poisson(2, n),
            "churned": churned,
        }
    ).with_columns(pl.col("last_nps").fill_nan(None))  # never surveyed: null


@pytest.fixture(scope="module")
def split():
    return time_split(synthetic(3000, 7), date_col="as_of", cutoff=CUTOFF)


@pytest.fixture(scope="module")
def fitted(split):
    train, _test = split
    return ChurnModel().fit(train.select(CHURN_FEATURES), train["churned"])


def test_every_feature_has_an_english_label():
    assert set(FEATURE_LABELS) == set(CHURN_FEATURES)
    assert all(label and label[0].isupper() for label in FEATURE_LABELS.values())


def test_the_model_separates_churners_out_of_time(fitted, split):
    _train, test = split
    metrics = fitted.evaluate(test, test["churned"])

    assert metrics["auc"] > 0.8
    assert metrics["n"] == test.height
    assert metrics["base_rate"] == pytest.approx(test["churned"].mean())
    assert metrics["lift_top_decile"] == pytest.approx(
        metrics["top_decile_rate"] / metrics["base_rate"]
    )
    assert metrics["lift_top_decile"] > 2
    assert metrics["auc"] == pytest.approx(auc(test["churned"], fitted.predict_proba(test)))


def test_high_risk_clients_are_explained_by_the_two_real_drivers(fitted, split):
    _train, test = split
    risk = fitted.predict_proba(test)
    riskiest = test[np.argsort(-risk)[: test.height // 10].tolist()]

    reasons = fitted.explain(riskiest, top=2)

    assert reasons.schema == pl.Schema(EXPLAIN_SCHEMA)
    first = reasons.filter(pl.col("rank") == 1)
    assert first.height == riskiest.height
    assert set(first["feature"]) <= DRIVERS
    assert reasons["feature"].is_in(list(DRIVERS)).mean() >= 0.85
    # Ranked by contribution within each row, all pushing the risk up, with their labels.
    assert (reasons["contribution"] > 0).all()
    assert reasons.equals(
        reasons.sort(["row", "contribution"], descending=[False, True], maintain_order=True)
    )
    assert reasons["label"].to_list() == [FEATURE_LABELS[f] for f in reasons["feature"]]
    row0 = reasons.filter(pl.col("row") == 0)
    for feature, value in zip(row0["feature"], row0["value"], strict=True):
        assert value == pytest.approx(riskiest[feature][0])


def test_contributions_and_expected_value_add_up_to_the_log_odds(fitted, split):
    _train, test = split
    one = test.head(1)
    parts = fitted.contributions(one)
    p = fitted.predict_proba(one)[0]

    assert parts.columns == [*CHURN_FEATURES, "expected_value"]
    assert parts.row(0)[-1] == pytest.approx(fitted.expected_value_)
    assert sum(parts.row(0)) == pytest.approx(np.log(p / (1 - p)))
    assert sum(parts.row(0)) == pytest.approx(fitted.decision_function(one)[0])
    # explain() reports exactly the positive contributions, largest first.
    positive = sorted((v for v in parts.row(0)[:-1] if v > 0), reverse=True)[:3]
    assert fitted.explain(one)["contribution"].to_list() == pytest.approx(positive)


def test_reason_values_are_the_rows_own_values_nulls_included(fitted, split):
    _train, test = split
    reasons = fitted.explain(test, top=len(CHURN_FEATURES))
    source = (
        test.with_row_index("row")
        .with_columns(pl.col("row").cast(pl.Int64), pl.col(CHURN_FEATURES).cast(pl.Float64))
        .unpivot(index="row", on=list(CHURN_FEATURES), variable_name="feature", value_name="x")
    )

    joined = reasons.join(source, on=["row", "feature"])

    assert joined.height == reasons.height
    assert joined["value"].eq_missing(joined["x"]).all()
    assert joined["value"].null_count() > 0  # a missing NPS can raise the risk too


def test_fitting_is_deterministic(split):
    train, test = split
    small = train.head(600)
    a = ChurnModel(n_estimators=30).fit(small, small["churned"]).predict_proba(test)
    b = ChurnModel(n_estimators=30).fit(small, small["churned"]).predict_proba(test)
    assert np.array_equal(a, b)


def test_an_unfitted_model_says_so():
    with pytest.raises(RuntimeError, match=re.escape(NOT_FITTED)):
        ChurnModel().predict_proba(pl.DataFrame({f: [0.0] for f in CHURN_FEATURES}))


def test_fit_refuses_bad_inputs_by_name():
    X = pl.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "y"]})
    y = [0, 1, 0, 1]
    with pytest.raises(ValueError, match=re.escape(MISSING_FEATURES.format(missing="c"))):
        ChurnModel(features=["a", "c"]).fit(X, y)
    message = NON_NUMERIC_FEATURE.format(feature="b", dtype=pl.String)
    with pytest.raises(ValueError, match=re.escape(message)):
        ChurnModel(features=["a", "b"]).fit(X, y)
    with pytest.raises(ValueError, match=re.escape(ONE_CLASS)):
        ChurnModel(features=["a"]).fit(X, [0, 0, 0, 0])
    message = BAD_PARAM.format(name="num_leaves", rule="an integer ≥ 2", value=1)
    with pytest.raises(ValueError, match=re.escape(message)):
        ChurnModel(features=["a"], num_leaves=1).fit(X, y)


# --- leakage ---------------------------------------------------------------------------------


def observations() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "as_of": [date(2024, 1, 1), date(2024, 3, 1), date(2024, 7, 1), date(2024, 9, 1)],
            "last_survey_on": [date(2023, 12, 1), None, date(2024, 6, 30), date(2024, 8, 1)],
            "churned": [0, 1, 0, 1],
        }
    )


def test_a_clean_frame_splits_in_time():
    train, test = time_split(
        observations(), date_col="as_of", cutoff=CUTOFF, feature_date_cols=["last_survey_on"]
    )
    assert train["customer_id"].to_list() == [1, 2]
    assert test["customer_id"].to_list() == [3, 4]
    assert_no_leakage(observations(), as_of_col="last_survey_on", cutoff="as_of")


def test_a_feature_observed_inside_its_own_label_window_is_leakage():
    leaky = observations().with_columns(
        last_survey_on=pl.Series([date(2023, 12, 1), date(2024, 3, 1), None, date(2024, 9, 2)])
    )
    message = LEAKAGE.format(
        count=2, column="last_survey_on", first="row 1 (last_survey_on=2024-03-01)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        assert_no_leakage(leaky, as_of_col="last_survey_on", cutoff="as_of")
    with pytest.raises(ValueError, match=re.escape(message)):
        time_split(leaky, date_col="as_of", cutoff=CUTOFF, feature_date_cols=["last_survey_on"])


def test_a_training_row_with_a_feature_date_after_the_cutoff_is_refused():
    # Row 1 trains (observed in March) but its survey is dated after the cut-off: it has seen
    # the test period.
    frame = observations().with_columns(
        last_survey_on=pl.Series([date(2023, 12, 1), date(2024, 7, 15), None, None])
    )
    message = TRAIN_AFTER_CUTOFF.format(
        count=1, column="last_survey_on", cutoff=CUTOFF, first="row 1 (last_survey_on=2024-07-15)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        time_split(frame, date_col="as_of", cutoff=CUTOFF, feature_date_cols=["last_survey_on"])
    # The same check with one cut-off date for every (training) row.
    message = LEAKAGE.format(
        count=1, column="last_survey_on", first="row 1 (last_survey_on=2024-07-15)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        assert_no_leakage(frame.head(2), as_of_col=["as_of", "last_survey_on"], cutoff=CUTOFF)


def test_an_empty_side_of_the_split_is_refused():
    message = EMPTY_SPLIT.format(cutoff=date(2030, 1, 1), side="test")
    with pytest.raises(ValueError, match=re.escape(message)):
        time_split(observations(), date_col="as_of", cutoff=date(2030, 1, 1))


# --- metrics ---------------------------------------------------------------------------------


def test_lift_on_ten_rows_by_hand():
    score = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    y = [1, 0, 1, 0, 0, 0, 0, 0, 1, 0]
    # Top 20 % = 2 rows (scores 10, 9): 1 churner of 2 = 0.5; base rate 3/10.
    assert lift_at(y, score, 0.2) == pytest.approx(0.5 / 0.3)
    # Top 30 % = 3 rows: 2 of 3.
    assert lift_at(y, score, 0.3) == pytest.approx((2 / 3) / 0.3)
    assert lift_at(y, score, 1.0) == pytest.approx(1.0)


def test_lift_on_twenty_rows_by_hand():
    score = list(range(20, 0, -1))
    y = [1, 1] + [0] * 16 + [1, 1]
    # Top decile = 2 rows, both churned: rate 1 against a base rate of 4/20.
    assert lift_at(y, score) == pytest.approx(1 / 0.2)
    # Churners at both ends: reversed scores put the other two on top.
    assert lift_at(y, score[::-1]) == pytest.approx(1 / 0.2)
    assert lift_at(y, [0] * 20) == pytest.approx(1.0)  # all tied: no information


def test_ties_at_the_cut_count_at_their_average_rate_whatever_the_order():
    y = np.array([1, 1, 0, 0, 0])
    score = np.array([0.9, 0.5, 0.5, 0.5, 0.1])
    # k = 2: the 0.9 row (a churner) plus one of three tied rows, which churn at 1/3.
    expected = ((1 + 1 / 3) / 2) / 0.4
    assert lift_at(y, score, 0.4) == pytest.approx(expected)
    order = [4, 3, 2, 1, 0]
    assert lift_at(y[order], score[order], 0.4) == pytest.approx(expected)


def test_metrics_refuse_what_they_cannot_measure():
    with pytest.raises(ValueError, match=re.escape(NO_EVENTS)):
        lift_at([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=re.escape(BAD_FRACTION.format(fraction=0))):
        lift_at([0, 1], [0.1, 0.2], 0)
    with pytest.raises(ValueError, match=re.escape(ONE_CLASS)):
        auc([1, 1], [0.1, 0.2])


def test_auc_by_hand():
    # Pairs (churner, non-churner): 0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4 → 3 of 4.
    assert auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)


# --- who to call -----------------------------------------------------------------------------


def test_retention_candidates_are_valuable_clients_at_risk():
    frame = pl.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "tier": ["core", "key", "ordinary", "core", "key", None],
            "churn_probability": [0.55, 0.9, 0.95, 0.2, 0.6, 0.99],
        }
    )
    out = retention_candidates(frame, min_prob=0.5, min_tier="key")
    assert out["customer_id"].to_list() == [1, 2, 5]
    assert out["tier_rank"].to_list() == [0, 1, 1]
    only_core = retention_candidates(frame, min_prob=0.1, min_tier="core")
    assert only_core["customer_id"].to_list() == [1, 4]


def test_retention_candidates_refuse_an_unknown_tier():
    frame = pl.DataFrame({"tier": ["gold"], "churn_probability": [0.9]})
    message = UNKNOWN_TIER.format(values=["gold"], order=["core", "key", "ordinary", "low"])
    with pytest.raises(ValueError, match=re.escape(message)):
        retention_candidates(frame)
