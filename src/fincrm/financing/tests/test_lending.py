"""Lending end to end through the API: origination, documents, approval within authority and
the grade's controls, contract, booking; and the authority table cell by cell."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from conftest import FIXED_TODAY
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from fincrm.evaluation.models import Classification
from fincrm.financing import services
from fincrm.financing.approval import authority_for, control_breaches
from fincrm.financing.choices import DocumentStatus, Stage
from fincrm.financing.models import Application, Facility, Installment
from fincrm.testing.factories import ProductFactory, StatementFactory

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def graded(customer, grade: str, tier: str = "ordinary"):
    at = datetime(2026, 6, 1, tzinfo=TZ)
    Classification.objects.update_or_create(
        customer=customer,
        defaults={
            "tier": tier,
            "tier_since": at,
            "value_score": 50,
            "grade": grade,
            "size_band": "small",
            "lifecycle": "active",
            "evaluated_at": at,
        },
    )
    customer.refresh_from_db()
    return customer


@pytest.fixture
def products(db):
    return {
        "wc": ProductFactory(code="WC01", min_amount=Decimal(100_000), max_tenor_months=36),
        "pf": ProductFactory(
            code="PF01",
            name="项目融资",
            product_type="project",
            min_amount=Decimal(1_000_000),
            max_amount=Decimal(500_000_000),
            min_tenor_months=24,
            max_tenor_months=120,
        ),
    }


def _through_documents(client, headers, reviewer, app_json):
    """Upload every document as the maker, accept each as the reviewer."""
    for doc in app_json["documents"]:
        base = f"/api/v1/applications/{app_json['id']}/documents/{doc['id']}"
        upload = SimpleUploadedFile(f"{doc['kind']}.pdf", PDF, content_type="application/pdf")
        response = client.post(f"{base}/file", {"file": upload}, **headers)
        assert response.status_code == 200, response.content
        assert response.json()["status"] == DocumentStatus.RECEIVED
        accepted = client.post(f"{base}/accept", **reviewer)
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"


def _to_review(client, headers, application_id):
    for stage in ("submitted", "documents", "due_diligence", "credit_review"):
        response = client.post(
            f"/api/v1/applications/{application_id}/stage",
            {"to_stage": stage},
            content_type="application/json",
            **headers,
        )
        if response.status_code != 200:  # a stage the route skips is passed by
            assert stage == "due_diligence", response.content
    assert Application.objects.get(pk=application_id).stage == Stage.CREDIT_REVIEW


def test_a_manager_originates_the_lead_approves_and_disbursement_books_the_schedule(
    client, users, book, products, bearer, clock
):
    firm = graded(book["a_company"], "BBB")
    StatementFactory(customer=firm, revenue=Decimal(50_000_000))
    manager, risk, lead = bearer(users["manager_a"]), bearer(users["risk"]), bearer(users["lead"])

    listed = client.get("/api/v1/products/", **manager).json()
    wc = next(p for p in listed if p["code"] == "WC01")
    assert {"min_amount", "max_tenor_months", "min_rate", "repayment_methods"} <= wc.keys()

    created = client.post(
        "/api/v1/applications/",
        {
            "customer_id": firm.pk,
            "product_id": wc["id"],
            "amount": "800000.00",
            "tenor_months": 12,
            "purpose": "采购原材料",
        },
        content_type="application/json",
        **manager,
    )
    assert created.status_code == 201, created.content
    app = created.json()
    assert app["stage"] == "lead" and len(app["documents"]) == 2
    # Proposed from BBB's controls: floor 3.0 % + 220 bp, a guarantee, a 5 % margin.
    assert Decimal(app["rate"]) == Decimal("5.2") and app["guarantee_type"] == "guarantee"

    # Another manager cannot even see the client; the bounds are checked at once.
    other = bearer(users["manager_b"])
    assert (
        client.post(
            "/api/v1/applications/",
            {
                "customer_id": firm.pk,
                "product_id": wc["id"],
                "amount": "800000",
                "tenor_months": 12,
            },
            content_type="application/json",
            **other,
        ).status_code
        == 404
    )
    too_long = client.post(
        "/api/v1/applications/",
        {"customer_id": firm.pk, "product_id": wc["id"], "amount": "800000", "tenor_months": 48},
        content_type="application/json",
        **manager,
    )
    assert too_long.status_code == 422 and "6" in too_long.json()["detail"]

    _through_documents(client, manager, risk, app)
    _to_review(client, manager, app["id"])

    # The maker may not approve (and has no authority anyway): 403 naming the rule.
    refused = client.post(
        f"/api/v1/applications/{app['id']}/stage",
        {"to_stage": "approved"},
        content_type="application/json",
        **manager,
    )
    assert refused.status_code == 403 and refused.json()["detail"]
    assert Application.objects.get(pk=app["id"]).stage == Stage.CREDIT_REVIEW

    approved = client.post(
        f"/api/v1/applications/{app['id']}/stage",
        {"to_stage": "approved"},
        content_type="application/json",
        **lead,
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["stage"] == "approved"
    assert approved.json()["votes"][0]["role"] == "lead"

    for stage in ("contract", "disbursed"):
        moved = client.post(
            f"/api/v1/applications/{app['id']}/stage",
            {"to_stage": stage},
            content_type="application/json",
            **manager,
        )
        assert moved.status_code == 200, moved.content
    result = moved.json()
    assert result["contract_number"].startswith("HT2026")
    facility = Facility.objects.get(pk=result["facility_id"])
    rows = Installment.objects.filter(facility=facility).order_by("number")
    assert len(rows) == 12
    assert sum(r.principal_due for r in rows) == Decimal("800000.00")
    assert facility.contract_number == result["contract_number"]
    assert facility.start_date == FIXED_TODAY and rows[0].due_date == date(2026, 7, 15)


def test_terms_that_break_the_grade_controls_are_refused_with_422_and_change_nothing(
    client, users, book, products, bearer
):
    firm = graded(book["a_company"], "A")
    StatementFactory(customer=firm, revenue=Decimal(500_000_000))
    manager, risk = bearer(users["manager_a"]), bearer(users["risk"])
    app = client.post(
        "/api/v1/applications/",
        {
            "customer_id": firm.pk,
            "product_id": products["pf"].pk,
            "amount": "5000000",
            "tenor_months": 120,
        },
        content_type="application/json",
        **manager,
    ).json()
    _through_documents(client, manager, risk, app)
    _to_review(client, manager, app["id"])
    refused = client.post(
        f"/api/v1/applications/{app['id']}/stage",
        {"to_stage": "approved"},
        content_type="application/json",
        **risk,
    )
    assert refused.status_code == 422
    assert "120" in refused.json()["detail"] and "36" in refused.json()["detail"]
    assert Application.objects.get(pk=app["id"]).stage == Stage.CREDIT_REVIEW
    assert not Application.objects.get(pk=app["id"]).votes.exists()
    # A risk officer may approve the exception with a reason: recorded and shown.
    overridden = client.post(
        f"/api/v1/applications/{app['id']}/stage",
        {"to_stage": "approved", "override_reason": "项目现金流覆盖, 董事会批准"},
        content_type="application/json",
        **risk,
    )
    assert overridden.status_code == 200 and overridden.json()["stage"] == "approved"
    vote = Application.objects.get(pk=app["id"]).votes.get()
    assert [b["code"] for b in vote.breaches] == ["max_tenor"]
    assert vote.override_reason.startswith("项目")


def test_a_rejected_document_carries_its_reason_and_blocks_review(
    client, users, book, products, bearer
):
    firm = graded(book["a_company"], "A")
    manager, risk, agent = bearer(users["manager_a"]), bearer(users["risk"]), bearer(users["agent"])
    app = client.post(
        "/api/v1/applications/",
        {
            "customer_id": firm.pk,
            "product_id": products["wc"].pk,
            "amount": "500000",
            "tenor_months": 12,
        },
        content_type="application/json",
        **manager,
    ).json()
    doc = app["documents"][0]
    base = f"/api/v1/applications/{app['id']}/documents/{doc['id']}"
    fake = SimpleUploadedFile("licence.pdf", b"MZ\x90\x00 not a pdf")
    assert client.post(f"{base}/file", {"file": fake}, **manager).status_code == 422
    exe = SimpleUploadedFile("licence.exe", PDF)
    assert client.post(f"{base}/file", {"file": exe}, **manager).status_code == 422
    pdf = SimpleUploadedFile("licence.pdf", PDF)
    assert client.post(f"{base}/file", {"file": pdf}, **manager).status_code == 200
    # Agents review nothing; the maker cannot accept their own upload as a reviewer.
    assert client.post(f"{base}/accept", **agent).status_code == 403
    assert client.post(f"{base}/accept", **manager).status_code == 403
    rejected = client.post(
        f"{base}/reject", {"reason": "营业执照已过期"}, content_type="application/json", **risk
    )
    assert rejected.status_code == 200
    assert rejected.json()["rejection_reason"] == "营业执照已过期"
    detail = client.get(f"/api/v1/applications/{app['id']}", **manager).json()
    assert detail["documents"][0]["rejection_reason"] == "营业执照已过期"
    document = Application.objects.get(pk=app["id"]).documents.get(pk=doc["id"])
    audit = list(document.history.order_by("history_date").values_list("status", flat=True))
    assert audit[-2:] == ["received", "rejected"]  # the upload and the decision: audited


AMOUNTS = (Decimal(500_000), Decimal(5_000_000), Decimal(50_000_000))
GRADES = ("AA", "BBB", "BB")
#: The demo policy: leads ≤ 1M for BBB or better (own teams); risk ≤ 10M; above, risk + exec.
EXPECTED = {
    "manager_a": {},
    "lead": {(AMOUNTS[0], "AA"): ["lead"], (AMOUNTS[0], "BBB"): ["lead"]},
    "risk": {(a, g): ["risk"] for a in AMOUNTS[:2] for g in GRADES}
    | {(AMOUNTS[2], g): ["risk", "exec"] for g in GRADES},
    "exec": {(AMOUNTS[2], g): ["risk", "exec"] for g in GRADES}
    | {(a, g): ["risk", "exec"] for a in AMOUNTS[:2] for g in GRADES},
    "agent": {},
    "manager_b": {},
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_the_authority_table_cell_by_cell(who, users, book, products):
    from fincrm.analytics.policy import default_policy

    policy = default_policy()
    for amount in AMOUNTS:
        for grade in GRADES:
            firm = graded(book["a_company"], grade)
            application = Application(
                customer=firm, product=products["pf"], amount=amount, tenor_months=24
            )
            expected = EXPECTED[who].get((amount, grade))
            if expected is None:
                with pytest.raises(PermissionDenied):
                    authority_for(application, users[who], policy)
            else:
                assert authority_for(application, users[who], policy).roles == expected


def test_a_lead_has_no_authority_over_another_teams_client(users, book, products):
    from fincrm.analytics.policy import default_policy

    firm = graded(book["b_company"], "AA")
    application = Application(
        customer=firm, product=products["wc"], amount=Decimal(500_000), tenor_months=12
    )
    with pytest.raises(PermissionDenied):
        authority_for(application, users["lead"], default_policy())


def test_maker_checker_and_a_committee_of_two(users, book, products):
    firm = graded(book["a_company"], "AA")
    StatementFactory(customer=firm, revenue=Decimal(500_000_000))
    application = services.application_create(
        customer=firm,
        product=products["pf"],
        amount=Decimal(50_000_000),
        tenor_months=24,
        created_by=users["risk"],
        check_bounds=True,
    )
    for document in application.documents.all():
        services.document_set_status(document=document, status=DocumentStatus.ACCEPTED)
    for stage in ("submitted", "documents", "due_diligence", "credit_review"):
        services.application_move_stage(application=application, to_stage=stage, user=users["risk"])
    with pytest.raises(PermissionDenied, match=r"Maker|制单|审批|submitted|提交"):
        services.application_move_stage(
            application=application, to_stage=Stage.APPROVED, user=users["risk"]
        )
    # Another risk officer starts the committee; the application waits for the executive.
    from fincrm.testing.factories import UserFactory

    second = UserFactory(username="risk2", role="risk", team=users["risk"].team)
    services.application_move_stage(application=application, to_stage=Stage.APPROVED, user=second)
    application.refresh_from_db()
    assert application.stage == Stage.CREDIT_REVIEW
    services.application_move_stage(
        application=application, to_stage=Stage.APPROVED, user=users["exec"]
    )
    application.refresh_from_db()
    assert application.stage == Stage.APPROVED
    assert sorted(application.votes.values_list("role", flat=True)) == ["exec", "risk"]


def test_control_breaches_name_each_rule(users, book, products):
    from fincrm.analytics.policy import default_policy

    firm = graded(book["a_company"], "BB")  # ≤ 24 months, 3.0 % + 320 bp, collateral, 10 %
    StatementFactory(customer=firm, revenue=Decimal(10_000_000))  # limit 0.2 × = 2,000,000
    application = Application(
        customer=firm,
        product=products["pf"],
        amount=Decimal(3_000_000),
        tenor_months=36,
        rate=Decimal("5.0"),
        guarantee_type="guarantee",
        margin_percent=Decimal(5),
    )
    codes = [b.code for b in control_breaches(application, default_policy())]
    assert codes == ["max_tenor", "min_rate", "limit", "guarantee", "margin"]
    application.tenor_months, application.rate = 24, Decimal("6.2")
    application.amount, application.guarantee_type = Decimal(1_000_000), "mortgage"
    application.margin_percent = Decimal(10)
    assert control_breaches(application, default_policy()) == []


def test_refused_moves_change_nothing(users, book, products):
    firm = graded(book["a_company"], "A")
    application = services.application_create(
        customer=firm, product=products["wc"], amount=Decimal(600_000), tenor_months=12
    )
    with pytest.raises(ValidationError):
        services.application_move_stage(
            application=application, to_stage=Stage.DISBURSED, user=users["manager_a"]
        )
    application.refresh_from_db()
    assert application.stage == Stage.LEAD
    assert not Facility.objects.filter(application=application).exists()
