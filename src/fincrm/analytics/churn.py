"""Churn risk: which clients are about to leave, why, and which of them are worth a call.

Pure functions and an estimator over polars frames; nothing here imports Django.

Training data
-------------
One row per (client, observation date ``as_of``). The features describe the client using only
events *strictly before* ``as_of``; the label (1 = churned) looks at a window that starts on
``as_of`` (e.g. no drawdown, no renewal and the balance run off within the next 6 months).
Features observed on or after the start of the label window leak the answer into the model:
:func:`assert_no_leakage` and :func:`time_split` refuse such frames. A feature that comes from
a dated event (the last survey, the last contact) should carry that event's date in its own
column (``last_survey_on``, ``last_contact_on``...) so the check can see it.

Features (:data:`CHURN_FEATURES`)
---------------------------------
``activity_trend``
    Drawdown amount in the 6 months before ``as_of`` over the 6 months before that, minus 1
    (−1 = stopped drawing, 0 = flat); null when the earlier 6 months had no drawdown.
``balance_trend``
    Outstanding balance at ``as_of`` over the balance 6 months earlier, minus 1; null when the
    earlier balance was 0.
``utilisation``
    Drawn balance over approved limits at ``as_of``, 0–1.
``complaints_12m``
    Complaints logged in the 12 months before ``as_of``.
``last_nps``
    Score (0–10) of the client's last satisfaction survey; null when never surveyed.
``days_since_last_contact``
    Days from the last successful contact to ``as_of``.
``days_to_nearest_maturity``
    Days from ``as_of`` to the nearest maturity of an open facility (negative: matured and
    not renewed); null without an open facility.
``competitor_mentions_12m``
    Notes of the last 12 months mentioning a competitor (another lender, a better offer).
``tenure_days``
    Days since the first disbursement.
``open_warnings``
    Early-warning alerts open at ``as_of``.
``max_dpd_12m``
    Worst days past due in the 12 months before ``as_of``.

Nulls are allowed in every feature: LightGBM learns which side of each split missing values
go to.

Reasons
-------
:meth:`ChurnModel.explain` gives, per row, the features that push the risk up the most, as
LightGBM's exact tree contributions (TreeSHAP, ``pred_contrib=True``) in log-odds: for each
row the contributions of all features plus the expected value add up to the raw log-odds of
churn, ``log(p / (1 − p))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from math import ceil
from typing import Any

import numpy as np
import polars as pl

from .policy import TIERS


def gettext_noop(text: str) -> str:
    return text


#: The behavioural features the churn model is trained on (see the module docstring).
CHURN_FEATURES: tuple[str, ...] = (
    "activity_trend",
    "balance_trend",
    "utilisation",
    "complaints_12m",
    "last_nps",
    "days_since_last_contact",
    "days_to_nearest_maturity",
    "competitor_mentions_12m",
    "tenure_days",
    "open_warnings",
    "max_dpd_12m",
)

#: Feature → English label shown as a churn reason; the UI translates it and shows ``value``.
FEATURE_LABELS: dict[str, str] = {
    "activity_trend": gettext_noop("Drawdowns in the last 6 months against the 6 before"),
    "balance_trend": gettext_noop("Outstanding balance against 6 months ago"),
    "utilisation": gettext_noop("Share of approved limits in use"),
    "complaints_12m": gettext_noop("Complaints in the last 12 months"),
    "last_nps": gettext_noop("Score in the last satisfaction survey"),
    "days_since_last_contact": gettext_noop("Days since the last contact"),
    "days_to_nearest_maturity": gettext_noop("Days to the nearest maturity"),
    "competitor_mentions_12m": gettext_noop("Competitors mentioned in notes (12 months)"),
    "tenure_days": gettext_noop("Days as a client"),
    "open_warnings": gettext_noop("Open early-warning alerts"),
    "max_dpd_12m": gettext_noop("Worst days past due in the last 12 months"),
}

NOT_FITTED = "ChurnModel is not fitted: call fit() first"
LEAKAGE = (
    "{count} row(s) have {column} on or after the start of their label window "
    "(features must be observed strictly before it), first: {first}"
)
TRAIN_AFTER_CUTOFF = (
    "{count} training row(s) have {column} on or after the cut-off {cutoff} "
    "(the training set would see the test period), first: {first}"
)
EMPTY_SPLIT = "time_split at {cutoff} leaves the {side} set empty"
MISSING_FEATURES = "X is missing feature column(s): {missing}"
NON_NUMERIC_FEATURE = "feature {feature!r} must be numeric or boolean, not {dtype}"
LENGTH_MISMATCH = "X has {rows} rows but y has {labels}"
NOT_BINARY = "y must hold 0/1 labels"
ONE_CLASS = "y needs both churned (1) and retained (0) clients"
BAD_FRACTION = "fraction must be in (0, 1], got {fraction}"
NO_EVENTS = "the lift is undefined without any churned client (base rate 0)"
UNKNOWN_TIER = "unknown tier(s) {values}; expected one of {order}"
BAD_PARAM = "{name} must be {rule}, got {value!r}"

EXPLAIN_SCHEMA = pl.Schema(
    {
        "row": pl.Int64,
        "rank": pl.Int64,
        "feature": pl.String,
        "label": pl.String,
        "value": pl.Float64,
        "contribution": pl.Float64,
    }
)


# --------------------------------------------------------------------------------------------
# leakage-safe splitting
# --------------------------------------------------------------------------------------------


def _first_violation(
    frame: pl.DataFrame, columns: Sequence[str], bound: pl.Expr
) -> tuple[str, int, str] | None:
    """(column, count, description of the first row) of the first column with dates on or
    after ``bound``; None when every date is before it (nulls pass). Rows are numbered by
    their ``_row`` column when there is one, else by position."""
    if "__row" not in frame.columns:
        frame = frame.with_row_index("__row")
    for column in columns:
        bad = frame.filter((pl.col(column) >= bound).fill_null(False))
        if bad.height:
            first = bad.row(0, named=True)
            return column, bad.height, f"row {first['__row']} ({column}={first[column]})"
    return None


def assert_no_leakage(
    frame: pl.DataFrame, *, as_of_col: str | Sequence[str], cutoff: date | str
) -> None:
    """Raise if any row's features were observed on or after the start of its label window.

    Parameters
    ----------
    frame : pl.DataFrame
        Training or scoring rows.
    as_of_col : str or sequence of str
        Date column(s) saying when the row's features were observed: the snapshot date the
        features were computed *up to* and/or the dates of the events individual features
        come from (``last_survey_on``...). Null dates (no such event) are fine.
    cutoff : date or str
        Start of the label window: one date for every row, or the name of a date column
        holding each row's own window start (usually the observation date ``as_of``).

    Raises
    ------
    ValueError
        :data:`LEAKAGE`, naming the column, the number of offending rows and the first one.
    """
    columns = [as_of_col] if isinstance(as_of_col, str) else list(as_of_col)
    bound = pl.col(cutoff) if isinstance(cutoff, str) else pl.lit(cutoff)
    found = _first_violation(frame, columns, bound)
    if found:
        column, count, first = found
        raise ValueError(LEAKAGE.format(count=count, column=column, first=first))


def time_split(
    frame: pl.DataFrame,
    *,
    date_col: str,
    cutoff: date,
    feature_date_cols: Sequence[str] = (),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split observations in time: train before ``cutoff``, test on and after it.

    Parameters
    ----------
    frame : pl.DataFrame
        One row per (client, observation date).
    date_col : str
        Observation date: the start of each row's label window; its features describe the
        client strictly before it.
    cutoff : date
        Rows observed before it train the model, rows observed on or after it test it.
    feature_date_cols : sequence of str
        Dates of the events features were taken from (``last_survey_on``...).

    Returns
    -------
    (train, test) : tuple of pl.DataFrame

    Raises
    ------
    ValueError
        :data:`TRAIN_AFTER_CUTOFF` if a training row has a feature date on or after
        ``cutoff`` (it saw the test period); :data:`LEAKAGE` if any row has a feature date on
        or after its own observation date; :data:`EMPTY_SPLIT` if either side is empty.
    """
    indexed = frame.with_row_index("__row")
    train = indexed.filter(pl.col(date_col) < cutoff)
    test = indexed.filter(pl.col(date_col) >= cutoff).drop("__row")
    found = _first_violation(train, list(feature_date_cols), pl.lit(cutoff))
    if found:
        column, count, first = found
        raise ValueError(
            TRAIN_AFTER_CUTOFF.format(count=count, column=column, cutoff=cutoff, first=first)
        )
    assert_no_leakage(frame, as_of_col=list(feature_date_cols), cutoff=date_col)
    for side, part in (("train", train), ("test", test)):
        if part.height == 0:
            raise ValueError(EMPTY_SPLIT.format(cutoff=cutoff, side=side))
    return train.drop("__row"), test


