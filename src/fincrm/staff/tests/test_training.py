"""Training records: required courses flagged on a fixed day, entering a record (leads and
admins, their people only, audited), the certificate behind the permission path, scope."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from fincrm.accounts.choices import Role
from fincrm.staff import selectors, services
from fincrm.staff.models import TrainingRecord
from fincrm.testing.factories import CourseFactory, TrainingRecordFactory

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 6, 15)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def courses(users):
    aml = CourseFactory(code="aml", name="反洗钱", required_roles=[Role.ACCOUNT_MANAGER.value],
                        validity_months=12)  # fmt: skip
    kyc = CourseFactory(code="kyc", name="尽职调查",
                        required_roles=[Role.ACCOUNT_MANAGER.value, Role.TEAM_LEAD.value],
                        validity_months=None)  # fmt: skip
    a, b = users["manager_a"], users["manager_b"]
    # a: AML expired on 2026-06-01, KYC never completed (an attempt that failed).
    TrainingRecordFactory(user=a, course=aml, taken_on=date(2025, 6, 1),
                          expires_on=date(2026, 6, 1))  # fmt: skip
    TrainingRecordFactory(user=a, course=kyc, taken_on=date(2026, 5, 1), completed=False,
                          expires_on=None, score=40)  # fmt: skip
    # b: AML expires on 2026-07-01 (within the policy's 30 days), KYC held for good.
    TrainingRecordFactory(user=b, course=aml, taken_on=date(2025, 7, 1),
                          expires_on=date(2026, 7, 1))  # fmt: skip
    TrainingRecordFactory(user=b, course=kyc, taken_on=date(2026, 1, 5), expires_on=None)
    return {"aml": aml, "kyc": kyc}


def _states(user, as_of=AS_OF) -> dict[str, dict[str, str]]:
    people = selectors.people_in_scope(user)
    return {
        row.person.username: {c.course.code: c.status for c in row.courses}
        for row in selectors.training_overview(people, as_of=as_of)
    }


def test_required_courses_are_flagged_missing_expired_or_expiring(users, courses):
    states = _states(users["admin"])
    assert states["manager_a"] == {"aml": "expired", "kyc": "missing"}
    assert states["manager_b"] == {"aml": "expiring", "kyc": "valid"}
    assert states["lead"] == {"kyc": "missing"}
    assert states["risk"] == {}  # no course required of a risk officer
    # A day before the 30-day window opens, b's AML is still simply valid.
    assert _states(users["admin"], as_of=date(2026, 5, 31))["manager_b"]["aml"] == "valid"


def test_a_completion_expires_after_the_courses_validity(users, courses):
    record = services.training_record_create(
        user=users["manager_a"], course=courses["aml"], taken_on=date(2026, 1, 31),
        completed=True, score=Decimal("88.5"), recorded_by=users["lead"],
    )  # fmt: skip
    assert record.expires_on == date(2027, 1, 31)
    assert services.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert record.history.get().history_user == users["lead"]
    never = services.training_record_create(
        user=users["manager_a"], course=courses["kyc"], taken_on=date(2026, 1, 31),
        completed=True, recorded_by=users["lead"],
    )  # fmt: skip
    assert never.expires_on is None
    assert _states(users["manager_a"])["manager_a"] == {"aml": "valid", "kyc": "valid"}


def test_my_training_shows_my_flags_only(users, courses, clock):
    page = _client(users["manager_a"]).get(reverse("staff:training"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-status="expired" data-course="aml"' in html
    assert 'data-status="missing" data-course="kyc"' in html
    assert 'data-status="expiring"' not in html  # b's state is not on a's page


def test_team_training_by_role(users, courses, clock):
    url = reverse("staff:team_training")
    lead = _client(users["lead"]).get(url)
    assert {row.person.username for row in lead.context["overview"]} == {"manager_a", "lead"}
    assert {r.user.username for r in lead.context["records"]} == {"manager_a"}
    executive = _client(users["exec"]).get(url)
    assert {"manager_a", "manager_b"} <= {r.person.username for r in executive.context["overview"]}
    flagged = _client(users["exec"]).get(url, {"flagged": "1"}).context["overview"]
    assert "risk" not in {row.person.username for row in flagged}
    for role in ("manager_a", "risk", "agent", "outsider"):
        assert _client(users[role]).get(url).status_code == 403, role


def test_a_lead_records_training_for_their_team_only(users, courses):
    url = reverse("staff:record_create")
    lead = _client(users["lead"])
    pdf = SimpleUploadedFile("cert.pdf", b"%PDF-1.4 certificate", "application/pdf")
    form = {"user": users["manager_a"].pk, "course": courses["aml"].pk, "taken_on": "2026-06-10",
            "completed": "on", "score": "95", "certificate": pdf}  # fmt: skip
    assert lead.post(url, form).status_code == 302
    record = TrainingRecord.objects.get(user=users["manager_a"], taken_on=date(2026, 6, 10))
    assert (record.recorded_by, record.expires_on, record.score) == (
        users["lead"],
        date(2027, 6, 10),
        Decimal("95.0"),
    )
    before = TrainingRecord.objects.count()
    outside = {**form, "user": users["manager_b"].pk, "certificate": ""}
    response = lead.post(url, outside)
    assert response.status_code == 200 and "user" in response.context["form"].errors
    bad_score = {**form, "score": "120", "certificate": ""}
    assert "score" in lead.post(url, bad_score).context["form"].errors
    not_a_pdf = {**form, "certificate": SimpleUploadedFile("cert.pdf", b"hello")}
    assert "certificate" in lead.post(url, not_a_pdf).context["form"].errors
    assert TrainingRecord.objects.count() == before
    for role in ("manager_a", "exec", "risk"):
        assert _client(users[role]).post(url, {**form, "certificate": ""}).status_code == 403
    assert TrainingRecord.objects.count() == before


def test_the_certificate_is_served_through_the_permission_path(users, courses):
    record = services.training_record_create(
        user=users["manager_a"], course=courses["aml"], taken_on=date(2026, 6, 1),
        completed=True, recorded_by=users["admin"],
        certificate=SimpleUploadedFile("cert.pdf", b"%PDF-1.4 a"),
    )  # fmt: skip
    url = reverse("staff:certificate", args=[record.pk])
    for role in ("manager_a", "lead", "exec", "admin"):
        response = _client(users[role]).get(url)
        assert response.status_code == 200, role
        assert b"".join(response.streaming_content) == b"%PDF-1.4 a"
    for role in ("manager_b", "risk", "agent", "outsider"):
        assert _client(users[role]).get(url).status_code == 404, role


def test_a_recorded_training_is_on_the_audit_trail(users, courses, clock):
    from fincrm.web.audit import audit_trail

    record = services.training_record_create(
        user=users["manager_a"], course=courses["aml"], taken_on=date(2026, 6, 14),
        completed=True, recorded_by=users["lead"],
    )  # fmt: skip
    trail = audit_trail(user_id=users["lead"].pk, customer_id=None, since=None, until=None)
    assert [row["what"] for row in trail] == [f"培训记录 #{record.pk}"]
