"""Satisfaction-survey arithmetic: NPS, CSAT, response rates, group summaries and drivers.

Pure polars/NumPy (statsmodels for the driver regression, imported when first used), no Django.

Definitions
-----------
NPS (Net Promoter Score, Reichheld 2003)
    On the 0–10 "how likely are you to recommend us" question, *promoters* answer 9–10,
    *passives* 7–8 and *detractors* 0–6. ``NPS = 100 · (promoters − detractors) / answers``,
    in points from −100 to 100.
CSAT (customer satisfaction)
    Share of the ratings at or above ``satisfied_from`` on a 1..``scale`` question (by default
    4 or 5 on a five-point scale), in percent (0–100).
Response rate
    Answered invitations over sent invitations, in percent (0–100).

Unanswered questions are ``None``/null and are left out of the denominators; a question with no
answers has no score (``None``), never 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

__all__ = [
    "DriverEffect",
    "DriverResult",
    "csat",
    "driver_analysis",
    "nps",
    "response_rate",
    "summarise",
]


def gettext_noop(text: str) -> str:
    """Mark ``text`` for the translation catalogue without importing Django."""
    return text


NPS_MIN, NPS_MAX = 0, 10
PROMOTER_FROM = 9
DETRACTOR_UP_TO = 6
CSAT_SCALE = 5
CSAT_SATISFIED_FROM = 4
CONFIDENCE_LEVEL = 0.95

NPS_OUT_OF_RANGE = "NPS answers must be whole numbers from 0 to 10"
CSAT_OUT_OF_RANGE = "CSAT ratings must be whole numbers from 1 to the scale"
CSAT_BAD_SCALE = "the CSAT scale must be at least 2 and satisfied_from must lie within 1..scale"
RESPONSE_COUNTS = "sent and answered must be whole numbers with 0 <= answered <= sent"
MISSING_COLUMNS = "the frame is missing required columns"
BAD_DRIVERS = "drivers must be distinct columns other than the target, and at least one"
BAD_MIN_RESPONSES = "min_responses must be a positive whole number"

#: Driver-analysis warnings: English source strings for the UI to translate. No placeholders;
#: the number of complete responses is :attr:`DriverResult.n`.
SMALL_SAMPLE_WARNING = gettext_noop(
    "Few complete responses: the driver estimates are indicative only."
)
TOO_FEW_WARNING = gettext_noop(
    "Not enough complete responses to estimate the drivers: more responses than questions "
    "plus one are needed."
)
COLLINEAR_WARNING = gettext_noop(
    "The question scores move together (or one never varies), so their effects cannot be separated."
)
NO_VARIATION_WARNING = gettext_noop(
    "Every response gives the same overall satisfaction, so there is nothing to explain."
)

SUMMARY_COLUMNS = (
    "sent", "answered", "response_rate", "nps_responses", "promoters", "passives",
    "detractors", "nps", "csat_responses", "csat",
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# scalar scores
# --------------------------------------------------------------------------------------------


def _answers(values: Iterable[Any]) -> list[float]:
    """Drop ``None``/NaN (unanswered) and return the rest as floats."""
    out = []
    for value in values:
        if value is None:
            continue
        number = float(value)
        if math.isnan(number):
            continue
        out.append(number)
    return out


def nps(scores: Iterable[int | float | None]) -> float | None:
    """Net Promoter Score of 0–10 answers.

    Parameters
    ----------
    scores
        Answers to the 0–10 recommendation question; ``None``/NaN are unanswered and ignored.

    Returns
    -------
    float or None
        ``100 · (promoters − detractors) / answers`` in points (−100..100), ``None`` when
        there are no answers.

    Raises
    ------
    ValueError
        :data:`NPS_OUT_OF_RANGE` when an answer is not a whole number from 0 to 10.
    """
    answers = _answers(scores)
    bad = [a for a in answers if not (NPS_MIN <= a <= NPS_MAX) or a != round(a)]
    if bad:
        raise ValueError(f"{NPS_OUT_OF_RANGE} (got {bad[0]:g})")
    if not answers:
        return None
    promoters = sum(a >= PROMOTER_FROM for a in answers)
    detractors = sum(a <= DETRACTOR_UP_TO for a in answers)
    return 100.0 * (promoters - detractors) / len(answers)


def _check_csat_scale(scale: int, satisfied_from: int) -> None:
    if scale < 2 or not 1 <= satisfied_from <= scale:
        raise ValueError(f"{CSAT_BAD_SCALE} (got scale={scale}, satisfied_from={satisfied_from})")


def csat(
    ratings: Iterable[int | float | None],
    *,
    scale: int = CSAT_SCALE,
    satisfied_from: int = CSAT_SATISFIED_FROM,
) -> float | None:
    """Customer-satisfaction score: the share of ratings at or above ``satisfied_from``.

    Parameters
    ----------
    ratings
        Ratings on a 1..``scale`` question; ``None``/NaN are unanswered and ignored.
    scale
        Highest rating (5 for the usual five-point question).
    satisfied_from
        Lowest rating that counts as satisfied.

    Returns
    -------
    float or None
        Percent of answers (0–100) that are satisfied, ``None`` when there are no answers.

    Raises
    ------
    ValueError
        :data:`CSAT_BAD_SCALE` for an impossible scale, :data:`CSAT_OUT_OF_RANGE` for a rating
        that is not a whole number from 1 to ``scale``.
    """
    _check_csat_scale(scale, satisfied_from)
    answers = _answers(ratings)
    bad = [a for a in answers if not (1 <= a <= scale) or a != round(a)]
    if bad:
        raise ValueError(f"{CSAT_OUT_OF_RANGE} {scale} (got {bad[0]:g})")
    if not answers:
        return None
    return 100.0 * sum(a >= satisfied_from for a in answers) / len(answers)


def response_rate(sent: int, answered: int) -> float | None:
    """Answered invitations as a percent (0–100) of sent ones; ``None`` when none were sent.

    Raises
    ------
    ValueError
        :data:`RESPONSE_COUNTS` for negative counts or more answers than invitations.
    """
    whole = sent == int(sent) and answered == int(answered)
    if not whole or not 0 <= answered <= sent:
        raise ValueError(f"{RESPONSE_COUNTS} (got sent={sent}, answered={answered})")
    if sent == 0:
        return None
    return 100.0 * answered / sent


# --------------------------------------------------------------------------------------------
# group summaries
# --------------------------------------------------------------------------------------------


def _require(frame: pl.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{MISSING_COLUMNS}: {missing}")


def _score(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Float64).fill_nan(None)


def _out_of_range(column: str, high: int, low: int) -> pl.Expr:
    s = _score(column)
    return (s.is_not_null() & ((s < low) | (s > high) | (s != s.round(0)))).any()


def _check_scores(frame: pl.DataFrame, scale: int) -> None:
    """Raise the scalar functions' errors for out-of-range scores anywhere in the frame."""
    checks = frame.select(
        nps_bad=_out_of_range("nps_score", NPS_MAX, NPS_MIN),
        csat_bad=_out_of_range("csat_score", scale, 1),
    ).row(0, named=True)
    if checks["nps_bad"]:
        raise ValueError(NPS_OUT_OF_RANGE)
    if checks["csat_bad"]:
        raise ValueError(f"{CSAT_OUT_OF_RANGE} {scale}")


