"""Contacts, statements, tasks, complaints and survey results through the API: object
permissions, masking, writes through the services."""

from datetime import date

import pytest

from fincrm.customers.models import FinancialStatement
from fincrm.engagement.models import Task
from fincrm.service.models import Ticket
from fincrm.surveys import services as surveys
from fincrm.testing.factories import ContactFactory, StatementFactory

pytestmark = pytest.mark.django_db


STATEMENT = {
    "period_end": "2025-12-31", "revenue": "50000000", "cost": "38000000",
    "net_profit": "4000000", "total_assets": "60000000", "total_liabilities": "30000000",
    "current_assets": "25000000", "current_liabilities": "15000000", "inventory": "8000000",
    "receivables": "9000000", "operating_cash_flow": "-1500000", "interest_expense": "900000",
}  # fmt: skip


def test_a_token_reads_and_writes_only_its_users_clients(client, book, users, bearer):
    mine, theirs = book["a_company"], book["b_company"]
    ContactFactory(customer=mine, phone="13912345678")
    ContactFactory(customer=theirs, phone="13800000000")
    StatementFactory(customer=theirs, period_end=date(2024, 12, 31))
    Task.objects.create(customer=theirs, owner=users["manager_b"], kind="visit", title="x",
                        due_on=date(2026, 12, 1))  # fmt: skip
    a = bearer(users["manager_a"])
    listed = client.get("/api/v1/contacts/", **a).json()["results"]
    assert [c["customer_id"] for c in listed] == [mine.pk]
    assert listed[0]["phone"] == "13912345678"  # a manager needs the phone
    for path in ("/api/v1/statements/", "/api/v1/tasks/", "/api/v1/complaints/"):
        assert client.get(f"{path}?customer_id={theirs.pk}", **a).json()["results"] == []
    post = client.post(
        "/api/v1/statements/", {"customer_id": theirs.pk, **STATEMENT},
        content_type="application/json", **a,
    )  # fmt: skip
    assert post.status_code == 404
    task = Task.objects.get(customer=theirs)
    assert client.post(f"/api/v1/tasks/{task.pk}/complete", **a).status_code == 404
    task.refresh_from_db()
    assert task.status == "open"


def test_an_agents_token_sees_masked_phones(client, book, users, bearer):
    ContactFactory(customer=book["a_company"], phone="13912345678")
    listed = client.get("/api/v1/contacts/", **bearer(users["agent"])).json()["results"]
    assert listed[0]["phone"] != "13912345678" and listed[0]["phone"].endswith("5678")


def test_a_statement_posted_is_audited_with_its_author(client, book, users, bearer):
    a = bearer(users["manager_a"])
    response = client.post(
        "/api/v1/statements/", {"customer_id": book["a_company"].pk, **STATEMENT},
        content_type="application/json", **a,
    )  # fmt: skip
    assert response.status_code == 201, response.content
    statement = FinancialStatement.objects.get(pk=response.json()["id"])
    assert statement.history.first().history_user == users["manager_a"]
    bad = client.post(
        "/api/v1/statements/", {"customer_id": book["a_company"].pk, **STATEMENT,
                                "revenue": "-5"},
        content_type="application/json", **a,
    )  # fmt: skip
    assert bad.status_code == 422 and "revenue" in str(bad.json())


def test_a_complaint_from_the_mini_program_starts_its_sla(client, book, users, bearer):
    a = bearer(users["manager_a"])
    response = client.post(
        "/api/v1/complaints/",
        {"customer_id": book["a_company"].pk, "channel": "wechat",
         "subject": "重复扣款", "description": "还款日被重复扣款"},
        content_type="application/json", **a,
    )  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert (body["category"], body["source"], body["status"]) == ("repayment", "api", "open")
    ticket = Ticket.objects.get(pk=body["id"])
    resolved = client.post(
        f"/api/v1/complaints/{ticket.pk}/resolve",
        {"resolution": "已退款", "root_cause": "system"}, content_type="application/json",
        **bearer(users["manager_b"]),
    )  # fmt: skip
    assert resolved.status_code == 404


def test_survey_results_count_only_visible_invitations(client, book, users, bearer):
    survey = surveys.survey_create(name="S", questions=[{"kind": "nps", "text": "推荐?"}])
    question = survey.questions.get()
    for customer, score in ((book["a_company"], 10), (book["b_company"], 3)):
        invitation, _t = surveys.survey_invite(survey=survey, customer=customer, cause="x")
        surveys.survey_answer(invitation=invitation, data={f"q{question.pk}": [str(score)]})
    mine = client.get(f"/api/v1/surveys/{survey.pk}/results?by=period",
                      **bearer(users["manager_a"])).json()  # fmt: skip
    assert [(r["sent"], r["nps"]) for r in mine] == [(1, 100.0)]
    everyone = client.get(f"/api/v1/surveys/{survey.pk}/results?by=period",
                          **bearer(users["agent"])).json()  # fmt: skip
    assert [(r["sent"], r["nps"]) for r in everyone] == [(2, 0.0)]
    responses = client.get("/api/v1/surveys/responses", **bearer(users["manager_a"])).json()
    assert [r["customer_id"] for r in responses["results"]] == [book["a_company"].pk]