# --------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------


def _labels_scores(y_true: Any, score: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float).ravel()
    s = np.asarray(score, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(LENGTH_MISMATCH.format(rows=s.size, labels=y.size))
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(NOT_BINARY)
    return y, s


def auc(y_true: Any, score: Any) -> float:
    """Area under the ROC curve of ``score`` (higher = more likely to churn) for 0/1 labels."""
    from sklearn.metrics import roc_auc_score

    y, s = _labels_scores(y_true, score)
    if np.unique(y).size < 2:
        raise ValueError(ONE_CLASS)
    return float(roc_auc_score(y, s))


def _top_rate(y: np.ndarray, s: np.ndarray, fraction: float) -> float:
    """Churn rate among the ``ceil(fraction · n)`` highest scores; ties at the cut count at
    their group's average rate (the expectation over any order of the tied rows)."""
    if not 0 < fraction <= 1:
        raise ValueError(BAD_FRACTION.format(fraction=fraction))
    k = max(ceil(round(fraction * y.size, 9)), 1)
    threshold = np.sort(s)[::-1][k - 1]
    above = s > threshold
    tied = s == threshold
    hits = y[above].sum() + (k - above.sum()) * y[tied].mean()
    return float(hits / k)


def lift_at(y_true: Any, score: Any, fraction: float = 0.1) -> float:
    """Churn rate among the top ``fraction`` of scores over the overall churn rate.

    Parameters
    ----------
    y_true : array_like of 0/1
        1 = churned.
    score : array_like of float
        Risk score, higher = more likely to churn.
    fraction : float, default 0.1
        Share of rows in the top group: the ``ceil(fraction · n)`` highest scores. Rows tied
        with the last one in the group count at the tied rows' average churn rate, so the
        result does not depend on row order.

    Returns
    -------
    float
        1 = no better than random; ``1 / base_rate`` is the best possible.
    """
    y, s = _labels_scores(y_true, score)
    if y.size == 0 or y.sum() == 0:
        raise ValueError(NO_EVENTS)
    return _top_rate(y, s, fraction) / float(y.mean())


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------


def _frame(X: Any) -> pl.DataFrame:
    if isinstance(X, pl.DataFrame):
        return X
    if hasattr(X, "columns") and hasattr(X, "dtypes"):  # pandas, without importing it
        return pl.from_pandas(X)
    raise TypeError(f"X must be a polars or pandas DataFrame, not {type(X).__name__}")


class ChurnModel:
    """Gradient-boosted trees (LightGBM) on behavioural features, with per-row reasons.

    Parameters
    ----------
    n_estimators : int, default 200
        Boosting rounds.
    learning_rate : float, default 0.05
    num_leaves : int, default 15
        Leaves per tree (≥ 2).
    min_child_samples : int, default 20
        Fewest training rows in a leaf: keeps small groups of clients from earning a rule.
    random_state : int, default 0
        Seed; fitting is deterministic (``deterministic=True``, ``force_col_wise=True``).
    features : sequence of str, optional
        Feature columns; defaults to :data:`CHURN_FEATURES`. Numeric or boolean, nulls
        allowed.
    n_jobs : int, default 1
        Threads LightGBM may use.

    Attributes
    ----------
    model_ : lightgbm.LGBMClassifier
    feature_names_ : list of str
    base_rate_ : float
        Churn rate of the training rows.
    expected_value_ : float
        The model's expected raw score (log-odds) on the training rows: the starting point
        the contributions in :meth:`explain` add to.
    """

    def __init__(
        self,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        random_state: int = 0,
        features: Sequence[str] | None = None,
        n_jobs: int = 1,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.random_state = random_state
        self.features = features
        self.n_jobs = n_jobs

    # --- fitting -----------------------------------------------------------------------

    def _validate_params(self) -> None:
        rules = (
            ("n_estimators", self.n_estimators, "an integer ≥ 1", 1),
            ("num_leaves", self.num_leaves, "an integer ≥ 2", 2),
            ("min_child_samples", self.min_child_samples, "an integer ≥ 1", 1),
            ("n_jobs", self.n_jobs, "an integer ≥ 1", 1),
        )
        for name, value, rule, low in rules:
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(BAD_PARAM.format(name=name, rule=rule, value=value))
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate > 0:
            raise ValueError(BAD_PARAM.format(name="learning_rate", rule="> 0", value=rate))

    def _matrix(self, X: pl.DataFrame, features: Sequence[str]) -> np.ndarray:
        missing = [f for f in features if f not in X.columns]
        if missing:
            raise ValueError(MISSING_FEATURES.format(missing=", ".join(missing)))
        for feature in features:
            dtype = X.schema[feature]
            if not (dtype.is_numeric() or dtype in (pl.Boolean, pl.Null)):
                raise ValueError(NON_NUMERIC_FEATURE.format(feature=feature, dtype=dtype))
        return (
            X.select(pl.col(f).cast(pl.Float64).fill_nan(None) for f in features)
            .to_numpy()
            .astype(float)
        )

    def fit(self, X: Any, y: Any) -> ChurnModel:
        """Fit on features ``X`` (polars or pandas) and labels ``y`` (1 = churned)."""
        from lightgbm import LGBMClassifier

        self._validate_params()
        X = _frame(X)
        features = list(self.features) if self.features is not None else list(CHURN_FEATURES)
        matrix = self._matrix(X, features)
        labels = np.asarray(y, dtype=float).ravel()
        if labels.size != X.height:
            raise ValueError(LENGTH_MISMATCH.format(rows=X.height, labels=labels.size))
        if not np.isin(labels, (0.0, 1.0)).all():
            raise ValueError(NOT_BINARY)
        if np.unique(labels).size < 2:
            raise ValueError(ONE_CLASS)
        model = LGBMClassifier(
            objective="binary",
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            deterministic=True,
            force_col_wise=True,
            verbose=-1,
        )
        model.fit(matrix, labels.astype(int))
        self.model_ = model
        self.feature_names_ = features
        self.base_rate_ = float(labels.mean())
        contributions = np.asarray(model.predict(matrix[:1], pred_contrib=True))
        self.expected_value_ = float(contributions[0, -1])
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise RuntimeError(NOT_FITTED)

    # --- scoring -----------------------------------------------------------------------

    def _x(self, X: Any) -> np.ndarray:
        self._check_fitted()
        return self._matrix(_frame(X), self.feature_names_)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of churn per row (a 1-D array, not scikit-learn's two columns)."""
        matrix = self._x(X)
        return np.asarray(self.model_.predict_proba(matrix))[:, 1]

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw score per row: the log-odds of churn, ``log(p / (1 − p))``."""
        matrix = self._x(X)
        return np.asarray(self.model_.predict(matrix, raw_score=True), dtype=float)

    def contributions(self, X: Any) -> pl.DataFrame:
        """Every feature's contribution (log-odds) per row, plus ``expected_value``.

        LightGBM's ``pred_contrib=True``: each row's columns add up to its
        :meth:`decision_function`.
        """
        matrix = self._x(X)
        values = self.model_.predict(matrix, pred_contrib=True)
        return pl.DataFrame(
            np.asarray(values, dtype=float),
            schema=[*self.feature_names_, "expected_value"],
            orient="row",
        )

    def explain(self, X: Any, top: int = 3) -> pl.DataFrame:
        """The ``top`` features pushing each row's churn risk up the most.

        Returns
        -------
        pl.DataFrame
            ``row`` (0-based position in ``X``), ``rank`` (1 = strongest), ``feature``,
            ``label`` (from :data:`FEATURE_LABELS`, else the feature name), ``value`` (the
            row's feature value, null when missing) and ``contribution`` (log-odds > 0),
            sorted by row then contribution descending (ties: feature order). Features that
            lower the risk are left out, so a row can have fewer than ``top`` reasons.
        """
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ValueError(BAD_PARAM.format(name="top", rule="an integer ≥ 1", value=top))
        matrix = self._x(X)
        contrib = np.asarray(self.model_.predict(matrix, pred_contrib=True), dtype=float)[:, :-1]
        n, m = contrib.shape
        long = pl.DataFrame(
            {
                "row": np.repeat(np.arange(n), m),
                "_order": np.tile(np.arange(m), n),
                "feature": np.tile(np.asarray(self.feature_names_, dtype=object), n).tolist(),
                "value": matrix.ravel(),
                "contribution": contrib.ravel(),
            },
            schema_overrides={"row": pl.Int64, "_order": pl.Int64},
        )
        if long.height == 0:
            return pl.DataFrame(schema=EXPLAIN_SCHEMA)
        labels = {f: FEATURE_LABELS.get(f, f) for f in self.feature_names_}
        return (
            long.filter(pl.col("contribution") > 0)
            .sort(["row", "contribution", "_order"], descending=[False, True, False])
            .with_columns(rank=pl.int_range(1, pl.len() + 1).over("row").cast(pl.Int64))
            .filter(pl.col("rank") <= top)
            .with_columns(
                label=pl.col("feature").replace_strict(labels, return_dtype=pl.String),
                value=pl.col("value").fill_nan(None),
            )
            .select(list(EXPLAIN_SCHEMA))
            .cast(EXPLAIN_SCHEMA)
        )

    def evaluate(self, X_test: Any, y_test: Any) -> dict[str, float | int]:
        """Out-of-time quality on a hold-out.

        Returns
        -------
        dict
            ``auc``; ``lift_top_decile`` (:func:`lift_at` 0.1); ``base_rate`` and
            ``top_decile_rate`` (churn rates of all rows and of the 10 % highest scores);
            ``n`` (rows).
        """
        score = self.predict_proba(X_test)
        y, s = _labels_scores(y_test, score)
        base = float(y.mean()) if y.size else float("nan")
        return {
            "auc": auc(y, s),
            "lift_top_decile": lift_at(y, s, 0.1),
            "base_rate": base,
            "top_decile_rate": _top_rate(y, s, 0.1),
            "n": int(y.size),
        }


# --------------------------------------------------------------------------------------------
# who to call
# --------------------------------------------------------------------------------------------


def retention_candidates(
    frame: pl.DataFrame,
    *,
    prob_col: str = "churn_probability",
    tier_col: str = "tier",
    min_prob: float = 0.5,
    min_tier: str = "key",
    order: Sequence[str] = TIERS,
) -> pl.DataFrame:
    """Valuable clients at risk: the ones a retention call is worth.

    Parameters
    ----------
    frame : pl.DataFrame
        One row per client with a churn probability and a value tier (plus anything else, kept).
    prob_col : str
        Churn probability, 0–1 (:meth:`ChurnModel.predict_proba`).
    tier_col : str
        Value tier (:mod:`fincrm.analytics.tiering`).
    min_prob : float, default 0.5
        Clients with a probability at least this are at risk.
    min_tier : str, default "key"
        The least valuable tier still worth a call (``order`` runs best first).
    order : sequence of str
        Tiers from best to worst; defaults to the policy's tiers.

    Returns
    -------
    pl.DataFrame
        The selected rows plus ``tier_rank`` (0 = best tier), sorted best tier first, then by
        probability descending. Clients with a null probability or tier are never selected.

    Raises
    ------
    ValueError
        :data:`UNKNOWN_TIER` for a tier (or ``min_tier``) outside ``order``.
    """
    order = list(order)
    ranks = {t: i for i, t in enumerate(order)}
    unknown = sorted({v for v in frame[tier_col].drop_nulls().to_list() if v not in ranks})
    if min_tier not in ranks:
        unknown.append(min_tier)
    if unknown:
        raise ValueError(UNKNOWN_TIER.format(values=unknown, order=order))
    return (
        frame.with_columns(
            tier_rank=pl.col(tier_col).replace_strict(ranks, default=None, return_dtype=pl.Int64)
        )
        .filter(
            (pl.col(prob_col) >= min_prob).fill_null(False)
            & (pl.col("tier_rank") <= ranks[min_tier]).fill_null(False)
        )
        .sort(["tier_rank", prob_col], descending=[False, True], maintain_order=True)
    )
