"""The portal assistant answers from the client's own schedule, documents, points and
applications — never another client's — and from the FAQ; the rest goes to a person."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from fincrm.financing.models import ApplicationDocument, Installment
from fincrm.portal import assistant
from fincrm.portal.models import FaqEntry, PortalAccount
from fincrm.service.models import Ticket
from fincrm.testing.factories import ApplicationFactory, FacilityFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)


def _schedule(facility, first_due: date, n: int, principal: str, interest: str):
    for k in range(n):
        Installment.objects.create(
            facility=facility,
            number=k + 1,
            due_date=first_due + timedelta(days=30 * k),
            principal_due=Decimal(principal),
            interest_due=Decimal(interest),
        )


@pytest.fixture
def clients(book):
    """Client a: a facility with instalment 1 overdue (2026-05-20) and 2 due 2026-06-19;
    client b: a facility whose next instalment is earlier (2026-06-16)."""
    a = FacilityFactory(customer=book["a_company"], contract_number="HT-A-1")
    _schedule(a, date(2026, 5, 20), 3, "250000.00", "16250.50")
    b = FacilityFactory(customer=book["b_company"], contract_number="HT-B-1")
    _schedule(b, date(2026, 6, 16), 2, "100000.00", "500.00")
    return book


def _ask(customer, question):
    with translation.override("zh-hans"):
        return assistant.answer(customer=customer, question=question, today=TODAY)


def test_the_next_instalment_comes_from_the_clients_own_schedule(clients):
    reply = _ask(clients["a_company"], "我下一期还款是什么时候？")

    assert reply.intent == "next_instalment"
    assert "2026年6月19日" in reply.text and "266,250.50 元" in reply.text
    assert any("HT-A-1" in line and "250,000.00 元" in line for line in reply.lines)
    assert any("逾期" in line and "266,250.50 元" in line for line in reply.lines)
    assert "HT-B-1" not in " ".join(reply.lines)  # b's earlier instalment is not a's


def test_overdue_lists_each_late_instalment(clients):
    reply = _ask(clients["a_company"], "我有逾期吗")
    assert reply.intent == "overdue"
    assert "1" in reply.text and "266,250.50 元" in reply.text
    assert any("2026年5月20日" in line for line in reply.lines)

    on_time = _ask(clients["b_company"], "我有逾期吗")
    assert on_time.lines == [] and "没有逾期" in on_time.text


def test_missing_and_returned_documents_of_open_applications(book):
    application = ApplicationFactory(customer=book["a_company"], stage="due_diligence")
    ApplicationDocument.objects.create(application=application, kind="business_licence")
    ApplicationDocument.objects.create(
        application=application,
        kind="financial_statements",
        status="rejected",
        rejection_reason="缺少2025年报表",
    )
    ApplicationDocument.objects.create(application=application, kind="bank_statements",
                                       status="accepted")  # fmt: skip
    reply = _ask(book["a_company"], "我的申请还缺什么材料")

    assert reply.intent == "missing_documents"
    assert len(reply.lines) == 2
    assert all(application.number in line for line in reply.lines)
    assert any("缺少2025年报表" in line for line in reply.lines)
    assert _ask(book["b_company"], "还缺什么材料").lines == []


def test_faq_answers_and_the_rest_is_handed_over(book, login):
    FaqEntry.objects.all().delete()
    FaqEntry.objects.create(
        language="zh-hans",
        question="如何提前还款？",
        keywords="提前 还款 结清",
        answer="提前五天告知。",
    )
    assert _ask(book["a_company"], "怎么提前还款").text == "提前五天告知。"

    user = UserFactory(username="client_a", role="")
    PortalAccount.objects.create(user=user, customer=book["a_company"])
    client = login(user)
    page = client.post(reverse("portal:assistant"), {"question": "今天天气怎么样"}, follow=True)
    assert "转人工" in page.content.decode()

    client.post(reverse("portal:assistant_handover"), {"question": "今天天气怎么样"})
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.kind, ticket.description) == (
        book["a_company"],
        "request",
        "今天天气怎么样",
    )


def test_the_page_answers_the_logged_in_client_only(clients, login, clock):
    user = UserFactory(username="client_b", role="")
    PortalAccount.objects.create(user=user, customer=clients["b_company"])
    client = login(user)
    client.cookies["django_language"] = "zh-hans"
    page = client.post(
        reverse("portal:assistant"), {"question": "我下一期还款是什么时候？"}, follow=True
    ).content.decode()

    assert "2026年6月16日" in page and "100,500.00 元" in page
    assert "HT-A-1" not in page
    assert client.get(reverse("portal:assistant")).status_code == 200


def test_staff_have_no_assistant(users, login):
    assert login(users["manager_a"]).get(reverse("portal:assistant")).status_code == 404
