"""Schedule arithmetic against hand-computed and published examples."""

from datetime import date
from decimal import Decimal

import pytest

from fincrm.financing.schedule import (
    ScheduleError,
    add_months,
    annuity_payment,
    build_schedule,
    year_fraction,
)

D = Decimal


def _principal(schedule) -> Decimal:
    return sum((p.principal for p in schedule), D(0))


def test_equal_instalments_match_the_published_mortgage_example():
    # The textbook Chinese example: 1,000,000 CNY over 30 years at 4.9 %, 等额本息 5,307.27 a
    # month; the first month's interest is 1,000,000 × 4.9 % / 12 = 4,083.33.
    schedule = build_schedule(
        amount=D(1_000_000), annual_rate_percent=D("4.9"), tenor_months=360, start=date(2024, 3, 15)
    )
    assert annuity_payment(D(1_000_000), D("0.049") / 12, 360) == D("5307.27")
    assert schedule[0].interest == D("4083.33") and schedule[0].amount == D("5307.27")
    assert {p.amount for p in schedule[:-1]} == {D("5307.27")}
    assert _principal(schedule) == D("1000000.00")
    assert len(schedule) == 360 and schedule[-1].due_date == date(2054, 3, 15)


def test_equal_principal_falls_by_the_interest_on_one_share():
    # 等额本金 on the same loan: 2,777.78 principal + 4,083.33 interest = 6,861.11 first,
    # then 11.34 less each month (2,777.78 × 4.9 % / 12).
    schedule = build_schedule(
        amount=D(1_000_000),
        annual_rate_percent=D("4.9"),
        tenor_months=360,
        start=date(2024, 3, 15),
        method="equal_principal",
    )
    assert schedule[0].amount == D("6861.11")
    assert schedule[0].amount - schedule[1].amount == D("11.34")
    assert _principal(schedule) == D("1000000.00")


def test_a_small_loan_by_hand():
    # 100,000 at 6 % for 12 months: r = 0.5 %, payment 8,606.64; the last instalment clears
    # the cents the rounding left (8,606.69).
    schedule = build_schedule(
        amount=D(100_000), annual_rate_percent=D(6), tenor_months=12, start=date(2026, 1, 10)
    )
    assert [p.amount for p in schedule[:3]] == [D("8606.64")] * 3
    assert schedule[0].interest == D("500.00") and schedule[0].principal == D("8106.64")
    assert schedule[-1].amount == D("8606.69")
    assert _principal(schedule) == D("100000.00")


def test_interest_only_and_bullet():
    io = build_schedule(
        amount=D(1_200_000),
        annual_rate_percent=D(6),
        tenor_months=6,
        start=date(2026, 1, 10),
        method="interest_only",
    )
    assert [p.principal for p in io] == [D(0)] * 5 + [D(1_200_000)]
    assert {p.interest for p in io} == {D("6000.00")}
    bullet = build_schedule(
        amount=D(1_200_000),
        annual_rate_percent=D(6),
        tenor_months=6,
        start=date(2026, 1, 10),
        method="bullet",
    )
    assert len(bullet) == 1 and bullet[0].due_date == date(2026, 7, 10)
    assert bullet[0].principal == D(1_200_000) and bullet[0].interest == D("36000.00")


def test_quarterly_periods():
    schedule = build_schedule(
        amount=D(400_000),
        annual_rate_percent=D(8),
        tenor_months=12,
        start=date(2026, 2, 1),
        frequency="quarterly",
        method="equal_principal",
    )
    assert [p.due_date for p in schedule] == [
        date(2026, 5, 1),
        date(2026, 8, 1),
        date(2026, 11, 1),
        date(2027, 2, 1),
    ]
    assert schedule[0].interest == D("8000.00")  # 400,000 × 8 % × 3/12
    with pytest.raises(ScheduleError, match="quarterly"):
        build_schedule(
            amount=D(1000),
            annual_rate_percent=D(8),
            tenor_months=10,
            start=date(2026, 2, 1),
            frequency="quarterly",
        )


def test_due_day_31_moves_to_the_months_last_day_in_a_leap_year():
    schedule = build_schedule(
        amount=D(120_000),
        annual_rate_percent=D(6),
        tenor_months=4,
        start=date(2024, 1, 31),
        method="equal_principal",
    )
    assert [p.due_date for p in schedule] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    # Regular periods under 30/360 are whole months, whatever the days.
    assert {p.interest for p in schedule[:1]} == {D("600.00")}
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)


def test_actual_day_counts_and_a_long_first_period():
    # Lent on 10 January 2024 (leap year), first due 20 February: 41 days under ACT/365.
    schedule = build_schedule(
        amount=D(365_000),
        annual_rate_percent=D(10),
        tenor_months=3,
        start=date(2024, 1, 10),
        method="equal_principal",
        day_count="act/365",
        first_due=date(2024, 2, 20),
    )
    assert [p.due_date for p in schedule] == [
        date(2024, 2, 20),
        date(2024, 3, 20),
        date(2024, 4, 20),
    ]
    assert schedule[0].interest == D("4100.00")  # 365,000 × 10 % × 41/365
    assert schedule[1].interest == D("1933.33")  # 243,333.33 × 10 % × 29/365 (February 2024)
    assert year_fraction(date(2024, 1, 10), date(2024, 2, 20), "act/360") == D(41) / 360
    # 30/360 prorates a short first period by 30E days: 10 Jan → 25 Jan is 15 days.
    short = build_schedule(
        amount=D(360_000),
        annual_rate_percent=D(12),
        tenor_months=2,
        start=date(2026, 1, 10),
        method="interest_only",
        first_due=date(2026, 1, 25),
    )
    assert short[0].interest == D("1800.00") and short[1].interest == D("3600.00")


@pytest.mark.parametrize("method", ["equal_instalment", "equal_principal", "interest_only"])
@pytest.mark.parametrize("amount", ["1000000.01", "333333.33", "7.77"])
def test_principal_always_sums_to_the_amount_to_the_cent(method, amount):
    schedule = build_schedule(
        amount=D(amount),
        annual_rate_percent=D("7.35"),
        tenor_months=7,
        start=date(2026, 5, 31),
        method=method,
    )
    assert _principal(schedule) == D(amount)
    assert all(p.principal >= 0 and p.interest >= 0 for p in schedule)


def test_bad_terms_are_refused_by_name():
    with pytest.raises(ScheduleError, match="amount"):
        build_schedule(
            amount=D("0.001"), annual_rate_percent=D(5), tenor_months=12, start=date(2026, 1, 1)
        )
    with pytest.raises(ScheduleError, match="method"):
        build_schedule(
            amount=D(100),
            annual_rate_percent=D(5),
            tenor_months=12,
            start=date(2026, 1, 1),
            method="balloon",
        )
