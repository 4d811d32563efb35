"""Credit scorecard: optimal binning + weight of evidence + logistic regression, in points.

Conventions
-----------
- Default (the event, ``y = 1``) = 90+ days past due within 12 months of the observation date.
- WoE follows optbinning: ``ln(%non-events / %events)`` per bin, so a higher WoE is safer.
- The model is ``ln(odds of default) = β0 + Σ βj·WoEj``. Scaling: ``factor = pdo / ln 2``,
  ``offset = base_points − factor · ln(base_odds)`` with odds expressed good:bad, so
  ``score = offset + factor · ln(odds good:bad)`` and each characteristic contributes
  ``points_j = −factor · βj · WoEj + (offset − factor · β0) / n``; the points add up to the
  score and ``pd = 1 / (1 + exp((score − offset) / factor))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from math import log

import numpy as np
import polars as pl

from .policy import ExpertScorecard


class InsufficientData(ValueError):
    """Too few defaults (or non-defaults) to fit a statistical scorecard."""


def scaling(base_points: float, base_odds: float, pdo: float) -> tuple[float, float]:
    """(factor, offset) of the points scale."""
    factor = pdo / log(2)
    return factor, base_points - factor * log(base_odds)


def auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.asarray(y), np.asarray(p)))


def ks(y: np.ndarray, p: np.ndarray) -> float:
    """Kolmogorov–Smirnov statistic: max distance between the score CDFs of goods and bads."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _t = roc_curve(np.asarray(y), np.asarray(p))
    return float(np.max(tpr - fpr))


def _frame(X) -> pl.DataFrame:
    """A polars frame from polars or pandas input."""
    if isinstance(X, pl.DataFrame):
        return X
    if hasattr(X, "columns") and hasattr(X, "dtypes"):  # pandas, without importing it
        return pl.from_pandas(X)
    raise TypeError(f"X must be a polars or pandas DataFrame, not {type(X).__name__}")


def _is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype == pl.Boolean or dtype == pl.Null