def _aggregations(satisfied_from: int, weight: str | None = None) -> list[pl.Expr]:
    """The counts of a summary; with ``weight``, each row counts as that many invitations."""
    answered = pl.col("answered").fill_null(False)
    score = _score("nps_score").filter(answered)
    rating = _score("csat_score").filter(answered)
    if weight is None:
        count = pl.len()

        def times(condition: pl.Expr) -> pl.Expr:
            return condition.sum()

        def counted(values: pl.Expr) -> pl.Expr:
            return values.count()
    else:
        w = pl.col(weight).fill_null(0)
        count = w.sum()

        def times(condition: pl.Expr) -> pl.Expr:
            return w.filter(condition.fill_null(False)).sum()

        def counted(values: pl.Expr) -> pl.Expr:
            return w.filter(answered & values.is_not_null()).sum()

    nps_raw, csat_raw = _score("nps_score"), _score("csat_score")
    if weight is None:
        nps_n, csat_n = counted(score), counted(rating)
        promoters, detractors = times(score >= PROMOTER_FROM), times(score <= DETRACTOR_UP_TO)
        passives = times(score.is_between(DETRACTOR_UP_TO + 1, PROMOTER_FROM - 1))
        satisfied, answered_n = times(rating >= satisfied_from), times(answered)
    else:
        nps_n, csat_n = counted(nps_raw), counted(csat_raw)
        promoters = times(answered & (nps_raw >= PROMOTER_FROM))
        detractors = times(answered & (nps_raw <= DETRACTOR_UP_TO))
        passives = times(answered & nps_raw.is_between(DETRACTOR_UP_TO + 1, PROMOTER_FROM - 1))
        satisfied, answered_n = times(answered & (csat_raw >= satisfied_from)), times(answered)
    return [
        count.alias("sent"),
        answered_n.cast(pl.Int64).alias("answered"),
        nps_n.cast(pl.Int64).alias("nps_responses"),
        promoters.cast(pl.Int64).alias("promoters"),
        passives.cast(pl.Int64).alias("passives"),
        detractors.cast(pl.Int64).alias("detractors"),
        csat_n.cast(pl.Int64).alias("csat_responses"),
        satisfied.cast(pl.Int64).alias("_satisfied"),
    ]


