from datetime import date, timedelta
from decimal import Decimal

import pytest

from fincrm.testing.factories import FacilityFactory, StatementFactory, monthly_schedule

AS_OF = date(2026, 6, 30)


@pytest.fixture
def late_facility(book):
    """Manager A's firm: a facility whose instalments stopped being paid ``days`` ago."""

    def make(days_late: int):
        firm = book["a_company"]
        StatementFactory(customer=firm, period_end=date(2024, 12, 31))
        first_due = AS_OF - timedelta(days=days_late)
        assert first_due.day <= 28, "monthly_schedule keeps the day of the month"
        month_before = (first_due.replace(day=1) - timedelta(days=1)).replace(day=first_due.day)
        facility = FacilityFactory(customer=firm, start_date=month_before)
        monthly_schedule(
            facility, months=12, principal=Decimal("250000"), interest=Decimal("16000")
        )
        return facility

    return make
