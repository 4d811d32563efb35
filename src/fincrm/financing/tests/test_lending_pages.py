"""The lending pages through the Django test client: open, upload, review, decide, contract,
disburse, pay; the collections queue; who is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fincrm.financing.choices import Stage
from fincrm.financing.models import Application, CollectionAction, Facility, Payment
from fincrm.financing.tests.test_lending import PDF, graded
from fincrm.testing.factories import ProductFactory, StatementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm(book):
    firm = graded(book["a_company"], "A")
    StatementFactory(customer=firm, revenue=Decimal(80_000_000))
    return firm


@pytest.fixture
def product(db):
    return ProductFactory(code="WC01", min_amount=Decimal(100_000), upfront_fee_percent=1)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_an_application_from_the_360_page_to_its_first_payment(firm, product, users, login, clock):
    manager = login(users["manager_a"])
    page = manager.get(firm.get_absolute_url()).content.decode()
    assert reverse("financing:application_new") + f"?customer={firm.pk}" in page
    form = manager.get(reverse("financing:application_new"), {"customer": firm.pk})
    assert form.status_code == 200
    # Outside the product's bounds: refused at once, by field, nothing written.
    bad = manager.post(
        reverse("financing:application_new"),
        {
            "customer": firm.pk,
            "product": product.pk,
            "amount": "50000",
            "tenor_months": 12,
            "repayment_method": "equal_instalment",
            "frequency": "monthly",
        },
    )
    assert bad.status_code == 200 and not Application.objects.exists()
    assert "100,000" in bad.content.decode()
    too_long = manager.post(
        reverse("financing:application_new"),
        {
            "customer": firm.pk,
            "product": product.pk,
            "amount": "600000",
            "tenor_months": 48,
            "repayment_method": "equal_principal",
            "frequency": "monthly",
        },
    )
    assert too_long.status_code == 200 and not Application.objects.exists()
    created = manager.post(
        reverse("financing:application_new"),
        {
            "customer": firm.pk,
            "product": product.pk,
            "amount": "600000",
            "tenor_months": 24,
            "repayment_method": "equal_principal",
            "frequency": "monthly",
            "purpose": "扩产",
        },
        follow=True,
    )
    application = Application.objects.get()
    assert created.redirect_chain[-1][0] == application.get_absolute_url()
    assert application.created_by == users["manager_a"] and application.purpose == "扩产"
    assert 'id="control-warnings"' not in created.content.decode()  # A's controls are met
    # A rate below grade A's floor (3.0 % + 150 bp) is allowed at entry, shown as a warning.
    manager.post(
        reverse("financing:application_terms", args=[application.pk]),
        {
            "rate": "4.0",
            "repayment_method": "equal_principal",
            "frequency": "monthly",
            "guarantee_type": "guarantee",
            "margin_percent": "0",
            "collateral_value": "0",
        },
    )
    detail = manager.get(application.get_absolute_url()).content.decode()
    assert 'id="control-warnings"' in detail and "4.5" in detail


def test_the_full_path_in_the_pages(firm, product, users, login, clock):
    manager = login(users["manager_a"])
    manager.post(
        reverse("financing:application_new"),
        {
            "customer": firm.pk,
            "product": product.pk,
            "amount": "600000",
            "tenor_months": 12,
            "repayment_method": "equal_principal",
            "frequency": "monthly",
        },
    )
    application = Application.objects.get()
    for document in application.documents.all():
        upload = SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")
        response = manager.post(
            reverse("financing:document_upload", args=[document.pk]), {"file": upload}
        )
        assert response.status_code == 302
    first = application.documents.first()
    # A manager does not review documents; an agent cannot even see the client's page.
    assert (
        login(users["manager_a"])
        .post(reverse("financing:document_accept", args=[first.pk]))
        .status_code
        == 403
    )
    risk = login(users["risk"])
    rejected = risk.post(
        reverse("financing:document_reject", args=[first.pk]),
        {"reason": "扫描件不清晰"},
        follow=True,
    )
    assert "扫描件不清晰" in rejected.content.decode()
    manager = login(users["manager_a"])
    manager.post(
        reverse("financing:document_upload", args=[first.pk]),
        {"file": SimpleUploadedFile("scan.pdf", PDF)},
    )
    risk = login(users["risk"])
    for document in application.documents.all():
        risk.post(reverse("financing:document_accept", args=[document.pk]))
    manager = login(users["manager_a"])
    for stage in ("submitted", "documents", "due_diligence", "credit_review"):
        manager.post(
            reverse("financing:application_move", args=[application.pk]), {"to_stage": stage}
        )
    application.refresh_from_db()
    assert application.stage == Stage.CREDIT_REVIEW
    # The manager has no authority: the page says which rule, the decision is refused.
    page = manager.get(application.get_absolute_url()).content.decode()
    assert 'id="no-authority"' in page and 'id="decision-form"' not in page
    refused = manager.post(
        reverse("financing:application_decide", args=[application.pk]),
        {"vote": "approve"},
        follow=True,
    )
    assert any(m for m in _messages(refused))
    application.refresh_from_db()
    assert application.stage == Stage.CREDIT_REVIEW

    lead = login(users["lead"])
    assert 'id="decision-form"' in lead.get(application.get_absolute_url()).content.decode()
    lead.post(
        reverse("financing:application_decide", args=[application.pk]),
        {"vote": "approve", "note": "同意"},
    )
    application.refresh_from_db()
    assert application.stage == Stage.APPROVED

    manager = login(users["manager_a"])
    manager.post(
        reverse("financing:application_move", args=[application.pk]), {"to_stage": "contract"}
    )
    manager.post(
        reverse("financing:application_terms", args=[application.pk]),
        {
            "rate": application.rate,
            "repayment_method": "equal_principal",
            "frequency": "monthly",
            "guarantee_type": application.guarantee_type,
            "margin_percent": application.margin_percent,
            "collateral_value": "0",
            "guarantor": "苏州担保有限公司",
            "signed_on": "2026-06-15",
            "first_due_date": "2026-07-20",
        },
    )
    application.refresh_from_db()
    assert application.guarantor == "苏州担保有限公司" and application.contract_number
    manager.post(
        reverse("financing:application_move", args=[application.pk]), {"to_stage": "disbursed"}
    )
    facility = Facility.objects.get(application=application)
    schedule = list(facility.installments.order_by("number"))
    assert schedule[0].due_date.isoformat() == "2026-07-20"  # a long first period
    assert sum(i.principal_due for i in schedule) == Decimal("600000.00")
    page = manager.get(firm.get_absolute_url()).content.decode()
    assert facility.contract_number in page

    first_amount = schedule[0].total_outstanding
    manager.post(
        reverse("financing:payment_create", args=[facility.pk]),
        {"amount": str(first_amount), "paid_on": "2026-06-15", "overpayment": "hold"},
    )
    schedule[0].refresh_from_db()
    assert schedule[0].paid_off_on is not None
    payment = Payment.objects.get(facility=facility)
    # A wrong payment is reversed by a counter-entry from the page.
    manager.post(reverse("financing:payment_reverse", args=[payment.pk]), {"reason": "串户"})
    assert Payment.objects.filter(facility=facility).count() == 2
    assert (
        login(users["manager_b"])
        .post(reverse("financing:payment_reverse", args=[payment.pk]), {"reason": "x"})
        .status_code
        == 404
    )


def test_the_collections_queue(firm, product, users, login):
    from datetime import date

    from fincrm.financing.booking import facility_book
    from fincrm.financing.collections import collections_run

    application = Application.objects.create(
        customer=firm,
        product=product,
        amount=Decimal(600_000),
        tenor_months=12,
        stage=Stage.CONTRACT,
    )
    facility_book(application=application, on=date(2026, 1, 5))
    collections_run(as_of=date(2026, 2, 10))
    action = CollectionAction.objects.get()
    manager = login(users["manager_a"])
    queue = manager.get(reverse("financing:collections"), {"mine": 1}).content.decode()
    assert f'id="collection-{action.pk}"' in queue
    other = login(users["manager_b"]).get(reverse("financing:collections")).content.decode()
    assert f'id="collection-{action.pk}"' not in other
    assert (
        login(users["manager_b"])
        .post(reverse("financing:collection_outcome", args=[action.pk]), {"outcome": "contacted"})
        .status_code
        == 404
    )
    manager = login(users["manager_a"])
    manager.post(
        reverse("financing:collection_outcome", args=[action.pk]),
        {"outcome": "contacted", "note": "客户称下周还款", "next": "https://evil.example/"},
    )
    action.refresh_from_db()
    assert action.status == "done" and action.completed_by == users["manager_a"]
    assert action.step == "call" and firm.interactions.filter(channel="phone").exists()
