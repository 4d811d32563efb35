"""Tests for ``fincrm.analytics.sla``: China business days, business hours and SLA states."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fincrm.analytics import sla

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def add(start: datetime, hours: float, **kwargs) -> datetime:
    return sla.add_business_hours(start, hours, business_days=True, **kwargs)


# --------------------------------------------------------------------------------------------
# business days
# --------------------------------------------------------------------------------------------


def test_weekends_are_off_and_weekdays_work():
    assert sla.is_business_day(date(2026, 3, 6))  # Friday
    assert not sla.is_business_day(date(2026, 3, 7))  # Saturday
    assert not sla.is_business_day(date(2026, 3, 8))  # Sunday
    assert sla.is_business_day(datetime(2026, 3, 9, 23, 0))  # a datetime counts as its day


def test_spring_festival_2026_follows_the_library():
    cn = holidays.CN(years=2026)
    # What the package says: 15–23 February off, the Saturdays 14 and 28 February worked.
    off = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]
    assert not any(cn.is_working_day(d) for d in off)
    assert {date(2026, 2, 14), date(2026, 2, 28)} <= cn.weekend_workdays
    assert cn.is_working_day(date(2026, 2, 24))
    # ... and the SLA clock agrees.
    assert not any(sla.is_business_day(d) for d in off)
    assert sla.is_business_day(date(2026, 2, 14))  # Saturday, make-up working day
    assert sla.is_business_day(date(2026, 2, 28))  # Saturday, make-up working day
    assert not sla.is_business_day(date(2026, 2, 21))  # an ordinary Saturday inside the break
    assert not sla.is_business_day(date(2026, 2, 23))  # Monday, day off moved from 28 February


def test_a_make_up_weekend_announced_with_the_next_years_holidays_is_a_workday():
    # The 2002 notice moved New Year days off onto 29–30 December 2001 (Saturday, Sunday).
    fresh = holidays.CN()
    assert sla.is_business_day(date(2001, 12, 29), calendar=fresh)
    assert sla.is_business_day(date(2001, 12, 30), calendar=fresh)
    assert date(2001, 12, 29) in holidays.CN(years=2002).weekend_workdays


# --------------------------------------------------------------------------------------------
# add_business_hours / business_hours_between
# --------------------------------------------------------------------------------------------


def test_friday_evening_request_is_due_monday_morning():
    assert add(at(2026, 3, 6, 17, 30), 2) == at(2026, 3, 9, 10, 30)


def test_hours_outside_the_working_day_start_at_the_next_opening():
    assert add(at(2026, 3, 7, 11, 0), 1) == at(2026, 3, 9, 10, 0)  # Saturday
    assert add(at(2026, 3, 9, 7, 0), 1) == at(2026, 3, 9, 10, 0)  # before opening
    assert add(at(2026, 3, 9, 19, 0), 1) == at(2026, 3, 10, 10, 0)  # after closing


def test_work_ending_at_closing_time_is_due_at_closing_time():
    assert add(at(2026, 3, 9, 9, 0), 9) == at(2026, 3, 9, 18, 0)
    assert add(at(2026, 3, 9, 9, 0), 9.5) == at(2026, 3, 10, 9, 30)
    assert add(at(2026, 3, 7, 12, 0), 0) == at(2026, 3, 7, 12, 0)  # zero hours: no change


def test_several_days_skip_the_weekend():
    # Thursday 16:00 + 20 h: Thu 2 h, Fri 9 h, Mon 9 h -> Monday 18:00.
    assert add(at(2026, 3, 5, 16, 0), 20) == at(2026, 3, 9, 18, 0)
    assert add(at(2026, 3, 5, 16, 0), 20.25) == at(2026, 3, 10, 9, 15)


def test_spring_festival_2026_due_dates():
    # Friday 13 Feb 17:00 + 4 h: 1 h on Friday, 3 h on the make-up Saturday 14 Feb.
    assert add(at(2026, 2, 13, 17, 0), 4) == at(2026, 2, 14, 12, 0)
    # Saturday 14 Feb 17:00 + 2 h: 1 h that day, then nothing until Tuesday 24 Feb.
    assert add(at(2026, 2, 14, 17, 0), 2) == at(2026, 2, 24, 10, 0)
    # Friday 27 Feb 17:00 + 2 h: the make-up Saturday 28 Feb counts.
    assert add(at(2026, 2, 27, 17, 0), 2) == at(2026, 2, 28, 10, 0)


def test_business_hours_between_counts_only_working_time():
    between = sla.business_hours_between
    # 13 Feb (Fri) 09:00 -> 2 Mar (Mon) 09:00: Fri 13, Sat 14, Tue 24, Wed 25, Thu 26, Fri 27,
    # Sat 28 are working days: 7 x 9 h.
    assert between(at(2026, 2, 13, 9), at(2026, 3, 2, 9), business_days=True) == 63
    assert between(at(2026, 3, 6, 17, 30), at(2026, 3, 9, 10, 30), business_days=True) == 2
    assert between(at(2026, 3, 9, 10, 30), at(2026, 3, 6, 17, 30), business_days=True) == -2
    assert between(at(2026, 3, 7, 10), at(2026, 3, 8, 10), business_days=True) == 0
    assert between(at(2026, 3, 7, 10), at(2026, 3, 8, 10), business_days=False) == 24


def test_wall_clock_mode_counts_every_hour():
    assert sla.add_business_hours(at(2026, 3, 6, 17, 30), 2, business_days=False) == at(
        2026, 3, 6, 19, 30
    )
    assert sla.add_business_hours(at(2026, 2, 14, 17, 0), 36.5, business_days=False) == at(
        2026, 2, 16, 5, 30
    )


def test_the_result_keeps_the_input_time_zone_and_business_hours_are_in_china():
    start = datetime(2026, 3, 6, 9, 30, tzinfo=UTC)  # 17:30 in Shanghai
    due = add(start, 2)
    assert due.tzinfo is UTC
    assert due == datetime(2026, 3, 9, 2, 30, tzinfo=UTC)  # Monday 10:30 in Shanghai


def test_custom_working_day():
    due = add(at(2026, 3, 6, 16, 0), 2, workday_start=time(8, 30), workday_end=time(17))
    assert due == at(2026, 3, 9, 9, 30)


def test_inputs_are_validated():
    with pytest.raises(ValueError, match=re.escape(sla.NAIVE_DATETIME)):
        add(datetime(2026, 3, 6, 9), 1)
    with pytest.raises(ValueError, match=re.escape(sla.NAIVE_DATETIME)):
        sla.business_hours_between(at(2026, 3, 6), datetime(2026, 3, 7), business_days=True)
    for hours in (-1, float("nan"), float("inf"), "2"):
        with pytest.raises(ValueError, match=re.escape(sla.BAD_HOURS)):
            add(at(2026, 3, 6, 9), hours)
    with pytest.raises(ValueError, match=re.escape(sla.BAD_WORKDAY)):
        add(at(2026, 3, 6, 9), 1, workday_start=time(18), workday_end=time(9))


class NeverOpen(holidays.HolidayBase):
    weekend = {0, 1, 2, 3, 4, 5, 6}


def test_a_calendar_without_business_days_fails_loudly():
    with pytest.raises(ValueError, match=re.escape(sla.NO_BUSINESS_DAY)):
        add(at(2026, 3, 6, 9), 1, calendar=NeverOpen())


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2026, 12, 31)),
    minutes=st.integers(min_value=0, max_value=60 * 200),
)
def test_business_hours_between_inverts_add_business_hours(start, minutes):
    start = start.replace(tzinfo=SH)
    hours = minutes / 60
    due = add(start, hours)
    assert due >= start
    assert sla.business_hours_between(start, due, business_days=True) == pytest.approx(hours)
    if hours:
        # The earliest such moment: one minute earlier is not enough.
        earlier = sla.business_hours_between(start, due - timedelta(minutes=1), business_days=True)
        assert earlier < hours


# --------------------------------------------------------------------------------------------
# sla_state
# --------------------------------------------------------------------------------------------

OPENED = at(2026, 3, 9, 9, 0)
RESPOND_BY = at(2026, 3, 9, 19, 0)  # 10 h window
RESOLVE_BY = at(2026, 3, 13, 9, 0)  # 96 h window


def state(now, responded_at=None, resolved_at=None, **kwargs):
    return sla.sla_state(OPENED, now, RESPOND_BY, RESOLVE_BY, responded_at, resolved_at, **kwargs)


def test_open_ticket_waiting_for_a_response():
    assert state(at(2026, 3, 9, 10, 0)) == "on_track"
    assert state(at(2026, 3, 9, 17, 0)) == "on_track"  # exactly 20 % (2 h of 10) left
    assert state(at(2026, 3, 9, 17, 1)) == "at_risk"
    assert state(RESPOND_BY) == "at_risk"  # the deadline itself is still in time
    assert state(at(2026, 3, 9, 19, 1)) == "breached"


def test_after_the_response_the_resolution_clock_counts():
    responded = at(2026, 3, 9, 11, 0)
    assert state(at(2026, 3, 10, 9, 0), responded) == "on_track"
    assert state(at(2026, 3, 12, 13, 0), responded) == "on_track"  # 20 h of 96 left
    assert state(at(2026, 3, 12, 14, 0), responded) == "at_risk"  # 19 h of 96 left
    assert state(at(2026, 3, 13, 9, 1), responded) == "breached"


def test_a_late_response_breaches_even_when_resolution_is_on_time():
    late = at(2026, 3, 9, 20, 0)
    assert state(at(2026, 3, 10, 9, 0), late) == "breached"
    assert state(at(2026, 3, 11, 9, 0), late, at(2026, 3, 10, 9, 0)) == "breached"


def test_resolved_tickets_are_met_or_breached():
    assert state(at(2026, 3, 20), at(2026, 3, 9, 10), at(2026, 3, 12, 9)) == "met"
    assert state(at(2026, 3, 20), at(2026, 3, 9, 10), at(2026, 3, 13, 10)) == "breached"
    # resolving counts as responding
    assert state(at(2026, 3, 20), None, at(2026, 3, 9, 18)) == "met"
    assert state(at(2026, 3, 20), None, at(2026, 3, 9, 20)) == "breached"


def test_missing_targets_and_a_custom_risk_share():
    assert sla.sla_state(OPENED, at(2026, 3, 30), None, None, None, None) == "on_track"
    assert sla.sla_state(OPENED, at(2026, 3, 9, 18), None, RESOLVE_BY, None, None) == "on_track"
    assert state(at(2026, 3, 9, 13, 0), at_risk_share=0.5) == "on_track"  # 6 h of 10 left
    assert state(at(2026, 3, 9, 15, 0), at_risk_share=0.5) == "at_risk"  # 4 h of 10 left
    with pytest.raises(ValueError, match=re.escape(sla.BAD_AT_RISK_SHARE)):
        state(at(2026, 3, 9, 10), at_risk_share=1.5)
    with pytest.raises(ValueError, match=re.escape(sla.NAIVE_DATETIME)):
        state(datetime(2026, 3, 9, 10))


def test_risk_in_business_hours():
    # Opened Friday 17:30 with 2 business hours to respond: due Monday 10:30.
    opened = at(2026, 3, 6, 17, 30)
    due = add(opened, 2)

    def st_(now):
        return sla.sla_state(opened, now, due, None, None, None, business_days=True)

    # Monday 09:55: 35 min of 120 business minutes left (29 %); in wall-clock terms only
    # 35 min of 65 h would be left.
    assert st_(at(2026, 3, 9, 9, 55)) == "on_track"
    assert sla.sla_state(opened, at(2026, 3, 9, 9, 55), due, None, None, None) == "at_risk"
    assert st_(at(2026, 3, 9, 10, 7)) == "at_risk"  # 23 of 120 minutes left
    assert st_(at(2026, 3, 9, 10, 31)) == "breached"
