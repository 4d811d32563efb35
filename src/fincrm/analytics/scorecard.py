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

    Fitting follows the discipline a small book needs (few defaults, many candidate
    characteristics):

    1. **Binning** of every candidate (optimal binning, adjacent bins significantly different,
       each bin ≥ ``min_bin_size`` of the sample; monotonic where ``monotonic`` says the business
       expects it).
    2. **Selection**: candidates ranked by information value (IV); one below ``min_iv`` is
       dropped (it does not separate defaults from the rest), as is one whose WoE correlates
       above ``max_correlation`` with a stronger one already kept (it says the same thing).
    3. **Regularisation chosen by cross-validation**: the L2 strength of the logistic
       regression is the one with the best out-of-fold log-likelihood over ``cv_folds``
       stratified folds (``C`` fixes it instead). A characteristic whose coefficient comes out
       with the wrong sign (a safer bin raising the PD: collinearity, not evidence) is dropped,
       the most wrongly signed first, and the model refitted (see ``wrong_signs``).
    4. **Blend with the expert card** when defaults are few (``prior_defaults`` > 0 and a
       ``prior`` given to :meth:`fit`): the expert card's log-odds are a prior worth
       ``prior_defaults`` defaults, so the blended log-odds are
       ``w · expert + (1 − w) · statistical`` with ``w = prior_defaults / (prior_defaults + d)``
       for ``d`` training defaults (credibility weighting): at 30 defaults and a prior worth
       60, the expert card has two thirds of the say; at 600 defaults, a tenth.
    5. **Calibration in the large** of a blended card (``calibrate=True``): the expert card's
       log-odds sit at the level the policy gave it, not at this book's default rate, so the
       blend pulls every PD towards that level (on the demo book: a mean PD of 1.7 % against
       7.4 % observed). ``calibration_gap_`` is the constant that, added to the blended
       log-odds, makes the mean predicted PD on the training rows equal their default rate
       (``train_default_rate_``; ``train_mean_pd_`` is the mean before it); with ``calibrate``
       it is applied (``calibration_shift_``), else reported only. The ranking is unchanged;
       the PDs, and the grades read from them, move — a policy decision, hence a parameter.
       Its points are spread over the statistical characteristics, as the intercept's are, so
       a row's points still add up to its score and its score still maps to its PD.

    Parameters
    ----------
    features : list of str
        Candidate characteristics: numeric columns are binned on the number line, text and
        categorical columns by grouping categories; nulls (and NaN) get the bin of missing
        values, a category never seen in training a neutral WoE of 0.
    base_points, base_odds, pdo : float
        ``base_points`` at good:bad odds of ``base_odds``; ``pdo`` points double the odds.
    monotonic : dict, optional
        feature → optbinning ``monotonic_trend`` ("ascending", "descending", ...): the event
        rate must move that way across bins. Others use "auto".
    min_defaults : int
        Fewer events or non-events than this raise :class:`InsufficientData`.
    max_n_bins : int
    min_bin_size : float
        Smallest bin, as a share of the training rows.
    max_pvalue : float
        Adjacent bins whose event rates do not differ at this level are merged.
    min_iv : float
        Characteristics with a lower information value are not used (0.02: "useless" on the
        usual scale).
    max_correlation : float
        Largest absolute correlation between the WoE of two characteristics kept.
    C : float, optional
        Inverse L2 strength of the logistic regression; None: chosen by cross-validation.
    cv_folds : int
    prior_defaults : float
        Weight of the expert prior, in defaults (0: no blend).
    calibrate : bool
        Apply the calibration in the large of a blended card (step 5).
    random_state : int
        Seed of the cross-validation folds.
    wrong_signs : {"cv", "drop"}
        "drop": a wrongly signed characteristic always goes. "cv": the disciplined card
        (steps 2–3) competes with a fuller one — every characteristic not a near-duplicate,
        whatever its IV and sign — and the better out-of-fold log-likelihood wins. A wrong sign
        that survives is a suppressor (bill amount beside amount repaid: together they say
        what share was repaid); the report lists it as ``"kept_wrong_sign"``.
    """

    #: Inverse L2 strengths tried by the cross-validation.
    C_GRID = tuple(float(c) for c in np.logspace(-3, 2, 11))

    # Fitted attributes a card loaded by :meth:`from_dict` may lack (None): it was stored
    # before they were recorded.
    auc_: float | None
    C_: float | None
    n_defaults_: int | None
    calibration_gap_: float | None
    train_default_rate_: float | None
    train_mean_pd_: float | None

    def __init__(
        self,
        features: Sequence[str],
        base_points: float = 600.0,
        base_odds: float = 50.0,
        pdo: float = 20.0,
        monotonic: dict[str, str] | None = None,
        min_defaults: int = 30,
        max_n_bins: int = 6,
        min_bin_size: float = 0.05,
        max_pvalue: float = 0.05,
        min_iv: float = 0.02,
        max_correlation: float = 0.8,
        C: float | None = None,
        cv_folds: int = 5,
        prior_defaults: float = 0.0,
        random_state: int = 0,
        wrong_signs: str = "cv",
        calibrate: bool = False,
    ):
        self.features = list(features)
        self.base_points = base_points
        self.base_odds = base_odds
        self.pdo = pdo
        self.monotonic = monotonic or {}
        self.min_defaults = min_defaults
        self.max_n_bins = max_n_bins
        self.min_bin_size = min_bin_size
        self.max_pvalue = max_pvalue
        self.min_iv = min_iv
        self.max_correlation = max_correlation
        self.C = C
        self.cv_folds = cv_folds
        self.prior_defaults = prior_defaults
        self.random_state = random_state
        self.wrong_signs = wrong_signs
        self.calibrate = calibrate

    # --- fitting -----------------------------------------------------------------------

    def fit(self, X, y: np.ndarray, prior: np.ndarray | None = None) -> Scorecard:
        """Fit on ``X`` and 0/1 outcomes ``y``; ``prior``: the expert card's log-odds of
        default per row (see the class's step 4), or None."""
        X = _frame(X)
        if not self.features:
            raise ValueError("a scorecard needs at least one feature")
        if self.pdo <= 0 or self.base_odds <= 0:
            raise ValueError("pdo and base_odds must be positive")
        if self.prior_defaults < 0:
            raise ValueError("prior_defaults cannot be negative")
        if self.wrong_signs not in ("cv", "drop"):
            raise ValueError('wrong_signs must be "cv" or "drop"')
        missing = [f for f in self.features if f not in X.columns]
        if missing:
            raise ValueError(f"unknown feature(s): {', '.join(missing)}")
        y = np.asarray(y).astype(int)
        if len(y) != X.height:
            raise ValueError(f"X has {X.height} rows but y has {len(y)}")
        if prior is not None and len(prior) != len(y):
            raise ValueError(f"prior has {len(prior)} rows but y has {len(y)}")
        events = int(y.sum())
        if events < self.min_defaults or len(y) - events < self.min_defaults:
            raise InsufficientData(
                f"{events} defaults and {len(y) - events} non-defaults; "
                f"at least {self.min_defaults} of each are needed"
            )
        self.bins_ = {feature: self._fit_bins(X[feature], y) for feature in self.features}
        self.candidates_ = list(self.features)
        W = self._woe(X, self.candidates_)
        self.iv_ = {f: information_value(W[:, j], y) for j, f in enumerate(self.candidates_)}
        self.selection_ = select_characteristics(
            W, self.candidates_, self.iv_, min_iv=self.min_iv, max_correlation=self.max_correlation
        )
        keep, self.C_, coef, intercept, loss = self._fit_signed(
            W, y, [f for f in self.candidates_ if self.selection_[f] == "kept"]
        )
        if self.wrong_signs == "cv" and self.C is None:
            fuller = select_characteristics(
                W, self.candidates_, self.iv_, min_iv=0.0, max_correlation=self.max_correlation
            )
            kept = [f for f in self.candidates_ if fuller[f] == "kept"]
            columns = [self.candidates_.index(f) for f in kept]
            C, fuller_loss = self._cross_validated_C(W[:, columns], y)
            if fuller_loss < loss:
                keep, self.C_, loss = kept, C, fuller_loss
                coef, intercept = _logistic(W[:, columns], y, C)
                self.selection_ = fuller
                for f, b in zip(kept, coef, strict=True):
                    if b > 0:
                        self.selection_[f] = "kept_wrong_sign"
        self.cv_log_loss_ = loss / len(y) if self.C is None else None
        self.features_ = keep
        self.bins_ = {f: self.bins_[f] for f in keep}
        self.coef_ = np.asarray(coef, dtype=float)
        self.intercept_ = float(intercept)
        self.n_defaults_ = events
        self.prior_weight_ = (
            self.prior_defaults / (self.prior_defaults + events)
            if prior is not None and self.prior_defaults > 0
            else 0.0
        )
        self.feature_names_ = list(keep)
        self.calibration_shift_ = self.calibration_gap_ = 0.0
        logit = self._logit(X, prior)
        self.train_default_rate_ = events / len(y)
        self.train_mean_pd_ = float(np.mean(1.0 / (1.0 + np.exp(-logit))))
        if self.prior_weight_ > 0:
            self.calibration_gap_ = calibration_shift(logit, self.train_default_rate_)
            if self.calibrate:
                self.calibration_shift_ = self.calibration_gap_
        self.auc_ = auc(y, self.predict_proba(X, prior=prior))
        self.points_table_ = self._points_table(X, y)
        return self

    def _fit_bins(self, column: pl.Series, y: np.ndarray) -> dict:
        """One characteristic's bins and their WoE."""
        from optbinning import OptimalBinning

        feature = column.name
        numeric = _is_numeric(column.dtype)
        common = {
            "name": feature,
            "max_n_bins": self.max_n_bins,
            # Adjacent bins must differ significantly: noise does not earn points.
            "max_pvalue": self.max_pvalue,
            "min_bin_size": self.min_bin_size,
        }
        if column.drop_nulls().n_unique() < 2 or (
            numeric and column.cast(pl.Float64).fill_nan(None).drop_nulls().n_unique() < 2
        ):
            # Nothing to bin (all missing or one value): one neutral bin, no points.
            return {
                "kind": "numerical" if numeric else "categorical",
                "splits": [],
                "woe": [0.0],
                "categories": {},
                "woe_missing": 0.0,
            }
        if numeric:
            x = column.cast(pl.Float64).fill_nan(None).to_numpy()
            binning = OptimalBinning(
                dtype="numerical", monotonic_trend=self.monotonic.get(feature, "auto"), **common
            )
            binning.fit(x, y)
            splits = np.asarray(binning.splits, dtype=float)
            reps = np.concatenate([[splits[0] - 1] if splits.size else [0.0], splits])
            woe = binning.transform(reps, metric="woe")
            woe_missing = float(binning.transform(np.array([np.nan]), metric="woe")[0])
            return {
                "kind": "numerical",
                "splits": splits.tolist(),
                "woe": [float(v) for v in woe],
                "woe_missing": woe_missing,
            }
        x = column.cast(pl.String).to_numpy().astype(object)
        binning = OptimalBinning(dtype="categorical", **common)
        binning.fit(x, y)
        categories = sorted({v for v in x if v is not None})
        woe = binning.transform(np.array(categories, dtype=object), metric="woe")
        woe_missing = float(binning.transform(np.array([None], dtype=object), metric="woe")[0])
        return {
            "kind": "categorical",
            "categories": {c: float(w) for c, w in zip(categories, woe, strict=True)},
            "woe_missing": woe_missing,
        }

    def _fit_signed(self, W: np.ndarray, y: np.ndarray, keep: list[str]):
        """Fit on ``keep``, dropping the most wrongly signed characteristic until none is;
        returns (kept, C, coefficients, intercept, out-of-fold log-loss)."""
        while True:
            columns = [self.candidates_.index(f) for f in keep]
            if self.C is None:
                C, loss = self._cross_validated_C(W[:, columns], y)
            else:
                C, loss = self.C, np.nan
            coef, intercept = _logistic(W[:, columns], y, C)
            worst = int(np.argmax(coef)) if len(coef) else 0
            if len(keep) <= 1 or coef[worst] <= 0:
                return keep, C, coef, intercept, loss
            # The most wrongly signed goes first: dropping it may set its twin's sign right.
            self.selection_[keep[worst]] = "wrong_sign"
            keep = [f for f in keep if f != keep[worst]]

    def _cross_validated_C(self, W: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """The inverse L2 strength with the best out-of-fold log-likelihood, and its
        out-of-fold log-loss (summed over the rows)."""
        from sklearn.model_selection import StratifiedKFold

        folds = StratifiedKFold(self.cv_folds, shuffle=True, random_state=self.random_state)
        splits = list(folds.split(W, y))
        best, best_loss = self.C_GRID[-1], np.inf
        for C in self.C_GRID:
            loss = 0.0
            for train, test in splits:
                coef, intercept = _logistic(W[train], y[train], C)
                p = np.clip(1 / (1 + np.exp(-(intercept + W[test] @ coef))), 1e-12, 1 - 1e-12)
                loss -= float(np.sum(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p)))
            if loss < best_loss - 1e-9:
                best, best_loss = C, loss
        return best, best_loss

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
        labels = column.cast(pl.String)
        bins = labels.replace_strict(codes, default=len(woes), return_dtype=pl.Int64)
        return np.where(labels.is_null().to_numpy(), -1, bins.to_numpy()), [*woes, 0.0]

    def _woe(self, X: pl.DataFrame, features: Sequence[str] | None = None) -> np.ndarray:
        columns = []
        for feature in self.features_ if features is None else features:
            index, woe = self._bin_index(feature, X[feature])
            table = np.asarray([*woe, self.bins_[feature]["woe_missing"]], dtype=float)
            columns.append(table[np.where(index < 0, len(woe), index)])
        return np.column_stack(columns) if columns else np.zeros((X.height, 0))

    def _labels(self, feature: str) -> list[str]:
        spec = self.bins_[feature]
        if spec.get("kind", "numerical") == "numerical":
            edges = [-np.inf, *spec["splits"], np.inf]
            return [f"[{edges[i]:.4g}, {edges[i + 1]:.4g})" for i in range(len(spec["woe"]))]
        woes = sorted(set(spec["categories"].values()))
        groups = [[c for c, w in spec["categories"].items() if w == woe] for woe in woes]
        return [", ".join(g) for g in groups] + ["(other)"]

    def _points_table(self, X: pl.DataFrame, y: np.ndarray) -> pl.DataFrame:
        """Points per bin of the statistical card (before any blend with the expert one)."""
        factor, offset = scaling(self.base_points, self.base_odds, self.pdo)
        n = len(self.features_)
        rows = []
        for j, feature in enumerate(self.features_):
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

    def _prior_needed(self, prior) -> None:
        if self.prior_weight_ > 0 and prior is None:
            raise ValueError("this scorecard is blended with the expert card: pass its prior")

    def explain(self, X, prior_points: pl.DataFrame | None = None) -> pl.DataFrame:
        """The points each characteristic contributes, one column per feature, per row; a
        row's points add up to its score.

        A card blended with the expert one (``prior_weight_`` > 0) needs the expert card's
        points (``prior_points``, columns that add up to its score): they come out weighted by
        ``prior_weight_``, the statistical ones by ``1 − prior_weight_``.
        """
        self._check_fitted()
        self._prior_needed(prior_points)
        factor, offset = scaling(self.base_points, self.base_odds, self.pdo)
        W = self._woe(_frame(X))
        n = max(len(self.features_), 1)
        points = -factor * W * self.coef_[None, :] + (offset - factor * self.intercept_) / n
        if not self.features_:
            points = np.full((W.shape[0], 1), offset - factor * self.intercept_)
        frame = pl.DataFrame(points, schema=self.features_ or ["base"], orient="row")
        if self.prior_weight_ > 0 and prior_points is not None:  # None: _prior_needed raised
            w = self.prior_weight_
            shift = -factor * self.calibration_shift_ / frame.width
            frame = pl.concat(
                [frame * (1 - w) + shift, prior_points.cast(pl.Float64) * w], how="horizontal"
            )
        return frame

    def score(self, X, prior_points: pl.DataFrame | None = None) -> np.ndarray:
        """Points per row (higher is safer)."""
        return self.explain(X, prior_points).sum_horizontal().to_numpy()

    def predict_proba(self, X, prior: np.ndarray | None = None) -> np.ndarray:
        """Probability of default per row; ``prior``: the expert card's log-odds of default
        (needed when the card is blended with it)."""
        self._check_fitted()
        self._prior_needed(prior)
        logit = self._logit(X, prior)
        if self.prior_weight_ > 0:
            logit = logit + self.calibration_shift_
        return 1.0 / (1.0 + np.exp(-logit))

    def _logit(self, X, prior: np.ndarray | None) -> np.ndarray:
        """Log-odds of default before the calibration shift (blended when the card is)."""
        logit = self.intercept_ + self._woe(_frame(X)) @ self.coef_
        if self.prior_weight_ > 0:
            w = self.prior_weight_
            logit = (1 - w) * logit + w * np.asarray(prior, dtype=float)
        return logit

    # --- storage -----------------------------------------------------------------------

    def to_dict(self) -> dict:
        self._check_fitted()
        return {
            "features": self.features,
            "selected": self.features_,
            "base_points": self.base_points,
            "base_odds": self.base_odds,
            "pdo": self.pdo,
            "bins": self.bins_,
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_,
            "auc": self.auc_,
            "iv": getattr(self, "iv_", {}),
            "selection": getattr(self, "selection_", {}),
            "C": getattr(self, "C_", None),
            "n_defaults": getattr(self, "n_defaults_", None),
            "prior_defaults": self.prior_defaults,
            "prior_weight": self.prior_weight_,
            "calibrate": self.calibrate,
            "calibration_shift": getattr(self, "calibration_shift_", 0.0),
            "calibration_gap": getattr(self, "calibration_gap_", None),
            "train_default_rate": getattr(self, "train_default_rate_", None),
            "train_mean_pd": getattr(self, "train_mean_pd_", None),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Scorecard:
        """A fitted card from :meth:`to_dict` (cards stored before the selection: every
        feature kept, no blend)."""
        card = cls(
            features=data["features"],
            base_points=data["base_points"],
            base_odds=data["base_odds"],
            pdo=data["pdo"],
            prior_defaults=data.get("prior_defaults", 0.0),
            calibrate=data.get("calibrate", False),
        )
        card.features_ = list(data.get("selected", data["features"]))
        card.bins_ = {f: data["bins"][f] for f in card.features_}
        card.coef_ = np.asarray(data["coef"], dtype=float)
        card.intercept_ = float(data["intercept"])
        card.auc_ = data.get("auc")
        card.iv_ = data.get("iv", {})
        card.selection_ = data.get("selection", {})
        card.C_ = data.get("C")
        card.n_defaults_ = data.get("n_defaults")
        card.prior_weight_ = float(data.get("prior_weight", 0.0))
        # Cards stored before calibration in the large (step 5) keep their PDs.
        card.calibration_shift_ = float(data.get("calibration_shift", 0.0))
        card.calibration_gap_ = data.get("calibration_gap")
        card.train_default_rate_ = data.get("train_default_rate")
        card.train_mean_pd_ = data.get("train_mean_pd")
        card.feature_names_ = list(card.features_)
        return card


def calibration_shift(logit: np.ndarray, rate: float, tol: float = 1e-10) -> float:
    """The constant ``s`` for which the mean of ``sigmoid(logit + s)`` is ``rate``
    (calibration in the large), by bisection: the mean rises with ``s``.

    >>> round(calibration_shift(np.zeros(4), 0.5), 6)
    0.0
    """
    logit = np.asarray(logit, dtype=float)
    if not 0.0 < rate < 1.0:
        raise ValueError(f"rate must lie strictly between 0 and 1, not {rate}")
    if logit.size == 0:
        raise ValueError("no log-odds to calibrate")

    def mean_pd(shift: float) -> float:
        return float(np.mean(1.0 / (1.0 + np.exp(-(logit + shift)))))

    lo, hi = -50.0, 50.0
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if mean_pd(mid) < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def information_value(woe: np.ndarray, y: np.ndarray) -> float:
    """IV = Σ over bins (share of non-defaults − share of defaults) · WoE, from each row's
    WoE (rows with the same WoE are one bin). Usual reading: < 0.02 useless, 0.02–0.1 weak,
    0.1–0.3 medium, > 0.3 strong."""
    woe, y = np.asarray(woe, dtype=float), np.asarray(y).astype(int)
    values, bins = np.unique(woe, return_inverse=True)
    bad = np.bincount(bins, weights=y, minlength=len(values)) / max(y.sum(), 1)
    good = np.bincount(bins, weights=1 - y, minlength=len(values)) / max((1 - y).sum(), 1)
    return float(np.sum((good - bad) * values))


def select_characteristics(
    W: np.ndarray,
    features: Sequence[str],
    iv: dict[str, float],
    *,
    min_iv: float,
    max_correlation: float,
) -> dict[str, str]:
    """Each feature's fate, strongest (highest IV) first: ``"kept"``, ``"low_iv"`` (below
    ``min_iv``) or ``"correlated:<stronger feature>"`` (|correlation of the WoE| above
    ``max_correlation`` with a feature already kept). The strongest is always kept."""
    order = sorted(range(len(features)), key=lambda j: -iv[features[j]])
    fate: dict[str, str] = {}
    kept: list[int] = []
    for j in order:
        name = features[j]
        if kept and iv[name] < min_iv:
            fate[name] = "low_iv"
            continue
        twin = next(
            (k for k in kept if abs(_correlation(W[:, j], W[:, k])) > max_correlation), None
        )
        if twin is not None:
            fate[name] = f"correlated:{features[twin]}"
            continue
        fate[name] = "kept"
        kept.append(j)
    return {f: fate[f] for f in features}


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _logistic(W: np.ndarray, y: np.ndarray, C: float) -> tuple[np.ndarray, float]:
    """Coefficients and intercept of the L2-penalised logistic regression of ``y`` on ``W``."""
    from sklearn.linear_model import LogisticRegression

    if W.shape[1] == 0:
        rate = np.clip(y.mean(), 1e-6, 1 - 1e-6)
        return np.zeros(0), float(np.log(rate / (1 - rate)))
    model = LogisticRegression(C=C, max_iter=1000).fit(W, y)
    return model.coef_[0].astype(float), float(model.intercept_[0])


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


def population_stability(
    expected: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray
) -> float:
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
