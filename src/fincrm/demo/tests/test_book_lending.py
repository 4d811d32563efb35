"""The demo book is made through the lending rules: each facility has its application, its
approval votes within the demo policy's authority, its contract and the schedule the booking
service builds for those terms."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from fincrm.financing.choices import Stage
from fincrm.financing.models import Application, ApprovalVote, Facility
from fincrm.financing.schedule import build_schedule

pytestmark = pytest.mark.django_db


def test_every_generated_facility_is_what_the_lending_services_would_book():
    call_command(
        "demo-data",
        customers=120,
        seed=11,
        as_of=date(2026, 6, 30),
        stdout=StringIO(),
        stderr=StringIO(),
    )
    facilities = Facility.objects.select_related("application")
    assert facilities.count() > 30
    for facility in facilities:
        application = facility.application
        assert application.stage == Stage.DISBURSED
        assert application.amount == facility.approved_limit
        assert application.contract_number == facility.contract_number
        assert application.rate == facility.rate
        expected = build_schedule(
            amount=facility.approved_limit,
            annual_rate_percent=facility.rate,
            tenor_months=facility.tenor_months,
            start=facility.start_date,
            method=facility.repayment_method,
            frequency=facility.frequency,
            day_count=facility.day_count,
        )
        rows = facility.installments.order_by("number")
        assert [(r.due_date, r.principal_due, r.interest_due) for r in rows] == [
            (p.due_date, p.principal, p.interest) for p in expected
        ]
    decided = Application.objects.filter(
        stage__in=[Stage.APPROVED, Stage.CONTRACT, Stage.DISBURSED, Stage.REJECTED]
    )
    for application in decided:
        roles = set(application.votes.values_list("role", flat=True))
        assert "risk" in roles
        assert ("exec" in roles) == (
            application.stage != Stage.REJECTED and application.amount > 10_000_000
        )
    assert ApprovalVote.objects.filter(application__stage=Stage.LEAD).count() == 0
