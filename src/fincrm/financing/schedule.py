"""Repayment schedules: the arithmetic of a loan, in Decimal and without Django.

Four methods, as Chinese lenders name them:

- ``equal_instalment`` (等额本息): the annuity; every instalment the same except the last,
  which clears the balance to the cent;
- ``equal_principal`` (等额本金): the same principal each period, interest on the balance;
- ``interest_only`` (先息后本): interest each period, the principal at maturity;
- ``bullet`` (到期一次还本付息): principal and interest in one payment at maturity.

Periods are monthly or quarterly. Due dates fall on the due day of each month (the start's
day unless a first due date is given); a due day of 29–31 moves to the last day of a shorter
month. Interest of a period is balance × annual rate × the day count's fraction of a year:
under ``30/360`` a regular period is exactly its months / 12 (so an equal-instalment schedule
is the textbook annuity), under ``act/360`` and ``act/365`` the actual days; a short or long
first period (a first due date that is not one period after the start) is prorated by the day
count.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
METHODS = ("equal_instalment", "equal_principal", "interest_only", "bullet")
FREQUENCY_MONTHS = {"monthly": 1, "quarterly": 3}
DAY_COUNTS = ("30/360", "act/360", "act/365")


class ScheduleError(ValueError):
    """Terms no schedule can be built from (the message says which term and why)."""


@dataclass(frozen=True)
class Period:
    number: int
    start: date
    due_date: date
    principal: Decimal
    interest: Decimal

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(day: date, months: int, *, due_day: int | None = None) -> date:
    """``day`` plus ``months`` calendar months on ``due_day`` (default: ``day``'s own day),
    moved to the month's last day when the month is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(due_day or day.day, last))


def _days_30e(start: date, end: date) -> int:
    """Days between two dates under 30E/360, a month's last day counting as its 30th."""

    def day_of(d: date) -> int:
        return 30 if d.day >= 30 or d.day == calendar.monthrange(d.year, d.month)[1] else d.day

    return (
        (end.year - start.year) * 360 + (end.month - start.month) * 30 + day_of(end) - day_of(start)
    )


def year_fraction(start: date, end: date, day_count: str, *, regular_months: int = 0) -> Decimal:
    """The share of a year from ``start`` to ``end``. Under 30/360 a regular period of
    ``regular_months`` months is exactly ``regular_months / 12``."""
    if day_count == "30/360":
        if regular_months:
            return Decimal(regular_months) / 12
        return Decimal(_days_30e(start, end)) / 360
    basis = 360 if day_count == "act/360" else 365
    return Decimal((end - start).days) / basis


def annuity_payment(principal: Decimal, periodic_rate: Decimal, periods: int) -> Decimal:
    """The level payment that repays ``principal`` over ``periods`` at ``periodic_rate``
    (a fraction per period), rounded to the cent: P·r / (1 − (1 + r)^−n)."""
    if periodic_rate == 0:
        return money(principal / periods)
    factor = (1 + periodic_rate) ** periods
    return money(principal * periodic_rate * factor / (factor - 1))


def _check_terms(
    *,
    amount: Decimal,
    rate: Decimal,
    tenor_months: int,
    start: date,
    method: str,
    frequency: str,
    day_count: str,
    first_due: date | None,
) -> None:
    """The terms ``build_schedule`` can lay out; a ScheduleError names the first that is not.

    ``rate`` is the annual rate as a fraction (0.065), not in percent.
    """
    if amount <= 0 or money(amount) != amount:
        raise ScheduleError(f"amount: must be positive with at most two decimals (got {amount})")
    if rate < 0:
        raise ScheduleError("rate: must not be negative")
    if method not in METHODS:
        raise ScheduleError(f"method: one of {', '.join(METHODS)} (got {method})")
    if frequency not in FREQUENCY_MONTHS:
        raise ScheduleError(f"frequency: monthly or quarterly (got {frequency})")
    if day_count not in DAY_COUNTS:
        raise ScheduleError(f"day count: one of {', '.join(DAY_COUNTS)} (got {day_count})")
    step = FREQUENCY_MONTHS[frequency]
    if tenor_months <= 0 or (method != "bullet" and tenor_months % step):
        raise ScheduleError(
            f"tenor: {tenor_months} months is not a whole number of {frequency} periods"
        )
    if first_due is not None and first_due <= start:
        raise ScheduleError("first due date: must be after the start")


def build_schedule(
    *,
    amount: Decimal,
    annual_rate_percent: Decimal,
    tenor_months: int,
    start: date,
    method: str = "equal_instalment",
    frequency: str = "monthly",
    day_count: str = "30/360",
    first_due: date | None = None,
    due_day: int | None = None,
) -> list[Period]:
    """The repayment schedule of ``amount`` lent on ``start``.

    Parameters
    ----------
    amount : CNY, positive, at most two decimals.
    annual_rate_percent : nominal annual rate in percent (6.5 means 6.5 %).
    tenor_months : months from the first period's regular start to maturity.
    first_due : the first due date when it is not one period after ``start`` (a short or long
        first period); later due dates keep its day of the month.
    due_day : the day of the month due dates fall on when it is not ``first_due``'s (a
        drawdown joining a schedule due on the 31st whose first due date is 28 February).

    Returns
    -------
    The periods in order; their principal sums to ``amount`` exactly.
    """
    amount = Decimal(amount)
    rate = Decimal(annual_rate_percent) / 100
    _check_terms(
        amount=amount,
        rate=rate,
        tenor_months=tenor_months,
        start=start,
        method=method,
        frequency=frequency,
        day_count=day_count,
        first_due=first_due,
    )
    step = FREQUENCY_MONTHS[frequency]

    if method == "bullet":
        maturity = first_due or add_months(start, tenor_months)
        fraction = year_fraction(
            start, maturity, day_count, regular_months=0 if first_due else tenor_months
        )
        return [Period(1, start, maturity, amount, money(amount * rate * fraction))]

    periods = tenor_months // step
    due_day = due_day or (first_due or start).day
    anchor = first_due or add_months(start, step)
    dues = [add_months(anchor, step * k, due_day=due_day) for k in range(periods)]
    regular_first = first_due is None or first_due == add_months(start, step)
    return _amortise(
        amount=amount,
        rate=rate,
        start=start,
        dues=dues,
        step=step,
        method=method,
        day_count=day_count,
        regular_first=regular_first,
    )


def _amortise(
    *,
    amount: Decimal,
    rate: Decimal,
    start: date,
    dues: list[date],
    step: int,
    method: str,
    day_count: str,
    regular_first: bool,
) -> list[Period]:
    """The periods of an amortising schedule (not a bullet) over the due dates ``dues``:
    interest on the balance for each period, principal by ``method``, the last period
    taking what is left. ``rate`` is the annual rate as a fraction; ``step`` the months
    per period; ``regular_first`` whether the first period is a whole one."""
    periods = len(dues)
    instalment = annuity_payment(amount, rate * step / 12, periods)
    principal_each = money(amount / periods)

    schedule: list[Period] = []
    balance = amount
    previous = start
    for number, due in enumerate(dues, start=1):
        regular = step if (number > 1 or regular_first) else 0
        interest = money(
            balance * rate * year_fraction(previous, due, day_count, regular_months=regular)
        )
        last = number == periods
        if last:
            principal = balance
        elif method == "equal_instalment":
            principal = min(max(instalment - interest, Decimal(0)), balance)
        elif method == "equal_principal":
            principal = min(principal_each, balance)
        else:  # interest_only
            principal = Decimal(0)
        schedule.append(Period(number, previous, due, principal, interest))
        balance -= principal
        previous = due
    return schedule


def early_settlement(
    *, balance: Decimal, annual_rate_percent: Decimal, since: date, on: date, day_count: str
) -> Decimal:
    """Interest accrued on ``balance`` from the last due date ``since`` to ``on`` (actual
    days under the day count; 30/360 counts 30E days)."""
    if on <= since:
        return Decimal(0)
    fraction = year_fraction(since, on, day_count)
    return money(Decimal(balance) * Decimal(annual_rate_percent) / 100 * fraction)
