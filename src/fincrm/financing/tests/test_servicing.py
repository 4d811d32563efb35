"""Servicing from the 360° page: a missed payment raises its alert at once; payments."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from fincrm.engagement.models import Notification
from fincrm.financing.models import Installment
from fincrm.risk.models import Alert
from fincrm.testing.factories import FacilityFactory, monthly_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def facility(book, clock):
    """Manager A's firm; two instalments are past due and unpaid (41 and 10 days, on the
    fixed day of ``clock``: below the 60 days at which an alert goes to the team lead)."""
    today = timezone.localdate()
    start = (today - timedelta(days=75)).replace(day=5)
    facility = FacilityFactory(customer=book["a_company"], start_date=start)
    monthly_schedule(facility, months=12, principal=Decimal("250000"), interest=Decimal("16000"))
    return facility


def _overdue(facility):
    return Installment.objects.filter(
        facility=facility, due_date__lt=timezone.localdate(), paid_off_on__isnull=True
    ).order_by("number")


def test_a_missed_payment_reported_in_the_ui_reaches_the_owners_inbox_before_the_reply(
    facility, book, users, login, django_capture_on_commit_callbacks
):
    missed = _overdue(facility).first()
    url = reverse("financing:installment_missed", args=[missed.pk])
    # Another manager cannot even see the instalment.
    assert login(users["manager_b"]).post(url).status_code == 404

    client = login(users["manager_a"])
    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 302

    missed.refresh_from_db()
    assert missed.missed_reported_by == users["manager_a"]
    facility.refresh_from_db()
    assert facility.days_past_due == (timezone.localdate() - missed.due_date).days
    assert facility.loan_class == "special_mention"
    alert = Alert.objects.get(customer=book["a_company"], signal="current_dpd")
    assert alert.assigned_to == users["manager_a"]
    assert Notification.objects.filter(recipient=users["manager_a"], customer=book["a_company"])
    inbox = client.get(reverse("risk:alerts")).content.decode()
    assert book["a_company"].name in inbox
    assert (
        book["a_company"].name
        not in login(users["manager_b"]).get(reverse("risk:alerts")).content.decode()
    )
    print(f"missed payment → alert in {elapsed * 1000:.0f} ms (test database)")

    # Reporting it twice, or an instalment not yet due, is refused with a message.
    client = login(users["manager_a"])  # the test client was manager B's a moment ago
    again = client.post(url, follow=True)
    assert [m.level_tag for m in again.context["messages"]] == ["error"]
    assert Alert.objects.filter(customer=book["a_company"], signal="current_dpd").count() == 1
    future = Installment.objects.filter(facility=facility, due_date__gt=timezone.localdate())
    response = client.post(
        reverse("financing:installment_missed", args=[future.first().pk]), follow=True
    )
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    future.first().refresh_from_db()
    assert future.first().missed_reported_at is None


def test_recording_a_payment_pays_the_oldest_instalments_and_clears_the_arrears(
    facility, users, login
):
    overdue = list(_overdue(facility))
    owed = sum(i.principal_due + i.interest_due for i in overdue)
    client = login(users["manager_a"])
    url = reverse("financing:payment_create", args=[facility.pk])
    bad = client.post(url, {"amount": "-5", "paid_on": "2026-01-01"}, follow=True)
    assert [m.level_tag for m in bad.context["messages"]] == ["error"]

    client.post(url, {"amount": str(owed), "paid_on": timezone.localdate().isoformat()})
    facility.refresh_from_db()
    assert facility.days_past_due == 0
    assert not _overdue(facility).exists()
    assert login(users["manager_b"]).post(url, {"amount": "1"}).status_code == 404