def _percent(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator > 0).then(100.0 * numerator / denominator)


def _summary(
    frame: pl.DataFrame, by: list[str], scale: int, satisfied_from: int, weight: str | None
) -> pl.DataFrame:
    _require(frame, ["nps_score", "csat_score", "answered", *by, *([weight] if weight else [])])
    _check_scores(frame, scale)
    aggregations = _aggregations(satisfied_from, weight)
    if by:
        grouped = frame.group_by(by).agg(aggregations).sort(by, nulls_last=True)
    else:
        grouped = frame.select(aggregations)
    return grouped.with_columns(
        sent=pl.col("sent").cast(pl.Int64),
        response_rate=_percent(pl.col("answered"), pl.col("sent")),
        nps=_percent(pl.col("promoters") - pl.col("detractors"), pl.col("nps_responses")),
        csat=_percent(pl.col("_satisfied"), pl.col("csat_responses")),
    ).select([*by, *SUMMARY_COLUMNS])


def summarise(
    responses: pl.DataFrame,
    by: list[str],
    *,
    previous: pl.DataFrame | None = None,
    scale: int = CSAT_SCALE,
    satisfied_from: int = CSAT_SATISFIED_FROM,
    weight: str | None = None,
) -> pl.DataFrame:
    """One row of survey results per group, optionally compared with a previous period.

    Parameters
    ----------
    responses
        One row per sent invitation with ``nps_score`` (0–10, null when not answered),
        ``csat_score`` (1..``scale``, null when not answered), ``answered`` (bool) and the
        ``by`` columns. Scores on rows with ``answered`` false are ignored.
    by
        Grouping columns (e.g. ``["tier", "period"]``); an empty list gives one overall row.
    previous
        The same kind of frame for the previous period. Its NPS and CSAT are joined on the
        ``by`` columns (null keys match null keys); groups absent from it get nulls.
    scale, satisfied_from
        The CSAT question's scale and satisfied threshold, as in :func:`csat`.
    weight
        A column of counts: each row stands for that many invitations alike (pre-aggregated
        rows, such as the KPI dashboard's nightly facts); ``previous`` too. None: one row each.

    Returns
    -------
    polars.DataFrame
        The ``by`` columns, sorted, then ``sent``, ``answered`` (invitations),
        ``response_rate`` (%), ``nps_responses``, ``promoters``, ``passives``, ``detractors``,
        ``nps`` (points, −100..100), ``csat_responses`` and ``csat`` (%); with ``previous``
        also ``previous_nps``, ``previous_csat``, ``nps_delta`` (points) and ``csat_delta``
        (percentage points). Scores are null where a group has no answers.

    Raises
    ------
    ValueError
        :data:`MISSING_COLUMNS`, or the :func:`nps`/:func:`csat` range errors.
    """
    by = list(by)
    _check_csat_scale(scale, satisfied_from)
    current = _summary(responses, by, scale, satisfied_from, weight)
    if previous is None:
        return current
    before = _summary(previous, by, scale, satisfied_from, weight).select(
        *by, previous_nps=pl.col("nps"), previous_csat=pl.col("csat")
    )
    if by:
        joined = current.join(before, on=by, how="left", nulls_equal=True, maintain_order="left")
    else:
        joined = current.join(before, how="cross")
    return joined.with_columns(
        nps_delta=pl.col("nps") - pl.col("previous_nps"),
        csat_delta=pl.col("csat") - pl.col("previous_csat"),
    )


# --------------------------------------------------------------------------------------------
# driver analysis
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriverEffect:
    """One question's effect on overall satisfaction, holding the other questions fixed.

    ``coefficient`` is in target points per question point; ``beta`` is the same effect in
    standard deviations (``coefficient · sd(question) / sd(target)``), comparable across
    questions on different scales. ``rank`` 1 is the largest ``|beta|``.
    """

    driver: str
    coefficient: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    beta: float
    rank: int


