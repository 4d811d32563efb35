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
Renewal at maturity (with ``facilities``)
    A facility running at ``as_of`` (drawn on or before it, maturing on or after it) is a need
    to come: a working-capital client renews when its facility matures. Its nearest maturity
    replaces the interval date (reason ``maturity``, medium confidence) unless the client's
    own cycle is high-confidence and comes sooner. A client with a running facility is never
    lapsed.
Industry (with ``industries``)
    A client with a single drawdown has no cycle of its own: it takes its industry's (the
    median interval of the industry's clients with several drawdowns, at least
    ``min_industry_intervals`` of them; reason ``industry_cycle``) before the policy's
    default. An industry is seasonal in its peak month when that month holds at least
    ``industry_peak_ratio`` times its fair share (1/12) of the industry's drawdowns, counted
    over at least ``min_industry_drawdowns``; such a client (no own cycle, no running
    facility) is then due at the next peak month when it comes sooner (reason
    ``industry_season``, low confidence). Both read the history up to ``as_of`` only.
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
Back-test and calibration
    These rule levels are a guess until the book says how often they come true.
    :func:`backtest_demand` predicts as at past cut-offs and records whether each client drew
    within the window after it; :func:`calibrate_confidence` then names each (reason, rule
    level) group by the share of its predictions that came true (``high`` from
    ``high_hit_rate``, ``medium`` from ``medium_hit_rate``), and :func:`hit_rates` reports, per
    level, the share that came true — what the confidence means on this book.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
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
    "maturity": gettext_noop("A running facility matures: renewal expected"),
    "industry_cycle": gettext_noop(
        "One drawdown so far: the industry's usual cycle of {cycle_days} days is assumed"
    ),
    "industry_season": gettext_noop(
        "One drawdown so far: the industry draws most in month {seasonal_month}"
    ),
}
CONFIDENCE_LEVELS: tuple[str, ...] = ("high", "medium", "low")

MISSING_COLUMNS = "drawdowns is missing column(s): {missing}"
NULL_VALUES = "drawdowns has null {column} values"
NON_POSITIVE_AMOUNTS = "scale_by_growth needs positive amounts; {count} drawdown(s) are not"
BAD_PARAM = "{name} must be {rule}, got {value!r}"
BAD_HORIZONS = "days must be increasing positive whole numbers, got {days!r}"

