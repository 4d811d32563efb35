"""A periodic review's decision takes effect once a second person approves it."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from fincrm.financing.booking import facility_book
from fincrm.financing.choices import Stage
from fincrm.financing.models import Application, Installment, ScheduleRevision
from fincrm.risk import services
from fincrm.risk.models import Review
from fincrm.testing.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def facility(book):
    product = ProductFactory(code="WC09", min_amount=Decimal(100_000))
    application = Application.objects.create(
        customer=book["a_company"],
        product=product,
        amount=Decimal(1_200_000),
        tenor_months=12,
        rate=Decimal(6),
        repayment_method="equal_principal",
        stage=Stage.CONTRACT,
    )
    return facility_book(application=application, on=date(2026, 1, 10))


def _review(book):
    """The client's scheduled review (completing one schedules the next)."""
    review, _created = Review.objects.get_or_create(
        customer=book["a_company"],
        status="scheduled",
        defaults={"due_on": date(2026, 3, 1), "frequency": "quarterly", "grade": "BB"},
    )
    return review


def test_a_repricing_and_limit_change_wait_for_a_second_person(facility, book, users):
    review = _review(book)
    with pytest.raises(ValidationError):  # a limit below what is drawn
        services.review_complete(
            review=review,
            user=users["risk"],
            decision="tighten",
            facility=facility,
            new_limit=Decimal(1),
        )
    services.review_complete(
        review=review,
        user=users["risk"],
        decision="tighten",
        facility=facility,
        new_limit=Decimal(1_200_000),
        new_rate=Decimal("7.2"),
    )
    review.refresh_from_db()
    assert review.effect_status == "pending"
    facility.refresh_from_db()
    assert facility.rate == Decimal("6.000")  # nothing changes before the approval
    with pytest.raises(PermissionDenied):  # maker–checker
        services.review_effect_decide(review=review, user=users["risk"], approve=True)
    services.review_effect_decide(
        review=review, user=users["exec"], approve=True, on=date(2026, 3, 15)
    )
    facility.refresh_from_db()
    assert facility.rate == Decimal("7.200")
    april = Installment.objects.get(facility=facility, due_date=date(2026, 4, 10))
    # 1,200,000 − 2 × 100,000 paid by the schedule = 1,000,000 … at 7.2 %: 6,000 interest.
    assert april.interest_due == Decimal("6000.00")
    assert ScheduleRevision.objects.filter(facility=facility).count() == 1
    assert facility.history.count() >= 2  # audited


def test_freeze_call_in_and_decline(facility, book, users, login):
    second = UserFactory(username="risk2", role="risk", team=users["risk"].team)
    frozen = _review(book)
    services.review_complete(
        review=frozen, user=users["risk"], decision="freeze", facility=facility
    )
    client = login(second)
    client.post(reverse("risk:review_effect", args=[frozen.pk]), {"approve": "1"})
    facility.refresh_from_db()
    assert facility.frozen

    declined = _review(book)
    services.review_complete(
        review=declined,
        user=users["risk"],
        decision="add_guarantee",
        facility=facility,
        new_guarantee="mortgage",
    )
    client.post(reverse("risk:review_effect", args=[declined.pk]), {"approve": "0"})
    facility.refresh_from_db()
    assert facility.guarantee_type == "credit"  # declined: nothing changed
    assert (
        login(users["manager_a"])
        .post(reverse("risk:review_effect", args=[declined.pk]), {"approve": "1"})
        .status_code
        == 403
    )

    called = _review(book)
    services.review_complete(
        review=called, user=users["risk"], decision="call_in", facility=facility
    )
    services.review_effect_decide(review=called, user=second, approve=True, on=date(2026, 2, 25))
    rows = list(Installment.objects.filter(facility=facility).order_by("number"))
    assert len(rows) == 2 and rows[-1].due_date == date(2026, 2, 25)
    assert rows[-1].principal_due == Decimal("1100000.00")
    # 15 days (30E) of interest at 6 % on 1,100,000 since the 10 February instalment.
    assert rows[-1].interest_due == Decimal("2750.00")