@dataclass(frozen=True)
class DriverResult:
    """Result of :func:`driver_analysis`.

    ``drivers`` is ordered by ``rank`` and empty when the model could not be estimated (then
    ``warning`` says why). ``n`` counts the complete responses used.
    """

    target: str
    n: int
    r_squared: float | None
    intercept: float | None
    drivers: tuple[DriverEffect, ...]
    warning: str | None

    def to_frame(self) -> pl.DataFrame:
        """The driver effects as a frame (one row per driver, in rank order)."""
        schema = {
            "driver": pl.String, "coefficient": pl.Float64, "std_error": pl.Float64,
            "ci_low": pl.Float64, "ci_high": pl.Float64, "p_value": pl.Float64,
            "beta": pl.Float64, "rank": pl.Int64,
        }  # fmt: skip
        rows = [{name: getattr(d, name) for name in schema} for d in self.drivers]
        return pl.DataFrame(rows, schema=schema)


def driver_analysis(
    frame: pl.DataFrame,
    *,
    target: str,
    drivers: list[str],
    min_responses: int = 30,
) -> DriverResult:
    """Which questions move overall satisfaction: OLS of ``target`` on the ``drivers``.

    Fits ``target = b0 + Σ b_j · driver_j + e`` by ordinary least squares (statsmodels) on
    the rows where the target and every driver are answered (rows with a null or NaN are
    dropped).

    Parameters
    ----------
    frame
        One row per response.
    target
        Overall-satisfaction column (e.g. the CSAT or NPS score).
    drivers
        Question-score columns (e.g. speed, attitude, fees).
    min_responses
        Fewer complete responses than this still give estimates, with
        :data:`SMALL_SAMPLE_WARNING`.

    Returns
    -------
    DriverResult
        Per driver: coefficient, standard error, 95 % confidence interval and p-value (t
        distribution with ``n − k − 1`` degrees of freedom), standardised coefficient and rank
        by ``|beta|``; plus ``n``, ``r_squared`` and ``warning``. Without estimates (no
        coefficients) when ``n <= k + 1`` (:data:`TOO_FEW_WARNING`), when the drivers are
        collinear or one is constant (:data:`COLLINEAR_WARNING`) or when the target never
        varies (:data:`NO_VARIATION_WARNING`).

    Raises
    ------
    ValueError
        :data:`BAD_DRIVERS`, :data:`BAD_MIN_RESPONSES` or :data:`MISSING_COLUMNS`.
    """
    drivers = list(drivers)
    if not drivers or len(set(drivers)) != len(drivers) or target in drivers:
        raise ValueError(f"{BAD_DRIVERS} (target={target!r}, drivers={drivers})")
    if isinstance(min_responses, bool) or not isinstance(min_responses, int) or min_responses < 1:
        raise ValueError(f"{BAD_MIN_RESPONSES} (got {min_responses!r})")
    _require(frame, [target, *drivers])
    data = (
        frame.select(pl.col([target, *drivers]).cast(pl.Float64))
        .fill_nan(None)
        .drop_nulls()
        .to_numpy()
    )
    n, k = data.shape[0], len(drivers)

    def empty(warning: str) -> DriverResult:
        return DriverResult(target, n, None, None, (), warning)

    if n <= k + 1:
        return empty(TOO_FEW_WARNING)
    y, x = data[:, 0], data[:, 1:]
    design = np.column_stack([np.ones(n), x])
    if np.linalg.matrix_rank(design) < k + 1:
        return empty(COLLINEAR_WARNING)
    sd_y = y.std(ddof=1)
    if sd_y == 0:
        return empty(NO_VARIATION_WARNING)

    import statsmodels.api as sm  # slow to import; only needed here

    fit = sm.OLS(y, design).fit()
    return DriverResult(
        target=target,
        n=n,
        r_squared=float(fit.rsquared),
        intercept=float(fit.params[0]),
        drivers=_driver_effects(fit, drivers, x, sd_y),
        warning=SMALL_SAMPLE_WARNING if n < min_responses else None,
    )


def _driver_effects(
    fit: Any, drivers: list[str], x: np.ndarray, sd_y: float
) -> tuple[DriverEffect, ...]:
    """One effect per driver of the fitted OLS ``fit``, by decreasing ``|beta|`` (the
    coefficient scaled by the driver's and the target's standard deviations ``x``, ``sd_y``)."""
    ci = fit.conf_int(alpha=1 - CONFIDENCE_LEVEL)
    betas = fit.params[1:] * x.std(axis=0, ddof=1) / sd_y
    order = sorted(range(len(drivers)), key=lambda j: -abs(betas[j]))
    rank = {j: position + 1 for position, j in enumerate(order)}
    return tuple(
        DriverEffect(
            driver=drivers[j],
            coefficient=float(fit.params[j + 1]),
            std_error=float(fit.bse[j + 1]),
            ci_low=float(ci[j + 1, 0]),
            ci_high=float(ci[j + 1, 1]),
            p_value=float(fit.pvalues[j + 1]),
            beta=float(betas[j]),
            rank=rank[j],
        )
        for j in order
    )
