"""SLA clocks: business days and hours in mainland China, and the state of a ticket's SLA.

Pure Python with the ``holidays`` package, no Django.

Business days follow the State Council's holiday notices as the ``holidays`` package encodes
them (``holidays.CN``): public holidays and their bridging days off are days off, weekends are
days off, **except** the adjusted working weekends (调休), which the package lists in
``HolidayBase.weekend_workdays`` and honours in ``HolidayBase.is_working_day``. Nothing is
hard-coded per year here; years the package does not yet know are plain Monday–Friday weeks
around the computed festival dates (the package marks those as estimated).

Business hours run from ``workday_start`` to ``workday_end`` (09:00–18:00 by default, no lunch
break) in the business time zone ``tz`` (Asia/Shanghai by default), whatever the time zone of
the datetimes passed in; results come back in the time zone of the input. Durations are in
hours.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "SLA_STATES",
    "add_business_hours",
    "business_hours_between",
    "is_business_day",
    "sla_state",
]


def gettext_noop(text: str) -> str:
    """Mark ``text`` for the translation catalogue without importing Django."""
    return text


SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKDAY_START = time(9)
WORKDAY_END = time(18)
AT_RISK_SHARE = 0.2
#: Give up looking for a business day after this many consecutive days off.
MAX_DAYS_OFF = 366

NAIVE_DATETIME = "datetimes must be timezone-aware"
BAD_WORKDAY = "workday_start must be before workday_end"
BAD_HOURS = "hours must be a finite number >= 0"
BAD_AT_RISK_SHARE = "at_risk_share must be between 0 and 1"
NO_BUSINESS_DAY = "no business day found within a year"

SlaState = Literal["met", "on_track", "at_risk", "breached"]
SLA_STATES: dict[str, str] = {
    "met": gettext_noop("Met"),
    "on_track": gettext_noop("On track"),
    "at_risk": gettext_noop("At risk"),
    "breached": gettext_noop("Breached"),
}

# --------------------------------------------------------------------------------------------
# business days
# --------------------------------------------------------------------------------------------

_calendar_lock = threading.Lock()
_calendar: holidays.HolidayBase | None = None


def china_calendar() -> holidays.HolidayBase:
    """The shared ``holidays.CN`` calendar (years are filled in as they are looked up)."""
    global _calendar
    if _calendar is None:
        with _calendar_lock:
            if _calendar is None:
                _calendar = holidays.CN()
    return _calendar


def is_business_day(d: date, *, calendar: holidays.HolidayBase | None = None) -> bool:
    """Whether ``d`` is a working day: not a holiday, and a weekday or an adjusted workday.

    Parameters
    ----------
    d
        The day (a ``datetime`` counts as its date).
    calendar
        A ``holidays`` calendar; defaults to :func:`china_calendar`.
    """
    cal = china_calendar() if calendar is None else calendar
    if isinstance(d, datetime):
        d = d.date()
    with _calendar_lock:
        # An adjusted working weekend can belong to the next year's notice (e.g. a Sunday in
        # late December worked for the New Year break), so load both years before asking.
        # ``in`` fills a year into an expanding calendar; the lock keeps that thread-safe.
        for year in (d.year, d.year + 1):
            _ = date(year, 1, 1) in cal
        return bool(cal.is_working_day(d))


# --------------------------------------------------------------------------------------------
# business hours
# --------------------------------------------------------------------------------------------


def _aware(*values: datetime | None) -> None:
    for value in values:
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError(f"{NAIVE_DATETIME} (got {value!r})")


def _check_workday(workday_start: time, workday_end: time) -> None:
    if not workday_start < workday_end:
        raise ValueError(f"{BAD_WORKDAY} (got {workday_start} and {workday_end})")


def _windows(
    first: date,
    workday_start: time,
    workday_end: time,
    tz: tzinfo,
    calendar: holidays.HolidayBase | None,
) -> Callable[[int], tuple[datetime, datetime] | None]:
    """``offset -> (open, close)`` in UTC for business day ``first + offset``, else None."""

    def window(offset: int) -> tuple[datetime, datetime] | None:
        day = first + timedelta(days=offset)
        if not is_business_day(day, calendar=calendar):
            return None
        opens = datetime.combine(day, workday_start, tzinfo=tz).astimezone(UTC)
        closes = datetime.combine(day, workday_end, tzinfo=tz).astimezone(UTC)
        return opens, closes

    return window


def add_business_hours(
    start: datetime,
    hours: float,
    *,
    business_days: bool,
    workday_start: time = WORKDAY_START,
    workday_end: time = WORKDAY_END,
    tz: tzinfo = SHANGHAI,
    calendar: holidays.HolidayBase | None = None,
) -> datetime:
    """The moment ``hours`` of SLA time after ``start``.

    Parameters
    ----------
    start
        Timezone-aware start (e.g. when the request came in).
    hours
        SLA duration in hours, >= 0.
    business_days
        ``True``: only business hours count (``workday_start``–``workday_end`` on business
        days, in ``tz``); a request outside them starts the clock at the next opening.
        ``False``: plain elapsed hours around the clock.
    workday_start, workday_end
        Opening and closing time of a business day, local to ``tz``.
    tz
        Business time zone (Asia/Shanghai).
    calendar
        ``holidays`` calendar; defaults to :func:`china_calendar`.

    Returns
    -------
    datetime
        The earliest moment with exactly ``hours`` of SLA time since ``start`` (so work that
        ends at closing time is due at closing time, not at the next opening), in the time
        zone of ``start``.

    Raises
    ------
    ValueError
        :data:`NAIVE_DATETIME`, :data:`BAD_HOURS`, :data:`BAD_WORKDAY` or
        :data:`NO_BUSINESS_DAY`.
    """
    _aware(start)
    try:
        valid = math.isfinite(hours) and hours >= 0
    except TypeError:
        valid = False
    if not valid:
        raise ValueError(f"{BAD_HOURS} (got {hours!r})")
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(UTC)
    if not business_days or remaining == timedelta(0):
        return (cursor + remaining).astimezone(start.tzinfo)
    _check_workday(workday_start, workday_end)
    window = _windows(start.astimezone(tz).date(), workday_start, workday_end, tz, calendar)
    offset = days_off = 0
    while True:
        bounds = window(offset)
        offset += 1
        if bounds is None:
            days_off += 1
            if days_off > MAX_DAYS_OFF:
                raise ValueError(f"{NO_BUSINESS_DAY} (after {start.date()})")
            continue
        days_off = 0
        opens, closes = bounds
        begin = max(cursor, opens)
        if begin >= closes:
            continue
        if remaining <= closes - begin:
            return (begin + remaining).astimezone(start.tzinfo)
        remaining -= closes - begin


def business_hours_between(
    start: datetime,
    end: datetime,
    *,
    business_days: bool,
    workday_start: time = WORKDAY_START,
    workday_end: time = WORKDAY_END,
    tz: tzinfo = SHANGHAI,
    calendar: holidays.HolidayBase | None = None,
) -> float:
    """SLA hours from ``start`` to ``end``: the inverse of :func:`add_business_hours`.

    With ``business_days`` only the business hours in between count, otherwise all elapsed
    hours. Negative when ``end`` is before ``start``.

    Raises
    ------
    ValueError
        :data:`NAIVE_DATETIME` or :data:`BAD_WORKDAY`.
    """
    _aware(start, end)
    if end < start:
        return -business_hours_between(
            end, start, business_days=business_days, workday_start=workday_start,
            workday_end=workday_end, tz=tz, calendar=calendar,
        )  # fmt: skip
    if not business_days:
        return (end - start).total_seconds() / 3600
    _check_workday(workday_start, workday_end)
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    window = _windows(first, workday_start, workday_end, tz, calendar)
    total = timedelta(0)
    for offset in range((last - first).days + 1):
        bounds = window(offset)
        if bounds is not None:
            overlap = min(end, bounds[1]) - max(start, bounds[0])
            total += max(overlap, timedelta(0))
    return total.total_seconds() / 3600


# --------------------------------------------------------------------------------------------
# SLA state
# --------------------------------------------------------------------------------------------


def sla_state(
    opened_at: datetime,
    now: datetime,
    respond_by: datetime | None,
    resolve_by: datetime | None,
    responded_at: datetime | None,
    resolved_at: datetime | None,
    *,
    at_risk_share: float = AT_RISK_SHARE,
    business_days: bool = False,
    workday_start: time = WORKDAY_START,
    workday_end: time = WORKDAY_END,
    tz: tzinfo = SHANGHAI,
    calendar: holidays.HolidayBase | None = None,
) -> SlaState:
    """The state of a ticket's response and resolution SLA at ``now``.

    Rules, in order (a resolution counts as the response when no response was recorded; a
    target of ``None`` is no target; a deadline is kept up to and including its instant):

    1. **breached** — a target was missed: responded or resolved after its deadline, or still
       not responded/resolved at ``now`` past its deadline.
    2. **met** — resolved, within every target.
    3. **at_risk** — the current target (the response until responded, then the resolution)
       has less than ``at_risk_share`` of its window (``opened_at`` → deadline) left.
    4. **on_track** — otherwise.

    The window and the time left are measured in elapsed hours, or in business hours with
    ``business_days=True`` (pass the same calendar settings used to set the deadlines).

    Raises
    ------
    ValueError
        :data:`NAIVE_DATETIME` or :data:`BAD_AT_RISK_SHARE`.
    """
    _aware(opened_at, now, respond_by, resolve_by, responded_at, resolved_at)
    if not 0 <= at_risk_share <= 1:
        raise ValueError(f"{BAD_AT_RISK_SHARE} (got {at_risk_share!r})")
    if responded_at is None:
        responded_at = resolved_at
    targets = ((respond_by, responded_at), (resolve_by, resolved_at))
    for deadline, done_at in targets:
        if deadline is not None and (done_at or now) > deadline:
            return "breached"
    if resolved_at is not None:
        return "met"
    current = respond_by if responded_at is None and respond_by is not None else resolve_by
    if current is None:
        return "on_track"

    def hours(a: datetime, b: datetime) -> float:
        return business_hours_between(
            a, b, business_days=business_days, workday_start=workday_start,
            workday_end=workday_end, tz=tz, calendar=calendar,
        )  # fmt: skip

    window = hours(opened_at, current)
    left = hours(now, current)
    return "at_risk" if left < at_risk_share * window or window <= 0 else "on_track"