class Scorecard:
    """A points scorecard fitted on the portfolio's own outcomes.

    Parameters
    ----------
    features : list of str
        Characteristics: numeric columns are binned on the number line, text and categorical
        columns by grouping categories; nulls (and NaN) get the bin of missing values, a
        category never seen in training a neutral WoE of 0.
    base_points, base_odds, pdo : float
        ``base_points`` at good:bad odds of ``base_odds``; ``pdo`` points double the odds.
    monotonic : dict, optional
        feature → optbinning ``monotonic_trend`` ("ascending", "descending", ...): the event
        rate must move that way across bins. Others use "auto".
    min_defaults : int
        Fewer events or non-events than this raise :class:`InsufficientData`.
    max_n_bins : int
    """

    def __init__(
        self,
        features: Sequence[str],
        base_points: float = 600.0,
        base_odds: float = 50.0,
        pdo: float = 20.0,
        monotonic: dict[str, str] | None = None,
        min_defaults: int = 30,
        max_n_bins: int = 6,
    ):
        self.features = list(features)
        self.base_points = base_points
        self.base_odds = base_odds
        self.pdo = pdo
        self.monotonic = monotonic or {}
        self.min_defaults = min_defaults
        self.max_n_bins = max_n_bins

    # --- fitting -----------------------------------------------------------------------

    def fit(self, X, y: np.ndarray) -> Scorecard:
        from optbinning import OptimalBinning
        from sklearn.linear_model import LogisticRegression

        X = _frame(X)
        if not self.features:
            raise ValueError("a scorecard needs at least one feature")
        if self.pdo <= 0 or self.base_odds <= 0:
            raise ValueError("pdo and base_odds must be positive")
        missing = [f for f in self.features if f not in X.columns]
        if missing:
            raise ValueError(f"unknown feature(s): {', '.join(missing)}")
        y = np.asarray(y).astype(int)
        if len(y) != X.height:
            raise ValueError(f"X has {X.height} rows but y has {len(y)}")
        events = int(y.sum())
        if events < self.min_defaults or len(y) - events < self.min_defaults:
            raise InsufficientData(
                f"{events} defaults and {len(y) - events} non-defaults; "
                f"at least {self.min_defaults} of each are needed"
            )
        self.bins_ = {}
        for feature in self.features:
            numeric = _is_numeric(X.schema[feature])
            common = {
                "name": feature,
                "max_n_bins": self.max_n_bins,
                # Adjacent bins must differ significantly: noise does not earn points.
                "max_pvalue": 0.05,
                "min_bin_size": 0.05,
            }
            if X[feature].drop_nulls().n_unique() < 2 or (
                numeric and X[feature].cast(pl.Float64).fill_nan(None).drop_nulls().n_unique() < 2
            ):
                # Nothing to bin (all missing or one value): one neutral bin, no points.
                self.bins_[feature] = {
                    "kind": "numerical" if numeric else "categorical",
                    "splits": [],
                    "woe": [0.0],
                    "categories": {},
                    "woe_missing": 0.0,
                }
            elif numeric:
                x = X[feature].cast(pl.Float64).fill_nan(None).to_numpy()
                binning = OptimalBinning(
                    dtype="numerical",
                    monotonic_trend=self.monotonic.get(feature, "auto"),
                    **common,
                )
                binning.fit(x, y)
                splits = np.asarray(binning.splits, dtype=float)
                reps = np.concatenate([[splits[0] - 1] if splits.size else [0.0], splits])
                woe = binning.transform(reps, metric="woe")
                woe_missing = float(binning.transform(np.array([np.nan]), metric="woe")[0])
                self.bins_[feature] = {
                    "kind": "numerical",
                    "splits": splits.tolist(),
                    "woe": [float(v) for v in woe],
                    "woe_missing": woe_missing,
                }
            else:
                x = X[feature].cast(pl.String).to_numpy().astype(object)
                binning = OptimalBinning(dtype="categorical", **common)
                binning.fit(x, y)
                categories = sorted({v for v in x if v is not None})
                woe = binning.transform(np.array(categories, dtype=object), metric="woe")
                woe_missing = float(
                    binning.transform(np.array([None], dtype=object), metric="woe")[0]
                )
                self.bins_[feature] = {
                    "kind": "categorical",
                    "categories": {c: float(w) for c, w in zip(categories, woe, strict=True)},
                    "woe_missing": woe_missing,
                }
        W = self._woe(X)
        model = LogisticRegression(C=1e3, max_iter=1000)
        model.fit(W, y)
        self.coef_ = model.coef_[0].astype(float)
        self.intercept_ = float(model.intercept_[0])
        self.feature_names_ = list(self.features)
        self.auc_ = auc(y, self.predict_proba(X))
        self.points_table_ = self._points_table(X, y)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError("Scorecard is not fitted: call fit() or from_dict() first")

    def _bin_index(self, feature: str, column: pl.Series) -> tuple[np.ndarray, list]:
        """Each value's bin (−1 = missing) and the bins' WoE, for either kind of feature."""
        spec = self.bins_[feature]
        if spec.get("kind", "numerical") == "numerical":
            values = column.cast(pl.Float64).fill_nan(None).to_numpy().astype(float)
            index = np.searchsorted(np.asarray(spec["splits"], dtype=float), values, "right")
            return np.where(np.isnan(values), -1, index), list(spec["woe"])
        woes = sorted(set(spec["categories"].values()))
        codes = {c: woes.index(w) for c, w in spec["categories"].items()}
        # An unseen category: its own bin of WoE 0 (neutral), after the known ones.
        values = column.cast(pl.String)
        index = values.replace_strict(codes, default=len(woes), return_dtype=pl.Int64)
        return np.where(values.is_null().to_numpy(), -1, index.to_numpy()), [*woes, 0.0]

    def _woe(self, X: pl.DataFrame) -> np.ndarray:
        columns = []
        for feature in self.features:
            index, woe = self._bin_index(feature, X[feature])
            table = np.asarray([*woe, self.bins_[feature]["woe_missing"]], dtype=float)
            columns.append(table[np.where(index < 0, len(woe), index)])
        return np.column_stack(columns)

    def _labels(self, feature: str) -> list[str]:
        spec = self.bins_[feature]
        if spec.get("kind", "numerical") == "numerical":
            edges = [-np.inf, *spec["splits"], np.inf]
            return [f"[{edges[i]:.4g}, {edges[i + 1]:.4g})" for i in range(len(spec["woe"]))]
        woes = sorted(set(spec["categories"].values()))
        groups = [[c for c, w in spec["categories"].items() if w == woe] for woe in woes]
        return [", ".join(g) for g in groups] + ["(other)"]

    def _points_table(self, X: pl.DataFrame, y: np.ndarray) -> pl.DataFrame:
        factor, offset = scaling(self.base_points, self.base_odds, self.pdo)
        n = len(self.features)
        rows = []
        for j, feature in enumerate(self.features):
            index, woe = self._bin_index(feature, X[feature])
            bins = [*zip(self._labels(feature), woe, strict=True)]
            bins.append(("missing", self.bins_[feature]["woe_missing"]))
            for i, (label, value) in enumerate(bins):
                members = index == (i if label != "missing" else -1)
                rows.append(
                    {
                        "feature": feature,
                        "bin": label,
                        "woe": value,
                        "points": -factor * self.coef_[j] * value
                        + (offset - factor * self.intercept_) / n,
                        "count": int(members.sum()),
                        "event_rate": float(y[members].mean()) if members.any() else None,
                    }
                )
        return pl.DataFrame(rows)

    # --- scoring -----------------------------------------------------------------------

    def explain(self, X) -> pl.DataFrame:
        """The points each characteristic contributes, one column per feature, per row; a
        row's points add up to its score."""
        self._check_fitted()
        factor, offset = scaling(self.base_points, self.base_odds, self.pdo)
        W = self._woe(_frame(X))
        n = len(self.features)
        points = -factor * W * self.coef_[None, :] + (offset - factor * self.intercept_) / n
        return pl.DataFrame(points, schema=self.features, orient="row")

    def score(self, X) -> np.ndarray:
        """Points per row (higher is safer)."""
        return self.explain(X).sum_horizontal().to_numpy()

    def predict_proba(self, X) -> np.ndarray:
        """Probability of default per row."""
        self._check_fitted()
        logit = self.intercept_ + self._woe(_frame(X)) @ self.coef_
        return 1.0 / (1.0 + np.exp(-logit))

    # --- storage -----------------------------------------------------------------------

    def to_dict(self) -> dict:
        self._check_fitted()
        return {
            "features": self.features,
            "base_points": self.base_points,
            "base_odds": self.base_odds,
            "pdo": self.pdo,
            "bins": self.bins_,
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_,
            "auc": self.auc_,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Scorecard:
        card = cls(
            features=data["features"],
            base_points=data["base_points"],
            base_odds=data["base_odds"],
            pdo=data["pdo"],
        )
        card.bins_ = data["bins"]
        card.coef_ = np.asarray(data["coef"], dtype=float)
        card.intercept_ = float(data["intercept"])
        card.auc_ = data.get("auc")
        card.feature_names_ = list(card.features)
        return card


def fit_scorecard(X, y: np.ndarray, **options) -> Scorecard:
    """Fit a :class:`Scorecard` on ``X`` (polars or pandas) and 0/1 outcomes ``y``.

    Options are :class:`Scorecard`'s (``features`` defaults to every column of ``X``).
    """
    X = _frame(X)
    features = options.pop("features", None) or list(X.columns)
    return Scorecard(features, **options).fit(X, y)


def score_distribution(scores: np.ndarray, n_bins: int = 10) -> dict:
    """Score bands at the deciles of ``scores`` and the share of scores in each: the
    reference a later population is compared with (:func:`population_stability`)."""
    scores = np.asarray(scores, dtype=float)
    inner = np.unique(np.quantile(scores, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return {"edges": inner.tolist(), "shares": band_shares(scores, inner.tolist()).tolist()}


def band_shares(scores: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Share of ``scores`` in each band (−∞, e1), [e1, e2), …, [ek, ∞)."""
    scores = np.asarray(scores, dtype=float)
    counts = np.bincount(
        np.searchsorted(np.asarray(edges, dtype=float), scores, side="right"),
        minlength=len(edges) + 1,
    )
    return counts / max(len(scores), 1)


def population_stability(expected: Sequence[float], actual: Sequence[float]) -> float:
    """PSI = Σ (a − e) · ln(a / e) over bands, shares floored at 0.0001 so an empty band
    counts without an infinity. Rule of thumb: < 0.1 stable, 0.1–0.25 watch, > 0.25 shifted."""
    e = np.maximum(np.asarray(expected, dtype=float), 1e-4)
    a = np.maximum(np.asarray(actual, dtype=float), 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


def expert_score(
    X: pl.DataFrame,
    rules: ExpertScorecard | None = None,
    *,
    base_points: float = 600.0,
    pdo: float = 20.0,
    base_odds: float = 50.0,
) -> pl.DataFrame:
    """Score and PD from the policy's expert scorecard (:class:`~.policy.ExpertScorecard`),
    used while the book has too few defaults to fit a statistical one.

    Output: score, pd and ``points_<factor>`` for arrears, leverage, liquidity, coverage,
    growth and tenure, plus ``points_base`` (the score of a client with no factor): the points
    add up to the score, as the statistical scorecard's do.
    """
    r = rules or ExpertScorecard()
    factor, offset = scaling(base_points, base_odds, pdo)
    flag = lambda condition: condition.fill_null(False).cast(pl.Float64)  # noqa: E731
    col = lambda name: pl.col(name).cast(pl.Float64)  # noqa: E731  (an all-null column too)
    leverage = col("debt_to_asset")
    parts = {
        "arrears": r.arrears_per_day * col("max_dpd_12m").fill_null(0).clip(0, r.arrears_cap_days),
        "leverage": r.leverage_per_unit * (leverage - r.leverage_above).clip(0).fill_null(0)
        - r.low_leverage_bonus * flag(leverage < r.low_leverage_below),
        "liquidity": r.illiquid_penalty * flag(col("current_ratio") < r.illiquid_below),
        "coverage": -r.coverage_bonus * flag(col("interest_coverage") > r.coverage_above),
        "growth": -r.growth_weight
        * col("revenue_growth").clip(-r.growth_cap, r.growth_cap).fill_null(0),
        "tenure": -r.tenure_bonus
        * (col("tenure_days").fill_null(0) / r.tenure_full_days).clip(0, 1),
    }
    logit = pl.lit(r.base_logit) + pl.sum_horizontal([v.cast(pl.Float64) for v in parts.values()])
    return X.select(
        score=offset - factor * logit,
        pd=1 / (1 + (-logit).exp()),
        points_base=pl.lit(offset - factor * r.base_logit, dtype=pl.Float64),
        **{f"points_{k}": -factor * v.cast(pl.Float64) for k, v in parts.items()},
    )


def grade_from_pd(pd: np.ndarray, bands: Sequence[tuple[str, float]]) -> np.ndarray:
    """The first band (ascending ``max_pd``) whose ``max_pd`` is at least the PD."""
    grades = np.array([g for g, _p in bands], dtype=object)
    edges = np.array([p for _g, p in bands], dtype=float)
    index = np.searchsorted(edges, np.asarray(pd, dtype=float), side="left")
    return grades[np.clip(index, 0, len(grades) - 1)]


def build_default_labels(
    observations: pl.DataFrame,
    *,
    observation_date: date,
    horizon_days: int = 365,
    default_dpd: int = 90,
) -> pl.DataFrame:
    """customer_id, default: 1 if days past due reached ``default_dpd`` at any observation
    (column ``as_of``) in (observation_date, observation_date + horizon], else 0."""
    end = observation_date + timedelta(days=horizon_days)
    window = observations.filter((pl.col("as_of") > observation_date) & (pl.col("as_of") <= end))
    return window.group_by("customer_id").agg(
        default=(pl.col("dpd").max() >= default_dpd).cast(pl.Int64)
    )
