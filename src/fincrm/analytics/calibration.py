"""Calibrated probabilities: is a predicted 30 % churn risk right three times in ten?

Pure functions and two estimators over NumPy arrays; nothing here imports Django.

A model that ranks well (a good AUC) can still be wrong about levels: gradient-boosted trees
fitted on a few hundred rows are over-confident, and a book whose churn rate moves between
the training period and today shifts every probability. A calibrator is a monotone map from
the model's probability to a calibrated one, fitted on rows the model did *not* learn from
(a later period, or out-of-fold predictions): it keeps the ranking (the AUC) and fixes the
levels.

- :class:`PlattCalibrator` — a logistic regression on the log-odds of the probability, two
  parameters (Platt 1999); the safe choice on a few dozen or hundred rows.
- :class:`IsotonicCalibrator` — a non-decreasing step function (pool-adjacent-violators);
  flexible, so it wants more rows (scikit-learn's advice: over a thousand).
- :func:`calibrator_for` picks one by the number of rows (:data:`ISOTONIC_MIN_ROWS`).

Quality: :func:`brier_score` (mean squared error of the probabilities, 0 = perfect; always
predicting the base rate ``r`` scores ``r(1 − r)``) and :func:`reliability_table` (predicted
against observed rate per probability band, with counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

NOT_FITTED = "{name} is not fitted: call fit() first"
LENGTH_MISMATCH = "p has {rows} values but y has {labels}"
NOT_BINARY = "y must hold 0/1 labels"
NOT_PROBABILITY = "probabilities must lie in [0, 1]"
EMPTY = "no rows to fit or score on"
BAD_BANDS = "bands must be increasing edges from 0 to 1, got {bands}"
BAD_PARAM = "{name} must be {rule}, got {value!r}"

#: Probabilities are clipped to [EPS, 1 − EPS] before taking log-odds.
EPS = 1e-6
#: From this many rows on, :func:`calibrator_for` fits the isotonic map instead of Platt's.
ISOTONIC_MIN_ROWS = 1_000
#: Default bands of :func:`reliability_table`: tenths of probability.
DEFAULT_BANDS: tuple[float, ...] = tuple(i / 10 for i in range(11))

RELIABILITY_SCHEMA = pl.Schema(
    {
        "lower": pl.Float64,
        "upper": pl.Float64,
        "n": pl.Int64,
        "events": pl.Int64,
        "mean_predicted": pl.Float64,
        "observed_rate": pl.Float64,
    }
)


def _checked(y_true: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float).ravel()
    q = np.asarray(p, dtype=float).ravel()
    if y.shape != q.shape:
        raise ValueError(LENGTH_MISMATCH.format(rows=q.size, labels=y.size))
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(NOT_BINARY)
    if q.size and not ((q >= 0) & (q <= 1)).all():
        raise ValueError(NOT_PROBABILITY)
    return y, q


def _probabilities(p: Any) -> np.ndarray:
    q = np.asarray(p, dtype=float).ravel()
    if q.size and not ((q >= 0) & (q <= 1)).all():
        raise ValueError(NOT_PROBABILITY)
    return q


def logit(p: Any) -> np.ndarray:
    """Log-odds ``log(p / (1 − p))`` of probabilities clipped to [EPS, 1 − EPS]."""
    q = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(q / (1 - q))


def brier_score(y_true: Any, p: Any) -> float:
    """Mean squared difference between the predicted probability and the 0/1 outcome.

    Parameters
    ----------
    y_true : array_like of 0/1
    p : array_like of float in [0, 1]

    Returns
    -------
    float
        0 = perfect; predicting the base rate ``r`` for every row scores ``r(1 − r)``.
    """
    y, q = _checked(y_true, p)
    if y.size == 0:
        raise ValueError(EMPTY)
    return float(np.mean((q - y) ** 2))


def band_index(p: Any, bands: Sequence[float] | np.ndarray = DEFAULT_BANDS) -> np.ndarray:
    """The band of each probability: ``i`` for ``bands[i] ≤ p < bands[i + 1]``, the last
    band also holding ``p = 1``."""
    edges = np.asarray(bands, dtype=float)
    q = np.asarray(p, dtype=float).ravel()
    return np.clip(np.searchsorted(edges, q, side="right") - 1, 0, edges.size - 2)


def reliability_table(y_true: Any, p: Any, bands: Sequence[float] = DEFAULT_BANDS) -> pl.DataFrame:
    """Predicted against observed rate per probability band.

    Parameters
    ----------
    y_true : array_like of 0/1
    p : array_like of float in [0, 1]
    bands : sequence of float
        Increasing band edges from 0 to 1; a band holds ``lower ≤ p < upper`` (the last one
        also ``p = 1``).

    Returns
    -------
    pl.DataFrame
        One row per band that holds a prediction (:data:`RELIABILITY_SCHEMA`): ``lower``,
        ``upper``, ``n`` (rows), ``events`` (of them with outcome 1), ``mean_predicted``
        and ``observed_rate`` (``events / n``). Calibrated: the two rates agree in every
        band, within the noise of ``n``.
    """
    edges = np.asarray(bands, dtype=float)
    if edges.size < 2 or edges[0] != 0 or edges[-1] != 1 or (np.diff(edges) <= 0).any():
        raise ValueError(BAD_BANDS.format(bands=list(bands)))
    y, q = _checked(y_true, p)
    index = band_index(q, edges)
    rows = []
    for band in np.unique(index):
        inside = index == band
        rows.append(
            {
                "lower": float(edges[band]),
                "upper": float(edges[band + 1]),
                "n": int(inside.sum()),
                "events": int(y[inside].sum()),
                "mean_predicted": float(q[inside].mean()),
                "observed_rate": float(y[inside].mean()),
            }
        )
    return pl.DataFrame(rows, schema=RELIABILITY_SCHEMA)


class Calibrator:
    """A fitted monotone map from a model's probability to a calibrated one."""

    def _check_fitted(self) -> None:
        if not getattr(self, "fitted_", False):
            raise RuntimeError(NOT_FITTED.format(name=type(self).__name__))

    def fit(self, p: Any, y: Any) -> Calibrator:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, p: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class PlattCalibrator(Calibrator):
    """Platt scaling: ``calibrated = σ(a · logit(p) + b)``, fitted by maximum likelihood.

    Parameters
    ----------
    C : float, default 1e4
        Inverse L2 strength on ``a`` (scikit-learn's logistic regression); large = almost
        no penalty, so two parameters estimated from the data.

    Attributes
    ----------
    slope_ : float
        ``a``; below 1 the model was over-confident (its probabilities too far from the
        middle), above 1 under-confident.
    intercept_ : float
        ``b``; shifts every log-odds (a change of base rate).
    n_ : int
        Rows it was fitted on.
    """

    def __init__(self, C: float = 1e4):
        self.C = C

    def fit(self, p: Any, y: Any) -> PlattCalibrator:
        """Fit on out-of-sample probabilities ``p`` and their 0/1 outcomes ``y``."""
        from sklearn.linear_model import LogisticRegression

        if isinstance(self.C, bool) or not isinstance(self.C, int | float) or not self.C > 0:
            raise ValueError(BAD_PARAM.format(name="C", rule="> 0", value=self.C))
        labels, q = _checked(y, p)
        if labels.size == 0:
            raise ValueError(EMPTY)
        if np.unique(labels).size < 2:  # one class: only the level is known
            rate = float(np.clip(labels.mean(), EPS, 1 - EPS))
            self.slope_, self.intercept_ = 0.0, float(np.log(rate / (1 - rate)))
        else:
            model = LogisticRegression(C=self.C).fit(logit(q)[:, None], labels.astype(int))
            self.slope_ = float(model.coef_[0, 0])
            self.intercept_ = float(model.intercept_[0])
        self.n_ = int(labels.size)
        self.fitted_ = True
        return self

    def predict(self, p: Any) -> np.ndarray:
        """Calibrated probabilities of ``p`` (same order)."""
        self._check_fitted()
        z = self.slope_ * logit(_probabilities(p)) + self.intercept_
        return 1 / (1 + np.exp(-z))


