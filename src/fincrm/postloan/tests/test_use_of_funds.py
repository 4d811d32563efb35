"""Evidence of the use of funds: the checklist at disbursement, the payee check, reviews, the
deadline and mismatch alerts through the early-warning rules, the pages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from fincrm.evaluation.choices import RunKind
from fincrm.evaluation.services import evaluation_run
from fincrm.financing import services as lending
from fincrm.financing.choices import Stage
from fincrm.postloan import services
from fincrm.postloan.choices import EvidenceStatus
from fincrm.postloan.models import EvidenceItem
from fincrm.risk.models import Alert
from fincrm.testing.factories import (
    ApplicationFactory,
    ContactFactory,
    FacilityFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
AS_OF = date(2026, 6, 30)


def pdf(name="invoice.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def facility(book):
    """Manager A's firm, 1,000,000 drawn on 2026-03-01: evidence due 2026-05-30."""
    firm = book["a_company"]
    ContactFactory(customer=firm, name="王建国")
    f = FacilityFactory(
        customer=firm, start_date=date(2026, 3, 1), approved_limit=Decimal(1_000_000),
        drawn_amount=Decimal(1_000_000),
    )  # fmt: skip
    services.evidence_checklist_create(facility=f)
    return f


def test_disbursement_creates_the_checklist_from_the_policy(users, book, clock):
    product = ProductFactory(required_documents=[], product_type="equipment_leasing")
    application = ApplicationFactory(
        customer=book["a_company"], product=product, stage=Stage.CONTRACT, rate=Decimal("6.0")
    )
    lending.application_move_stage(
        application=application, to_stage=Stage.DISBURSED, user=users["manager_a"]
    )
    items = EvidenceItem.objects.filter(facility__application=application)
    # Equipment leasing asks for invoices and the supplier's contract, 90 days after the start.
    assert sorted(items.values_list("kind", flat=True)) == ["invoice", "payee_contract"]
    assert {i.due_on for i in items} == {date(2026, 6, 15) + timedelta(days=90)}
    assert {i.status for i in items} == {EvidenceStatus.MISSING}
    # Idempotent: asked again, nothing is added; the creation is in the history.
    assert services.evidence_checklist_create(facility=items[0].facility) == 0
    assert items[0].history.count() == 1


def test_the_daily_job_opens_checklists_for_facilities_booked_elsewhere(book):
    recent = FacilityFactory(customer=book["a_company"], start_date=AS_OF - timedelta(days=10))
    old = FacilityFactory(customer=book["a_company"], start_date=AS_OF - timedelta(days=200))
    assert services.evidence_checklists_open(as_of=AS_OF) == 3  # working capital: three kinds
    assert services.evidence_checklists_open(as_of=AS_OF) == 0
    assert recent.evidence_items.count() == 3
    assert not old.evidence_items.exists()  # its deadline passed before there was a checklist


def test_a_payee_that_does_not_fit_is_flagged_at_upload(facility, users):
    invoice, contract, statement = facility.evidence_items.order_by("kind")
    fits = services.evidence_upload(
        item=invoice, upload=pdf(), payee="上海宝钢钢材贸易有限公司",
        amount=Decimal(800_000), user=users["manager_a"],
    )  # fmt: skip
    assert (fits.status, fits.flags) == (EvidenceStatus.RECEIVED, [])
    own = services.evidence_upload(
        item=contract, upload=pdf("c.pdf"), payee="苏州恒瑞精密机械有限公司", amount=None,
        user=users["manager_a"],
    )  # fmt: skip
    assert own.flags == ["payee_is_borrower"]
    related = services.evidence_upload(
        item=statement, upload=pdf("s.pdf"), payee="王建国", amount=Decimal(1_200_000),
        user=users["manager_a"],
    )  # fmt: skip
    assert related.flags == ["payee_is_related", "amount_over_disbursed"]


def test_bad_input_is_refused_and_changes_nothing(facility, users):
    item = facility.evidence_items.first()
    with pytest.raises(ValidationError) as no_payee:
        services.evidence_upload(item=item, upload=pdf(), payee=" ", amount=None)
    assert "payee" in no_payee.value.message_dict
    fake = SimpleUploadedFile("invoice.pdf", b"not a pdf")
    with pytest.raises(ValidationError):
        services.evidence_upload(item=item, upload=fake, payee="上海宝钢", amount=None)
    item.refresh_from_db()
    assert (item.status, item.payee, bool(item.file)) == (EvidenceStatus.MISSING, "", False)
    with pytest.raises(ValidationError):  # nothing provided: nothing to accept
        services.evidence_decide(item=item, user=users["risk"], accept=True)


