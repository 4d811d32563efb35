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
        start = AS_OF - timedelta(days=days_late + 40)
        facility = FacilityFactory(customer=firm, start_date=start.replace(day=1))
        monthly_schedule(
            facility, months=12, principal=Decimal("250000"), interest=Decimal("16000")
        )
        return facility

    return make
