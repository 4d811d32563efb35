from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from fincrm.financing import services
from fincrm.financing.choices import DocumentStatus, Stage
from fincrm.financing.models import Application, Facility, Installment
from fincrm.testing.factories import FacilityFactory, ProductFactory, monthly_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(book, users):
    return services.application_create(
        customer=book["a_company"],
        product=ProductFactory(),
        amount=Decimal("2000000"),
        tenor_months=12,
        created_by=users["manager_a"],
    )


def test_a_new_application_is_a_lead_with_its_document_checklist(application):
    assert application.stage == Stage.LEAD
    assert sorted(d.kind for d in application.documents.all()) == [
        "business_licence",
        "financial_statements",
    ]
    assert [c.to_stage for c in application.stage_changes.all()] == [Stage.LEAD]


def test_stages_move_along_the_pipeline_with_history(application, users):
    for stage in (Stage.SUBMITTED, Stage.DOCUMENTS, Stage.DUE_DILIGENCE):
        services.application_move_stage(
            application=application, to_stage=stage, user=users["manager_a"]
        )
    history = list(application.stage_changes.values_list("from_stage", "to_stage"))
    assert history == [
        ("", "lead"),
        ("lead", "submitted"),
        ("submitted", "documents"),
        ("documents", "due_diligence"),
    ]
    times = list(application.stage_changes.values_list("changed_at", flat=True))
    assert times == sorted(times)


def test_a_stage_cannot_be_skipped(application):
    with pytest.raises(ValidationError) as exc:
        services.application_move_stage(application=application, to_stage=Stage.APPROVED)
    assert exc.value.code == "bad_transition"
    application.refresh_from_db()
    assert application.stage == Stage.LEAD


def test_credit_review_needs_every_document_accepted(application):
    for stage in (Stage.SUBMITTED, Stage.DOCUMENTS, Stage.DUE_DILIGENCE):
        services.application_move_stage(application=application, to_stage=stage)
    with pytest.raises(ValidationError) as exc:
        services.application_move_stage(application=application, to_stage=Stage.CREDIT_REVIEW)
    assert exc.value.code == "documents_missing"
    for document in application.documents.all():
        services.document_set_status(document=document, status=DocumentStatus.ACCEPTED)
    moved = services.application_move_stage(application=application, to_stage=Stage.CREDIT_REVIEW)
    assert moved.stage == Stage.CREDIT_REVIEW