PREDICTION_SCHEMA = pl.Schema(
    {
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
)


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


def _next_in_month(month: int, day: int, as_of: date) -> date:
    """The first ``day`` of ``month`` (capped at the month's length) on or after ``as_of``."""
    for year in (as_of.year, as_of.year + 1):
        candidate = date(year, month, min(day, calendar.monthrange(year, month)[1]))
        if candidate >= as_of:
            return candidate
    raise AssertionError("unreachable: next year's month is after as_of")


def running_maturities(facilities: pl.DataFrame, *, as_of: date) -> dict:
    """customer_id → the nearest maturity on or after ``as_of`` of a facility drawn by then."""
    running = facilities.filter(
        (pl.col("start_date") <= as_of) & (pl.col("maturity_date") >= as_of)
    )
    return dict(running.group_by("customer_id").agg(pl.col("maturity_date").min()).iter_rows())


def _industry_profile(
    histories: pl.DataFrame, industry_of: dict, min_intervals: int, min_drawdowns: int,
    peak_ratio: float,
) -> tuple[dict[str, int], dict[str, tuple[int, int]]]:  # fmt: skip
    """Per industry: the median interval of its clients (cycle, days) and its peak month
    with the usual day in it, where the history is deep enough (module docstring)."""
    intervals: dict[str, list[int]] = {}
    days_by_month: dict[str, list[list[int]]] = {}
    for customer_id, dates, _amounts in histories.iter_rows():
        industry = industry_of.get(customer_id)
        if not industry:
            continue
        intervals.setdefault(industry, []).extend((b - a).days for a, b in pairwise(dates))
        months = days_by_month.setdefault(industry, [[] for _ in range(12)])
        for d in dates:
            months[d.month - 1].append(d.day)
    cycles = {
        industry: max(_half_up(median(values)), 1)
        for industry, values in intervals.items()
        if len(values) >= min_intervals
    }
    peaks = {}
    for industry, months in days_by_month.items():
        total = sum(len(m) for m in months)
        if total < min_drawdowns:
            continue
        busiest = max(range(12), key=lambda i: (len(months[i]), -i))
        if len(months[busiest]) * 12 >= peak_ratio * total:
            peaks[industry] = (busiest + 1, _half_up(median(months[busiest])))
    return cycles, peaks


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


@dataclass(frozen=True)
class _Rules:
    """The thresholds of :func:`predict_demand`, in its order; checked when built."""

    as_of: date
    default_cycle_days: int
    amount_window: int
    scale_by_growth: bool
    lapse_after_cycles: float
    high_cv: float
    medium_cv: float
    min_seasonal_years: int
    seasonal_min_cycle_days: int
    min_industry_intervals: int
    min_industry_drawdowns: int
    industry_peak_ratio: float

    def __post_init__(self) -> None:
        _check_int("default_cycle_days", self.default_cycle_days, 1)
        _check_int("amount_window", self.amount_window, 1)
        _check_int("min_seasonal_years", self.min_seasonal_years, 2)
        _check_int("seasonal_min_cycle_days", self.seasonal_min_cycle_days, 1)
        _check_positive("lapse_after_cycles", self.lapse_after_cycles)
        _check_int("min_industry_intervals", self.min_industry_intervals, 1)
        _check_int("min_industry_drawdowns", self.min_industry_drawdowns, 1)
        _check_positive("industry_peak_ratio", self.industry_peak_ratio)
        if not 0 <= self.high_cv <= self.medium_cv:
            raise ValueError(
                BAD_PARAM.format(name="high_cv", rule="between 0 and medium_cv", value=self.high_cv)
            )


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
    facilities: pl.DataFrame | None = None,
    industries: pl.DataFrame | None = None,
    min_industry_intervals: int = 20,
    min_industry_drawdowns: int = 60,
    industry_peak_ratio: float = 2.0,
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
    facilities : pl.DataFrame, optional
        ``customer_id``, ``start_date``, ``maturity_date``: the facilities, for renewals at
        maturity. Without it, no renewal is predicted.
    industries : pl.DataFrame, optional
        ``customer_id``, ``industry``: for the industry's cycle and season. Without it, a
        single drawdown gets ``default_cycle_days``.
    min_industry_intervals, min_industry_drawdowns : int, default 20, 60
        The fewest intervals for an industry cycle and drawdowns for an industry season.
    industry_peak_ratio : float, default 2.0
        A month is the industry's season from this many times 1/12 of its drawdowns.

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
    rules = _Rules(
        as_of, default_cycle_days, amount_window, scale_by_growth, lapse_after_cycles, high_cv,
        medium_cv, min_seasonal_years, seasonal_min_cycle_days, min_industry_intervals,
        min_industry_drawdowns, industry_peak_ratio,
    )  # fmt: skip
    histories = _histories(drawdowns, rules)
    rows = _predictions(histories, rules, facilities=facilities, industries=industries)
    schema = {**PREDICTION_SCHEMA, "customer_id": drawdowns.schema["customer_id"]}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _histories(drawdowns: pl.DataFrame, rules: _Rules) -> pl.DataFrame:
    """Per client up to ``as_of``, in ``customer_id`` order: the drawdown days and the amounts
    (same-day drawdowns summed); raises on missing columns, nulls, or (``scale_by_growth``)
    amounts that are not positive."""
    missing = [c for c in ("customer_id", "drawn_on", "amount") if c not in drawdowns.columns]
    if missing:
        raise ValueError(MISSING_COLUMNS.format(missing=", ".join(missing)))
    for column in ("customer_id", "drawn_on", "amount"):
        if drawdowns[column].null_count():
            raise ValueError(NULL_VALUES.format(column=column))
    daily = (
        drawdowns.filter(pl.col("drawn_on") <= rules.as_of)
        .group_by("customer_id", "drawn_on")
        .agg(pl.col("amount").cast(pl.Float64).sum())
        .sort("customer_id", "drawn_on")
    )
    if rules.scale_by_growth and (bad := daily.filter(pl.col("amount") <= 0).height):
        raise ValueError(NON_POSITIVE_AMOUNTS.format(count=bad))
    return daily.group_by("customer_id", maintain_order=True).agg("drawn_on", "amount")


def _predictions(
    histories: pl.DataFrame,
    rules: _Rules,
    *,
    facilities: pl.DataFrame | None,
    industries: pl.DataFrame | None,
) -> list[tuple]:
    """One prediction row per client of ``histories``, with its running maturity and its
    industry's cycle and peak month when those frames are given."""
    as_of = rules.as_of
    maturities = running_maturities(facilities, as_of=as_of) if facilities is not None else {}
    industry_of: dict = {}
    cycles: dict[str, int] = {}
    peaks: dict[str, tuple[int, int]] = {}
    if industries is not None:
        industry_of = dict(industries.select("customer_id", "industry").iter_rows())
        cycles, peaks = _industry_profile(
            histories, industry_of, rules.min_industry_intervals, rules.min_industry_drawdowns,
            rules.industry_peak_ratio,
        )  # fmt: skip
    rows = []
    for customer_id, dates, amounts in histories.iter_rows():
        industry = industry_of.get(customer_id, "")
        rows.append(
            _predict_one(
                customer_id,
                dates,
                amounts,
                rules,
                maturity=maturities.get(customer_id),
                industry_cycle=cycles.get(industry),
                industry_peak=peaks.get(industry),
            )
        )
    return rows


def _own_cycle(
    intervals: list[int], rules: _Rules, industry_cycle: int | None
) -> tuple[float | None, float | None, int, str, str]:
    """Median interval, its CV, the cycle (days), the rule confidence and the reason: from the
    client's own intervals, else its industry's cycle, else the default cycle."""
    if intervals:
        middle = float(median(intervals))
        cycle = max(_half_up(middle), 1)
        mean = sum(intervals) / len(intervals)
        cv = pstdev(intervals) / mean if len(intervals) >= 2 else None
        confidence = _confidence_from_cv(cv, rules.high_cv, rules.medium_cv)
        return middle, cv, cycle, confidence, "regular_interval"
    if industry_cycle is not None:
        return None, None, industry_cycle, "low", "industry_cycle"
    return None, None, rules.default_cycle_days, "low", "single_drawdown"


def _predict_one(
    customer_id: int,
    dates: list[date],
    amounts: list[float],
    rules: _Rules,
    *,
    maturity: date | None = None,
    industry_cycle: int | None = None,
    industry_peak: tuple[int, int] | None = None,
) -> tuple:
    as_of = rules.as_of
    last = dates[-1]
    idle = (as_of - last).days
    intervals = [(b - a).days for a, b in pairwise(dates)]
    median_interval, cv, cycle, confidence, reason = _own_cycle(intervals, rules, industry_cycle)

    clockwork = confidence == "high" and cycle < rules.seasonal_min_cycle_days
    # (month, distinct years or None for an industry's peak month, next date)
    season: tuple[int, int | None, date] | None = (
        None if clockwork else _seasonal(dates, as_of, rules.min_seasonal_years)
    )
    lapse_cycle = max(cycle, 365) if season else cycle
    active = idle <= rules.lapse_after_cycles * lapse_cycle or maturity is not None

    next_date = last + timedelta(days=cycle)
    missed = 0
    if not active:
        confidence, reason = "low", "lapsed"
    else:
        if next_date < as_of:
            missed = ceil((as_of - next_date).days / cycle)
            next_date += timedelta(days=missed * cycle)
            confidence = _lower(confidence)
        if maturity is not None and not (confidence == "high" and next_date <= maturity):
            next_date, missed, reason, confidence = maturity, 0, "maturity", "medium"
        if season and season[2] < next_date:
            next_date, missed, reason = season[2], 0, "seasonal"
            confidence = "high" if (season[1] or 0) >= 3 else "medium"
        elif industry_peak and not intervals and maturity is None:
            peak_date = _next_in_month(*industry_peak, as_of)
            if peak_date < next_date:
                next_date, missed, reason, confidence = peak_date, 0, "industry_season", "low"
                season = (industry_peak[0], None, peak_date)

    amount, growth = _expected_amount(amounts, rules.amount_window, rules.scale_by_growth)
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


BACKTEST_SCHEMA = pl.Schema(
    {
        "cutoff": pl.Date,
        "customer_id": pl.Int64,
        "reason": pl.String,
        "rule_confidence": pl.String,
        "expected": pl.Boolean,
        "drew": pl.Boolean,
    }
)


def backtest_demand(
    drawdowns: pl.DataFrame,
    *,
    cutoffs: Sequence[date],
    window_days: int,
    **predict_kwargs,
) -> pl.DataFrame:
    """What the predictions made at past cut-offs said, and what happened.

    At each cut-off the demand is predicted from the history up to it (drawdowns after it are
    unseen, and so are facilities drawn after it), then compared with the ``window_days``
    after it.

    Parameters
    ----------
    drawdowns : pl.DataFrame
        As for :func:`predict_demand`.
    cutoffs : sequence of date
        Past days to predict as at; each window should end before today.
    window_days : int
        The promise checked: "this client will draw within ``window_days``".
    **predict_kwargs
        Passed to :func:`predict_demand` (``facilities``, ``industries``, thresholds).

    Returns
    -------
    pl.DataFrame
        One row per client with a drawdown up to each cut-off: ``cutoff``, ``customer_id``,
        ``reason``, ``rule_confidence``, ``expected`` (active and due within the window:
        what the demand page would have listed) and ``drew`` (a drawdown after the cut-off,
        within the window).
    """
    _check_int("window_days", window_days, 1)
    frames = []
    for cutoff in cutoffs:
        end = cutoff + timedelta(days=window_days)
        pred = predict_demand(drawdowns, as_of=cutoff, **predict_kwargs)
        drew = (
            drawdowns.filter((pl.col("drawn_on") > cutoff) & (pl.col("drawn_on") <= end))
            .select(pl.col("customer_id").cast(pl.Int64))
            .unique()
            .with_columns(drew=pl.lit(True))
        )
        frames.append(
            pred.select(
                cutoff=pl.lit(cutoff),
                customer_id=pl.col("customer_id").cast(pl.Int64),
                reason="reason",
                rule_confidence="confidence",
                expected=pl.col("active")
                & pl.col("expected_next_date").is_between(pl.lit(cutoff), pl.lit(end)),
            )
            .join(drew, on="customer_id", how="left")
            .with_columns(pl.col("drew").fill_null(False))
        )
    if not frames:
        return pl.DataFrame(schema=BACKTEST_SCHEMA)
    return pl.concat(frames).cast(BACKTEST_SCHEMA)


def calibrate_confidence(
    backtest: pl.DataFrame,
    *,
    high_hit_rate: float = 0.6,
    medium_hit_rate: float = 0.3,
    min_predictions: int = 20,
) -> pl.DataFrame:
    """The confidence each kind of prediction has earned on the book.

    Groups the back-test's *expected* predictions by ``reason`` and ``rule_confidence``; a
    group whose share that came true reaches ``high_hit_rate`` is ``high``, reaches
    ``medium_hit_rate`` ``medium``, else ``low``. A group with fewer than ``min_predictions``
    keeps its rule level (too few to judge).

    Returns
    -------
    pl.DataFrame
        ``reason``, ``rule_confidence``, ``predictions``, ``came_true``, ``hit_rate``,
        ``confidence``.
    """
    if not 0 <= medium_hit_rate <= high_hit_rate <= 1:
        raise ValueError(
            BAD_PARAM.format(name="medium_hit_rate", rule="between 0 and high_hit_rate",
                             value=medium_hit_rate)
        )  # fmt: skip
    _check_int("min_predictions", min_predictions, 1)
    rate = pl.col("hit_rate")
    return (
        backtest.filter(pl.col("expected"))
        .group_by("reason", "rule_confidence")
        .agg(predictions=pl.len(), came_true=pl.col("drew").sum())
        .with_columns(hit_rate=pl.col("came_true") / pl.col("predictions"))
        .with_columns(
            confidence=pl.when(pl.col("predictions") < min_predictions)
            .then(pl.col("rule_confidence"))
            .when(rate >= high_hit_rate)
            .then(pl.lit("high"))
            .when(rate >= medium_hit_rate)
            .then(pl.lit("medium"))
            .otherwise(pl.lit("low"))
        )
        .sort("reason", "rule_confidence")
    )


def apply_confidence(pred: pl.DataFrame, calibration: pl.DataFrame, *,
                     column: str = "confidence") -> pl.DataFrame:  # fmt: skip
    """Replace ``column`` (the rule level) by the calibrated level of the prediction's
    (reason, rule level) group; predictions of a group never back-tested keep theirs."""
    mapping = calibration.select(
        "reason", pl.col("rule_confidence").alias(column), calibrated="confidence"
    )
    return (
        pred.join(mapping, on=["reason", column], how="left")
        .with_columns(pl.coalesce("calibrated", column).alias(column))
        .drop("calibrated")
    )


def hit_rates(backtest: pl.DataFrame, *, column: str = "rule_confidence") -> pl.DataFrame:
    """Per confidence level (``column``), how many predictions said "within the window" and
    what share came true; the row with a null level is every other client (not expected):
    the share of them that drew anyway is the base rate the levels are to beat.

    Returns
    -------
    pl.DataFrame
        ``confidence`` (high, medium, low, null), ``predictions``, ``came_true``,
        ``hit_rate``, in that order.
    """
    order = {level: i for i, level in enumerate(CONFIDENCE_LEVELS)}
    return (
        backtest.with_columns(
            confidence=pl.when(pl.col("expected")).then(pl.col(column)).otherwise(None)
        )
        .group_by("confidence")
        .agg(predictions=pl.len(), came_true=pl.col("drew").sum().cast(pl.Int64))
        .with_columns(
            predictions=pl.col("predictions").cast(pl.Int64),
            hit_rate=pl.col("came_true") / pl.col("predictions"),
            _order=pl.col("confidence").replace_strict(order, default=len(order)),
        )
        .sort("_order")
        .drop("_order")
    )
