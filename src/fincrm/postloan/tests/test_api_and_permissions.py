"""The API under /api/v1/postloan/ and who may do what, pages and API alike."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fincrm.postloan import services
from fincrm.postloan.models import Claim, GuaranteeContract, InsurancePolicy
from fincrm.testing.factories import FacilityFactory, monthly_schedule

pytestmark = pytest.mark.django_db
BASE = "/api/v1/postloan"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"


@pytest.fixture
def facility(book):
    f = FacilityFactory(customer=book["a_company"], start_date=date(2026, 3, 1))
    monthly_schedule(f, months=3, principal=Decimal(200_000), interest=Decimal(5_000))
    services.evidence_checklist_create(facility=f)
    return f


def _guarantee_body(facility, **extra):
    return {"number": "BZ9", "kind": "mortgage", "guarantor_name": "苏州置业有限公司",
            "amount_covered": "400000.00", "start_on": "2026-03-01",
            "expires_on": "2027-03-01", "facility_ids": [facility.pk], **extra}  # fmt: skip


def test_guarantees_policies_and_claims_through_the_api(client, facility, users, bearer):
    manager = bearer(users["manager_a"])
    url = f"{BASE}/facilities/{facility.pk}"
    made = client.post(f"{url}/guarantees", _guarantee_body(facility),
                       content_type="application/json", **manager)  # fmt: skip
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["guarantor"], body["facility_ids"], body["kind"]) == (
        "苏州置业有限公司", [facility.pk], "mortgage"
    )  # fmt: skip
    bad = client.post(f"{url}/guarantees", _guarantee_body(facility, expires_on="2026-01-01"),
                      content_type="application/json", **manager)  # fmt: skip
    assert bad.status_code == 422 and GuaranteeContract.objects.count() == 1
    policy = client.post(f"{url}/policies", {
        "insurer": "人保", "policy_number": "P7", "coverage_amount": "100000.00",
        "start_on": "2026-03-01", "expires_on": "2027-03-01", "facility_ids": [facility.pk],
    }, content_type="application/json", **manager)  # fmt: skip
    assert policy.status_code == 201 and InsurancePolicy.objects.get().premium == 0
    listed = client.get(f"{url}/guarantees", **manager).json()
    assert [g["number"] for g in listed] == ["BZ9"]

    claim = {"guarantee_id": body["id"], "amount_claimed": "100000.00", "filed_on": "2026-06-15"}
    healthy = client.post(f"{url}/claims", claim, content_type="application/json", **manager)
    assert healthy.status_code == 422 and not Claim.objects.exists()
    type(facility).objects.filter(pk=facility.pk).update(loan_class="substandard")
    filed = client.post(f"{url}/claims", claim, content_type="application/json", **manager)
    assert filed.status_code == 201 and filed.json()["status"] == "filed"
    decide = {"outcome": "paid", "on": "2026-06-20", "amount_recovered": "80000.00"}
    claim_url = f"{BASE}/claims/{filed.json()['id']}/decide"
    refused = client.post(claim_url, decide, content_type="application/json", **manager)
    assert refused.status_code == 403  # a manager does not record the insurer's answer
    paid = client.post(claim_url, decide, content_type="application/json",
                       **bearer(users["risk"]))  # fmt: skip
    assert paid.status_code == 200, paid.content
    assert paid.json()["amount_recovered"] == "80000.00" and paid.json()["payment_id"]
    assert facility.payments.get().amount == Decimal(80_000)


def test_evidence_through_the_api(client, facility, users, bearer):
    manager = bearer(users["manager_a"])
    items = client.get(f"{BASE}/facilities/{facility.pk}/evidence", **manager).json()
    assert sorted(i["kind"] for i in items) == ["bank_statement", "invoice", "payee_contract"]
    item = items[0]["id"]
    upload = client.post(
        f"{BASE}/facilities/{facility.pk}/evidence/{item}/file",
        {"file": SimpleUploadedFile("x.pdf", PDF), "payee": "苏州恒瑞精密机械有限公司"},
        **manager,
    )
    assert upload.status_code == 200, upload.content
    assert upload.json()["flags"] == ["payee_is_borrower"]
    assert client.post(f"{BASE}/evidence/{item}/accept", **manager).status_code == 403
    accepted = client.post(f"{BASE}/evidence/{item}/accept", **bearer(users["lead"]))
    assert accepted.json()["status"] == "accepted"


def test_other_books_are_not_found_and_viewers_may_not_record(client, facility, users, bearer):
    url = f"{BASE}/facilities/{facility.pk}"
    outsider = bearer(users["manager_b"])
    assert client.get(f"{url}/evidence", **outsider).status_code == 404
    assert client.post(f"{url}/guarantees", _guarantee_body(facility),
                       content_type="application/json", **outsider).status_code == 404  # fmt: skip
    agent = bearer(users["agent"])  # sees every client, records nothing
    assert client.get(f"{url}/claims", **agent).status_code == 200
    assert client.post(f"{url}/guarantees", _guarantee_body(facility),
                       content_type="application/json", **agent).status_code == 403  # fmt: skip
    # Risk officers record cover on any client's facility (as they service it).
    risk = client.post(f"{url}/guarantees", _guarantee_body(facility),
                       content_type="application/json", **bearer(users["risk"]))  # fmt: skip
    assert risk.status_code == 201

    client.force_login(users["manager_b"])
    assert client.get(reverse("postloan:facility", args=[facility.pk])).status_code == 404
    client.force_login(users["agent"])
    assert client.get(reverse("postloan:facility", args=[facility.pk])).status_code == 200
    item = facility.evidence_items.first()
    upload = {"file": SimpleUploadedFile("x.pdf", PDF), "payee": "某公司"}
    response = client.post(reverse("postloan:evidence_upload", args=[item.pk]), upload)
    assert response.status_code == 403


def test_the_facility_page_records_a_guarantee_with_a_client_as_guarantor(
    client, facility, users, book, django_assert_max_num_queries
):
    client.force_login(users["manager_a"])
    response = client.post(reverse("postloan:guarantee_create", args=[facility.pk]), {
        "number": "BZ5", "kind": "guarantee", "guarantor_client": book["a_person"].pk,
        "amount_covered": "300000", "start_on": "2026-03-01", "expires_on": "2027-03-01",
        "facilities": [facility.pk],
    })  # fmt: skip
    assert response.status_code == 302
    guarantee = GuaranteeContract.objects.get()
    assert (guarantee.guarantor, guarantee.created_by) == ("王建国", users["manager_a"])
    # Manager B's client is not one manager A may name.
    client.post(reverse("postloan:guarantee_create", args=[facility.pk]), {
        "number": "BZ6", "kind": "guarantee", "guarantor_client": book["b_person"].pk,
        "amount_covered": "300000", "start_on": "2026-03-01", "expires_on": "2027-03-01",
        "facilities": [facility.pk],
    })  # fmt: skip
    assert GuaranteeContract.objects.count() == 1
    url = reverse("postloan:facility", args=[facility.pk])
    with django_assert_max_num_queries(30) as few:  # 22 measured (base page included)
        page = client.get(url)
    assert "BZ5" in page.content.decode()
    # More cover and claims: not one query more.
    for n in range(3):
        services.guarantee_record(
            customer=facility.customer, facilities=[facility], number=f"BZ7{n}", kind="pledge",
            guarantor_client=book["a_person"], amount_covered=Decimal(10_000),
            start_on=date(2026, 3, 1), expires_on=date(2027, 3, 1),
        )  # fmt: skip
        services.policy_record(
            customer=facility.customer, facilities=[facility], insurer="人保",
            policy_number=f"P{n}", coverage_share=Decimal(10), start_on=date(2026, 3, 1),
            expires_on=date(2027, 3, 1),
        )  # fmt: skip
    type(facility).objects.filter(pk=facility.pk).update(loan_class="loss")
    for g in GuaranteeContract.objects.all():
        services.claim_file(facility=facility, guarantee=g, amount=Decimal(1_000),
                            filed_on=date(2026, 6, 15))  # fmt: skip
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)
    assert page.content.decode().count('<tr id="claim-') == 4