def test_the_move_view_applies_permissions(application, users, login):
    url = reverse("financing:application_move", args=[application.pk])
    assert login(users["manager_b"]).post(url, {"to_stage": "submitted"}).status_code == 404
    assert login(users["risk"]).post(url, {"to_stage": "submitted"}).status_code == 404
    response = login(users["manager_a"]).post(url, {"to_stage": "submitted", "note": "客户已提交"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.stage == Stage.SUBMITTED
    assert application.stage_changes.last().changed_by == users["manager_a"]


def test_the_move_view_reports_a_refused_move(application, users, login):
    client = login(users["manager_a"])
    client.post(
        reverse("financing:application_move", args=[application.pk]), {"to_stage": "approved"}
    )
    assert Application.objects.get(pk=application.pk).stage == Stage.LEAD


def test_application_pages_are_restricted(application, users, login):
    url = reverse("financing:application", args=[application.pk])
    assert login(users["manager_b"]).get(url).status_code == 404
    assert login(users["lead"]).get(url).status_code == 200
    listing = login(users["manager_b"]).get(reverse("financing:applications"))
    assert list(listing.context["object_list"]) == []


@pytest.fixture
def facility(book):
    facility = FacilityFactory(customer=book["a_company"], start_date=date(2025, 1, 15))
    monthly_schedule(facility, months=12, principal=Decimal("250000"), interest=Decimal("16250"))
    return facility


def test_days_past_due_come_from_the_schedule(facility):
    assert facility.compute_days_past_due(date(2025, 2, 15)) == 0
    assert facility.compute_days_past_due(date(2025, 2, 16)) == 1
    assert (
        facility.compute_days_past_due(date(2025, 6, 15))
        == (date(2025, 6, 15) - date(2025, 2, 15)).days
    )
    assert facility.compute_loan_class(date(2025, 6, 15)) == "substandard"


def test_arrears_are_refreshed_in_bulk_as_days_pass(facility, book):
    paying = FacilityFactory(customer=book["a_company"], start_date=date(2025, 1, 15))
    monthly_schedule(paying, months=12, principal=Decimal("1000"), interest=Decimal("10"))
    Installment.objects.filter(facility=paying, number=1).update(
        amount_paid=Decimal("1010"), paid_off_on=date(2025, 2, 14)
    )
    Facility.objects.filter(pk=paying.pk).update(days_past_due=9)  # stale: it was paid
    other = FacilityFactory(start_date=date(2025, 1, 15))
    monthly_schedule(other, months=12, principal=Decimal("1000"), interest=Decimal("10"))

    def dpd():
        return dict(Facility.objects.values_list("pk", "days_past_due"))

    # Nothing due before the day yet: nothing changes.
    assert services.delinquency_refresh(as_of=date(2025, 2, 15)) == 1  # the stale 9 → 0
    assert dpd() == {facility.pk: 0, paying.pk: 0, other.pk: 0}
    # The next day the unpaid first instalments are a day late, the paid one is not.
    assert services.delinquency_refresh(as_of=date(2025, 2, 16)) == 2
    assert dpd() == {facility.pk: 1, paying.pk: 0, other.pk: 1}
    assert services.delinquency_refresh(as_of=date(2025, 2, 16)) == 0  # idempotent
    # Only the given clients; the same figure as the one-facility computation.
    assert (
        services.delinquency_refresh(as_of=date(2025, 4, 1), customer_ids=[book["a_company"].pk])
        == 2
    )
    assert dpd() == {
        facility.pk: facility.compute_days_past_due(date(2025, 4, 1)),
        paying.pk: paying.compute_days_past_due(date(2025, 4, 1)),
        other.pk: 1,
    }
    assert dpd()[facility.pk] == (date(2025, 4, 1) - date(2025, 2, 15)).days
    # A closed facility is left alone.
    Facility.objects.filter(pk=other.pk).update(status="closed")
    services.delinquency_refresh(as_of=date(2025, 4, 1))
    assert dpd()[other.pk] == 1


def test_a_payment_settles_the_oldest_installments_first_and_refreshes_arrears(facility):
    services.payment_record(facility=facility, amount=Decimal("400000"), paid_on=date(2025, 3, 20))
    first, second, third = Installment.objects.filter(facility=facility).order_by("number")[:3]
    assert first.amount_paid == Decimal("266250") and first.paid_off_on == date(2025, 3, 20)
    assert second.amount_paid == Decimal("133750") and second.paid_off_on is None
    assert third.amount_paid == 0
    facility.refresh_from_db()
    assert facility.days_past_due == facility.compute_days_past_due()
    assert facility.history.count() >= 2  # audited


def test_a_non_positive_payment_is_refused(facility):
    with pytest.raises(ValidationError):
        services.payment_record(facility=facility, amount=Decimal("0"), paid_on=date(2025, 3, 1))
    assert facility.payments.count() == 0


def test_a_run_of_very_many_clients_refreshes_the_arrears_of_the_whole_book(facility):
    """An incremental run can name more clients than SQLite binds in one statement: the
    arrears are then refreshed for the whole book (one scan) instead of a list."""
    from django.utils import timezone

    from fincrm.evaluation.services import _refresh_arrears

    today = timezone.localdate()
    _refresh_arrears(today, list(range(10**9, 10**9 + 40_000)))  # none of them is the client
    facility.refresh_from_db()
    assert facility.days_past_due == facility.compute_days_past_due(today) > 0
    # A short list is honoured as it is.
    Facility.objects.filter(pk=facility.pk).update(days_past_due=0)
    _refresh_arrears(today, [facility.customer_id + 1])
    assert Facility.objects.get(pk=facility.pk).days_past_due == 0
