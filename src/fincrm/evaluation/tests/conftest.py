from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fincrm.engagement.models import Interaction
from fincrm.financing.services import payment_record
from fincrm.testing.factories import FacilityFactory, StatementFactory, monthly_schedule

AS_OF = date(2026, 6, 30)
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def rich_book(book, users):
    """The shared book plus a repaying facility, statements and contacts for manager A's firm."""
    firm = book["a_company"]
    StatementFactory(customer=firm, period_end=date(2024, 12, 31), revenue=Decimal("40000000"))
    StatementFactory(customer=firm, period_end=date(2025, 12, 31), revenue=Decimal("50000000"))
    facility = FacilityFactory(
        customer=firm,
        approved_limit=Decimal("12000000"),
        drawn_amount=Decimal("12000000"),
        start_date=date(2025, 7, 15),
        tenor_months=12,
    )
    monthly_schedule(facility, months=12, principal=Decimal("1000000"), interest=Decimal("65000"))
    for month in range(8, 13):
        payment_record(facility=facility, amount=Decimal("1065000"), paid_on=date(2025, month, 15))
    for month in range(1, 6):
        payment_record(facility=facility, amount=Decimal("1065000"), paid_on=date(2026, month, 15))
    Interaction.objects.create(
        customer=firm,
        channel="visit",
        subject="季度回访",
        outcome="reached",
        occurred_at=datetime(2026, 6, 1, 10, tzinfo=TZ),
        created_by=users["manager_a"],
    )
    return {**book, "facility": facility}