class IsotonicCalibrator(Calibrator):
    """A non-decreasing step map from probability to observed rate (pool-adjacent-violators).

    Attributes
    ----------
    thresholds_ : numpy.ndarray
        Probabilities at the steps' knots (increasing).
    values_ : numpy.ndarray
        Calibrated probability at each knot; between knots the map is linear, outside them
        flat (scikit-learn's ``IsotonicRegression(out_of_bounds="clip")``).
    n_ : int
        Rows it was fitted on.
    """

    def fit(self, p: Any, y: Any) -> IsotonicCalibrator:
        """Fit on out-of-sample probabilities ``p`` and their 0/1 outcomes ``y``."""
        from sklearn.isotonic import IsotonicRegression

        labels, q = _checked(y, p)
        if labels.size == 0:
            raise ValueError(EMPTY)
        model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        model.fit(q, labels)
        self.thresholds_ = np.asarray(model.X_thresholds_, dtype=float)
        self.values_ = np.asarray(model.y_thresholds_, dtype=float)
        self.n_ = int(labels.size)
        self.fitted_ = True
        return self

    def predict(self, p: Any) -> np.ndarray:
        """Calibrated probabilities of ``p`` (same order)."""
        self._check_fitted()
        return np.interp(_probabilities(p), self.thresholds_, self.values_)


def calibrator_for(n_rows: int) -> Calibrator:
    """Platt's two parameters below :data:`ISOTONIC_MIN_ROWS` rows, the isotonic map from
    there on (it needs many rows not to learn the noise)."""
    return IsotonicCalibrator() if n_rows >= ISOTONIC_MIN_ROWS else PlattCalibrator()