def test_a_reviewer_rejects_with_a_reason_and_accepts(facility, users):
    item = facility.evidence_items.first()
    services.evidence_upload(item=item, upload=pdf(), payee="上海宝钢", amount=Decimal(10))
    with pytest.raises(ValidationError):
        services.evidence_decide(item=item, user=users["risk"], accept=False, reason="")
    rejected = services.evidence_decide(
        item=item, user=users["risk"], accept=False, reason="发票抬头不符"
    )
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "发票抬头不符")
    services.evidence_upload(item=item, upload=pdf(), payee="上海宝钢", amount=Decimal(10))
    accepted = services.evidence_decide(item=item, user=users["risk"], accept=True)
    assert (accepted.status, accepted.decided_by) == ("accepted", users["risk"])
    statuses = list(item.history.order_by("history_date").values_list("status", flat=True))
    assert statuses == ["missing", "received", "rejected", "received", "accepted"]


def test_evidence_missing_after_its_deadline_raises_an_alert_for_the_owner(facility, users):
    invoice = facility.evidence_items.get(kind="invoice")
    services.evidence_upload(item=invoice, upload=pdf(), payee="上海宝钢", amount=Decimal(10))
    evaluation_run(kind=RunKind.FULL, as_of=date(2026, 5, 30))  # the deadline itself: no alert
    assert not Alert.objects.filter(signal="funds_evidence_overdue").exists()

    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    alert = Alert.objects.get(signal="funds_evidence_overdue")
    # Two items still missing (the invoice was provided in time and waits for review).
    assert (alert.customer, alert.value, alert.severity) == (facility.customer, 2.0, "medium")
    assert alert.assigned_to == users["manager_a"]  # medium: the owner, as the policy routes
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    assert Alert.objects.filter(signal="funds_evidence_overdue").count() == 1


def test_a_payee_mismatch_raises_a_high_alert_routed_to_the_team_lead(facility, users):
    item = facility.evidence_items.get(kind="bank_statement")
    services.evidence_upload(item=item, upload=pdf(), payee="苏州恒瑞精密机械有限公司",
                             amount=Decimal(900_000))  # fmt: skip
    evaluation_run(kind=RunKind.FULL, as_of=date(2026, 4, 1))  # before any deadline
    alert = Alert.objects.get(signal="funds_payee_mismatch")
    assert (alert.severity, alert.value, alert.rule_code) == ("high", 1.0, "funds_payee_mismatch")
    assert alert.assigned_to == users["lead"]
    with translation.override("en"):
        assert alert.rule_label == "Payee does not fit the use of funds"


def test_the_pages_show_what_is_proven_and_what_is_outstanding(facility, users, login, clock):
    item = facility.evidence_items.get(kind="invoice")
    services.evidence_upload(item=item, upload=pdf(), payee="上海宝钢", amount=Decimal(250_000))
    services.evidence_decide(item=item, user=users["risk"], accept=True)

    client = login(users["manager_a"])
    page = client.get(
        reverse("customers:detail", args=[facility.customer_id]), HTTP_ACCEPT_LANGUAGE="en"
    )
    card = page.content.decode()
    assert 'id="postloan"' in card and f'id="postloan-{facility.pk}"' in card
    assert "1 / 3" in card  # one of three proven
    assert "(2 overdue)" in card  # due 2026-05-30, today 2026-06-15

    page = client.get(
        reverse("postloan:facility", args=[facility.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "1 of 3 items proven (CNY 250,000 shown paid to payees)." in page
    assert "2 items are past their deadline." in page


def test_staff_upload_through_the_page_and_a_manager_may_not_review(facility, users, login):
    item = facility.evidence_items.get(kind="invoice")
    client = login(users["manager_a"])
    response = client.post(
        reverse("postloan:evidence_upload", args=[item.pk]),
        {"file": pdf(), "payee": "王建国", "amount": "5000"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.flags) == ("received", ["payee_is_related"])
    assert client.post(reverse("postloan:evidence_accept", args=[item.pk])).status_code == 403
    file = client.get(reverse("postloan:evidence_file", args=[item.pk]))
    assert file.status_code == 200 and b"".join(file.streaming_content).startswith(b"%PDF")
    reviewer = login(users["lead"])
    reviewer.post(reverse("postloan:evidence_reject", args=[item.pk]), {"reason": "关联方"})
    item.refresh_from_db()
    assert (item.status, item.rejection_reason) == ("rejected", "关联方")
