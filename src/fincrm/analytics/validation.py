"""Model validation for the risk officer: discrimination, calibration, stability, agreement.

Pure functions over NumPy arrays and polars frames (no Django). Conventions follow
:mod:`.scorecard`: ``y = 1`` is a default, ``pd`` a probability of default, a higher score is
safer. The usual thresholds of a population or characteristic stability index: below 0.10
stable, 0.10 to 0.25 watch, above 0.25 shifted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from .scorecard import auc, ks, population_stability

#: Stability index (PSI, CSI) from which a population is watched, and from which it shifted.
STABILITY_WATCH, STABILITY_SHIFTED = 0.10, 0.25
#: Significance level of the binomial test of each band and of Hosmer–Lemeshow.
ALPHA = 0.05

__all__ = [
    "ALPHA",
    "STABILITY_SHIFTED",
    "STABILITY_WATCH",
    "calibration_by_band",
    "characteristic_stability",
    "discrimination",
    "gini",
    "grade_agreement",
    "hosmer_lemeshow",
    "stability_verdict",
]


def gini(y: np.ndarray, p: np.ndarray) -> float:
    """Gini (accuracy ratio) = 2·AUC − 1 of the PD ``p`` against defaults ``y``."""
    return 2.0 * auc(y, p) - 1.0


def discrimination(y: np.ndarray, p: np.ndarray) -> dict:
    """AUC, Gini and KS of PDs ``p`` on outcomes ``y``; None each when ``y`` holds a single
    class (nothing to separate)."""
    y = np.asarray(y, dtype=int)
    if y.size == 0 or y.min() == y.max():
        return {"auc": None, "gini": None, "ks": None}
    area = auc(y, p)
    return {"auc": area, "gini": 2.0 * area - 1.0, "ks": ks(y, p)}


def stability_verdict(index: float) -> str:
    """The verdict on a stability index: stable (< 0.10), watch (0.10–0.25), shifted."""
    if index < STABILITY_WATCH:
        return "stable"
    return "watch" if index < STABILITY_SHIFTED else "shifted"


def calibration_by_band(
    pd: np.ndarray, y: np.ndarray, band: Sequence[str], order: Sequence[str], alpha: float = ALPHA
) -> pl.DataFrame:
    """Predicted against observed default rate in each band (a grade, a score range).

    Each band's defaults are tested against its mean PD with an exact two-sided binomial test
    (``scipy.stats.binomtest``): ``verdict`` is "too_many" or "too_few" when the observed
    rate differs at ``alpha``, else "consistent". Bands come out in ``order``; bands with no
    client are left out.

    Returns
    -------
    polars.DataFrame
        band, n, defaults, predicted (mean PD), observed (default rate), p_value, verdict.
    """
    from scipy.stats import binomtest

    pd = np.asarray(pd, dtype=float)
    y = np.asarray(y, dtype=int)
    bands = np.asarray(band, dtype=object)
    if not (len(pd) == len(y) == len(bands)):
        raise ValueError("pd, y and band must have the same length")
    rows = []
    for name in order:
        members = bands == name
        n = int(members.sum())
        if n == 0:
            continue
        defaults = int(y[members].sum())
        predicted = float(pd[members].mean())
        p_value = float(binomtest(defaults, n, min(max(predicted, 1e-12), 1 - 1e-12)).pvalue)
        observed = defaults / n
        verdict = "consistent"
        if p_value < alpha:
            verdict = "too_many" if observed > predicted else "too_few"
        rows.append(
            {"band": name, "n": n, "defaults": defaults, "predicted": predicted,
             "observed": observed, "p_value": p_value, "verdict": verdict}
        )  # fmt: skip
    schema = {"band": pl.String, "n": pl.Int64, "defaults": pl.Int64, "predicted": pl.Float64,
              "observed": pl.Float64, "p_value": pl.Float64, "verdict": pl.String}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def hosmer_lemeshow(pd: np.ndarray, y: np.ndarray, groups: int = 10) -> dict:
    """Hosmer–Lemeshow goodness of fit over ``groups`` groups of equal size by PD.

    ``H = Σ_g (O_g − E_g)² / (E_g · (1 − E_g / n_g))`` with ``O_g`` the defaults and ``E_g``
    the sum of PDs of group ``g``; compared with χ² on ``groups − 2`` degrees of freedom. A
    small p-value says the PDs do not fit the outcomes. Clients are sorted by PD (ties in
    input order) and cut into groups whose sizes differ by at most one.

    Returns
    -------
    dict
        statistic, df, p_value, groups (the number used: fewer when there are fewer clients).
    """
    from scipy.stats import chi2

    pd = np.asarray(pd, dtype=float)
    y = np.asarray(y, dtype=int)
    if len(pd) != len(y):
        raise ValueError("pd and y must have the same length")
    g = min(groups, len(pd))
    if g < 3:
        raise ValueError("Hosmer–Lemeshow needs at least three clients")
    order = np.argsort(pd, kind="stable")
    statistic = 0.0
    for members in np.array_split(order, g):
        n = len(members)
        expected = pd[members].sum()
        observed = y[members].sum()
        variance = expected * (1 - expected / n)
        if variance > 0:
            statistic += (observed - expected) ** 2 / variance
    df = g - 2
    return {
        "statistic": float(statistic),
        "df": df,
        "p_value": float(chi2.sf(statistic, df)),
        "groups": g,
    }


def characteristic_stability(
    expected: Mapping[str, float], actual: Mapping[str, float]
) -> tuple[float, pl.DataFrame]:
    """Stability index of one characteristic (CSI) or of the score (PSI) from counts per bin.

    ``expected`` (training) and ``actual`` (today) map each bin to a count; a bin missing from
    one side counts 0 there. Shares are floored as in
    :func:`~.scorecard.population_stability`.

    Returns
    -------
    (float, polars.DataFrame)
        The index, and per bin (in ``expected``'s order, then new bins): bin, expected and
        actual share, and its contribution ``(a − e) · ln(a / e)``.
    """
    bins = [*expected, *(b for b in actual if b not in expected)]
    e = np.array([expected.get(b, 0.0) for b in bins], dtype=float)
    a = np.array([actual.get(b, 0.0) for b in bins], dtype=float)
    if e.sum() <= 0 or a.sum() <= 0:
        raise ValueError("both populations need at least one member")
    e, a = e / e.sum(), a / a.sum()
    ef, af = np.maximum(e, 1e-4), np.maximum(a, 1e-4)
    table = pl.DataFrame(
        {"bin": bins, "expected": e, "actual": a, "contribution": (af - ef) * np.log(af / ef)},
        schema={"bin": pl.String, "expected": pl.Float64, "actual": pl.Float64,
                "contribution": pl.Float64},
    )  # fmt: skip
    return population_stability(e, a), table


def grade_agreement(
    expert_grade: Sequence[str],
    model_grade: Sequence[str],
    expert_score: np.ndarray,
    model_score: np.ndarray,
    order: Sequence[str],
) -> dict:
    """How far the expert card agrees with the statistical one on the same clients.

    Parameters
    ----------
    expert_grade, model_grade : sequence of str
        Each client's grade by either card.
    expert_score, model_score : array
        Their scores (points), for the rank correlation.
    order : sequence of str
        The grades, best first.

    Returns
    -------
    dict
        n; same (share graded alike); within_one (share at most one grade apart);
        spearman (rank correlation of the scores, None when either is constant);
        grades (``order``) and confusion (rows: expert grade, columns: model grade, counts).
    """
    from scipy.stats import spearmanr

    index = {g: i for i, g in enumerate(order)}
    try:
        e = np.array([index[g] for g in expert_grade], dtype=int)
        m = np.array([index[g] for g in model_grade], dtype=int)
    except KeyError as exc:
        raise ValueError(f"grade {exc.args[0]!r} is not in the order given") from exc
    if len(e) != len(m) or len(e) != len(expert_score) or len(e) != len(model_score):
        raise ValueError("grades and scores must have the same length")
    n = len(e)
    if n == 0:
        raise ValueError("no client to compare")
    confusion = np.zeros((len(order), len(order)), dtype=int)
    np.add.at(confusion, (e, m), 1)
    xs, ms = np.asarray(expert_score, dtype=float), np.asarray(model_score, dtype=float)
    rho = None
    if np.ptp(xs) > 0 and np.ptp(ms) > 0:
        rho = float(spearmanr(xs, ms).statistic)
    return {
        "n": n,
        "same": float((e == m).mean()),
        "within_one": float((np.abs(e - m) <= 1).mean()),
        "spearman": rho,
        "grades": list(order),
        "confusion": confusion.tolist(),
    }
