"""Financing demand: when each client will next draw, how much, and how sure we are.

Pure functions over polars frames; nothing here imports Django.

The prediction is read from the client's own drawdown history, as at a date ``as_of``
(drawdowns after it are ignored; drawdowns on the same day count as one, amounts summed):

Cycle
    The median of the intervals between consecutive drawdowns, in days, rounded half up to
    whole days. A client with a single drawdown gets the policy's ``default_cycle_days``.
Expected next date
    Last drawdown + cycle. When that date is already past, the client is *late*: if still
    active (see below) the date is rolled forward by whole cycles to the first one on or after
    ``as_of`` (they skipped a cycle, the next one is the best guess) and ``missed_cycles``
    counts the cycles added; a lapsed client keeps the past date.
Active / lapsed
    A client is lapsed when the days since the last drawdown exceed ``lapse_after_cycles``
    cycles (a client with a seasonal month is given at least a year per cycle): their date is
    not rolled forward, their confidence is low and their reason is ``lapsed``.
Seasonality
    A calendar month is seasonal when the client drew in it in at least ``min_seasonal_years``
    different years. Its next occurrence — on the client's usual day of that month (median,
    rounded half up, capped at the month's length), in a year after the last drawdown in that
    month and on or after ``as_of`` — replaces the interval date when it comes sooner (the
    soonest seasonal month wins; reason ``seasonal``). Not for clients who draw like clockwork
    more often than about once a year (high interval confidence and a cycle shorter than
    ``seasonal_min_cycle_days``): a quarterly client's months recur every year by arithmetic,
    not by season, and their interval is the better guide.
Expected amount
    The median of the last ``amount_window`` drawdowns (CNY). With ``scale_by_growth``, it is
    scaled by the growth per drawdown across that window,
    ``g = (a_last / a_first) ** (1 / (m − 1))``, compounded over the ``(m + 1) / 2`` drawdowns
    from the median's position to the next one: exact when amounts grow geometrically and
    ``m`` is odd (100, 110, 121 → 133.1).
Confidence
    From the coefficient of variation (population standard deviation / mean) of the
    intervals: ``high`` up to ``high_cv``, ``medium`` up to ``medium_cv``, else ``low``; ``low``
    with fewer than two intervals (no spread to judge) and for lapsed clients; one level lower
    when cycles were missed. A seasonal prediction is ``high`` when the month recurred in three
    or more years, else ``medium``.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from itertools import pairwise
from math import ceil, floor
from statistics import median, pstdev

import polars as pl


def gettext_noop(text: str) -> str:
    return text


#: Reason code → English template, formatted with the prediction's own columns.
REASON_TEXTS: dict[str, str] = {
    "regular_interval": gettext_noop("Draws about every {cycle_days} days"),
    "seasonal": gettext_noop("Drew in month {seasonal_month} in {seasonal_years} different years"),
    "single_drawdown": gettext_noop(
        "One drawdown so far: the usual cycle of {cycle_days} days is assumed"
    ),
    "lapsed": gettext_noop(
        "No drawdown for {days_since_last} days against a usual cycle of {cycle_days} days"
    ),
}
CONFIDENCE_LEVELS: tuple[str, ...] = ("high", "medium", "low")

MISSING_COLUMNS = "drawdowns is missing column(s): {missing}"
NULL_VALUES = "drawdowns has null {column} values"
NON_POSITIVE_AMOUNTS = "scale_by_growth needs positive amounts; {count} drawdown(s) are not"
BAD_PARAM = "{name} must be {rule}, got {value!r}"
BAD_HORIZONS = "days must be increasing positive whole numbers, got {days!r}"

PREDICTION_SCHEMA = {
    "customer_id": pl.Int64,
    "n_drawdowns": pl.Int64,
    "last_drawn_on": pl.Date,
    "days_since_last": pl.Int64,
    "median_interval_days": pl.Float64,
    "interval_cv": pl.Float64,
    "cycle_days": pl.Int64,
    "seasonal_month": pl.Int64,
    "seasonal_years": pl.Int64,
    "expected_next_date": pl.Date,
    "days_until": pl.Int64,
    "missed_cycles": pl.Int64,
    "expected_amount": pl.Float64,
    "growth_per_drawdown": pl.Float64,
    "confidence": pl.String,
    "active": pl.Boolean,
    "reason": pl.String,
}


def _half_up(value: float) -> int:
    return floor(value + 0.5)


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(BAD_PARAM.format(name=name, rule=f"an integer ≥ {low}", value=value))


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(BAD_PARAM.format(name=name, rule="> 0", value=value))


def _confidence_from_cv(cv: float | None, high_cv: float, medium_cv: float) -> str:
    if cv is None:
        return "low"
    if cv <= high_cv:
        return "high"
    return "medium" if cv <= medium_cv else "low"


def _lower(confidence: str) -> str:
    return CONFIDENCE_LEVELS[min(CONFIDENCE_LEVELS.index(confidence) + 1, 2)]


def _seasonal(dates: list[date], as_of: date, min_years: int) -> tuple[int, int, date] | None:
    """(month, distinct years, next date) of the soonest seasonal month, or None."""
    best: tuple[int, int, date] | None = None
    for month in range(1, 13):
        in_month = [d for d in dates if d.month == month]
        years = {d.year for d in in_month}
        if len(years) < min_years:
            continue
        day = _half_up(median(d.day for d in in_month))
        year = max(years) + 1
        while True:
            candidate = date(year, month, min(day, calendar.monthrange(year, month)[1]))
            if candidate >= as_of:
                break
            year += 1
        if best is None or candidate < best[2]:
            best = (month, len(years), candidate)
    return best


def _expected_amount(
    amounts: list[float], window: int, scale_by_growth: bool
) -> tuple[float, float | None]:
    recent = amounts[-window:]
    middle = float(median(recent))
    m = len(recent)
    if not scale_by_growth or m < 2:
        return middle, None
    factor = (recent[-1] / recent[0]) ** (1 / (m - 1))
    return middle * factor ** ((m + 1) / 2), factor - 1


def predict_demand(
    drawdowns: pl.DataFrame,
    *,
    as_of: date,
    default_cycle_days: int = 365,
    amount_window: int = 3,
    scale_by_growth: bool = False,
    lapse_after_cycles: float = 2.0,
    high_cv: float = 0.2,
    medium_cv: float = 0.5,
    min_seasonal_years: int = 2,
    seasonal_min_cycle_days: int = 300,
) -> pl.DataFrame:
    """Next drawdown date and amount per client (rules in the module docstring).

    Parameters
    ----------
    drawdowns : pl.DataFrame
        One row per drawdown: ``customer_id``, ``drawn_on`` (date), ``amount`` (CNY).
    as_of : date
        The day of the prediction; later drawdowns are ignored.
    default_cycle_days : int, default 365
        Cycle assumed for a client with a single drawdown, in days.
    amount_window : int, default 3
        Number of latest drawdowns the expected amount is the median of.
    scale_by_growth : bool, default False
        Scale the amount by the growth across the window (amounts must then be positive).
    lapse_after_cycles : float, default 2.0
        A client idle for more than this many cycles is lapsed.
    high_cv, medium_cv : float, default 0.2, 0.5
        Largest coefficient of variation of the intervals for high and medium confidence.
    min_seasonal_years : int, default 2
        Distinct years with a drawdown in a month for the month to be seasonal.
    seasonal_min_cycle_days : int, default 300
        Clients with high interval confidence and a shorter cycle ignore seasonality.

    Returns
    -------
    pl.DataFrame
        One row per client with a drawdown up to ``as_of``, sorted by ``customer_id`` (its
        type kept):
        ``n_drawdowns``, ``last_drawn_on``, ``days_since_last``, ``median_interval_days``
        (null with one drawdown), ``interval_cv`` (null with fewer than two intervals),
        ``cycle_days``, ``seasonal_month`` and ``seasonal_years`` (null when no month is
        seasonal or the client ignores seasonality), ``expected_next_date``, ``days_until``
        (negative: lapsed and overdue), ``missed_cycles``, ``expected_amount`` (CNY),
        ``growth_per_drawdown`` (null unless scaled), ``confidence`` (high / medium / low),
        ``active``, ``reason`` (a key of :data:`REASON_TEXTS`).
    """
    _check_int("default_cycle_days", default_cycle_days, 1)
    _check_int("amount_window", amount_window, 1)
    _check_int("min_seasonal_years", min_seasonal_years, 2)
    _check_int("seasonal_min_cycle_days", seasonal_min_cycle_days, 1)
    _check_positive("lapse_after_cycles", lapse_after_cycles)
    if not 0 <= high_cv <= medium_cv:
        raise ValueError(
            BAD_PARAM.format(name="high_cv", rule="between 0 and medium_cv", value=high_cv)
        )
    missing = [c for c in ("customer_id", "drawn_on", "amount") if c not in drawdowns.columns]
    if missing:
        raise ValueError(MISSING_COLUMNS.format(missing=", ".join(missing)))
    for column in ("customer_id", "drawn_on", "amount"):
        if drawdowns[column].null_count():
            raise ValueError(NULL_VALUES.format(column=column))
    daily = (
        drawdowns.filter(pl.col("drawn_on") <= as_of)
        .group_by("customer_id", "drawn_on")
        .agg(pl.col("amount").cast(pl.Float64).sum())
        .sort("customer_id", "drawn_on")
    )
    if scale_by_growth and (bad := daily.filter(pl.col("amount") <= 0).height):
        raise ValueError(NON_POSITIVE_AMOUNTS.format(count=bad))
    histories = daily.group_by("customer_id", maintain_order=True).agg("drawn_on", "amount")

    rows = []
    for customer_id, dates, amounts in histories.iter_rows():
        rows.append(
            _predict_one(
                customer_id,
                dates,
                amounts,
                as_of=as_of,
                default_cycle_days=default_cycle_days,
                amount_window=amount_window,
                scale_by_growth=scale_by_growth,
                lapse_after_cycles=lapse_after_cycles,
                high_cv=high_cv,
                medium_cv=medium_cv,
                min_seasonal_years=min_seasonal_years,
                seasonal_min_cycle_days=seasonal_min_cycle_days,
            )
        )
    schema = {**PREDICTION_SCHEMA, "customer_id": drawdowns.schema["customer_id"]}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _predict_one(
    customer_id: int,
    dates: list[date],
    amounts: list[float],
    *,
    as_of: date,
    default_cycle_days: int,
    amount_window: int,
    scale_by_growth: bool,
    lapse_after_cycles: float,
    high_cv: float,
    medium_cv: float,
    min_seasonal_years: int,
    seasonal_min_cycle_days: int,
) -> tuple:
    last = dates[-1]
    idle = (as_of - last).days
    intervals = [(b - a).days for a, b in pairwise(dates)]
    if intervals:
        median_interval: float | None = float(median(intervals))
        cycle = max(_half_up(median_interval), 1)
        mean = sum(intervals) / len(intervals)
        cv = pstdev(intervals) / mean if len(intervals) >= 2 else None
        confidence = _confidence_from_cv(cv, high_cv, medium_cv)
        reason = "regular_interval"
    else:
        median_interval, cv = None, None
        cycle, confidence, reason = default_cycle_days, "low", "single_drawdown"

    clockwork = confidence == "high" and cycle < seasonal_min_cycle_days
    season = None if clockwork else _seasonal(dates, as_of, min_seasonal_years)
    lapse_cycle = max(cycle, 365) if season else cycle
    active = idle <= lapse_after_cycles * lapse_cycle

    next_date = last + timedelta(days=cycle)
    missed = 0
    if not active:
        confidence, reason = "low", "lapsed"
    else:
        if next_date < as_of:
            missed = ceil((as_of - next_date).days / cycle)
            next_date += timedelta(days=missed * cycle)
            confidence = _lower(confidence)
        if season and season[2] < next_date:
            next_date, missed, reason = season[2], 0, "seasonal"
            confidence = "high" if season[1] >= 3 else "medium"

    amount, growth = _expected_amount(amounts, amount_window, scale_by_growth)
    return (
        customer_id,
        len(dates),
        last,
        idle,
        median_interval,
        cv,
        cycle,
        season[0] if season else None,
        season[1] if season else None,
        next_date,
        (next_date - as_of).days,
        missed,
        amount,
        growth,
        confidence,
        active,
        reason,
    )


def due_within(
    pred: pl.DataFrame,
    *,
    as_of: date,
    days: Sequence[int] = (30, 60, 90),
    date_col: str = "expected_next_date",
) -> pl.DataFrame:
    """Add ``due_within``: the first horizon the expected date falls in.

    Parameters
    ----------
    pred : pl.DataFrame
        Predictions (:func:`predict_demand`) or any frame with a date column.
    as_of : date
    days : sequence of int, default (30, 60, 90)
        Horizons in days, increasing.
    date_col : str
        The expected date.

    Returns
    -------
    pl.DataFrame
        ``pred`` plus ``due_within`` (String): ``"30"`` when the date is 0–30 days after
        ``as_of`` (both ends included), ``"60"`` for 31–60 days, ...; null when it is later,
        already past (a lapsed client) or unknown.
    """
    horizons = list(days)
    if (
        not horizons
        or any(isinstance(d, bool) or not isinstance(d, int) or d <= 0 for d in horizons)
        or any(a >= b for a, b in pairwise(horizons))
    ):
        raise ValueError(BAD_HORIZONS.format(days=days))
    until = (pl.col(date_col) - pl.lit(as_of)).dt.total_days()
    bucket = pl.lit(None, dtype=pl.String)
    for horizon in reversed(horizons):
        bucket = (
            pl.when((until >= 0) & (until <= horizon)).then(pl.lit(str(horizon))).otherwise(bucket)
        )
    return pred.with_columns(due_within=bucket)
