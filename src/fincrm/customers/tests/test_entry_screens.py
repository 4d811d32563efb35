"""Contacts and financial statements entered on the 360° page: checked, audited, and the
client re-evaluated."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from fincrm.customers import services
from fincrm.customers.models import FinancialStatement
from fincrm.testing.factories import ContactFactory, StatementFactory

pytestmark = pytest.mark.django_db

FIGURES = {
    "period_end": "2025-12-31",
    "revenue": "52000000.00",
    "cost": "41000000.00",
    "net_profit": "3100000.00",
    "total_assets": "80000000.00",
    "total_liabilities": "45000000.00",
    "equity": "35000000.00",
    "current_assets": "40000000.00",
    "current_liabilities": "25000000.00",
    "inventory": "10000000.00",
    "receivables": "12000000.00",
    "operating_cash_flow": "4000000.00",
    "interest_expense": "1200000.00",
}


@pytest.fixture
def reevaluated(monkeypatch):
    """The clients a service asked to re-evaluate."""
    asked: list[int] = []
    monkeypatch.setattr(services, "customer_changed", asked.append)
    return asked


def test_a_manager_adds_a_contact_from_the_360_page(book, users, login, reevaluated):
    firm = book["a_company"]
    client = login(users["manager_a"])
    page = client.get(firm.get_absolute_url()).content.decode()
    assert reverse("customers:contact_create", args=[firm.pk]) in page
    response = client.post(
        reverse("customers:contact_create", args=[firm.pk]),
        {"name": "李晓梅", "title": "财务总监", "phone": "13912345678",
         "birthday": "1985-02-28", "preferred_channel": "wechat", "is_key": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    contact = firm.contacts.get(name="李晓梅")
    assert (contact.birthday, contact.is_key) == (date(1985, 2, 28), True)
    assert contact.history.get().history_user == users["manager_a"]  # audited, with who
    assert reevaluated == [firm.pk]


def test_an_edited_contact_keeps_its_history(book, users, login, reevaluated):
    contact = ContactFactory(customer=book["a_company"], name="李晓梅", title="出纳")
    client = login(users["manager_a"])
    url = reverse("customers:contact_edit", args=[book["a_company"].pk, contact.pk])
    client.post(url, {"name": "李晓梅", "title": "财务总监", "preferred_channel": "phone"})
    contact.refresh_from_db()
    assert contact.title == "财务总监"
    assert list(contact.history.order_by("history_date").values_list("title", flat=True)) == [
        "出纳",
        "财务总监",
    ]


def test_a_balanced_statement_is_recorded_audited_and_reevaluates(
    book, users, login, reevaluated, clock
):
    firm = book["a_company"]
    response = login(users["manager_a"]).post(
        reverse("customers:statement_create", args=[firm.pk]), FIGURES
    )
    assert response.status_code == 302
    statement = FinancialStatement.objects.get(customer=firm)
    assert statement.revenue == Decimal("52000000.00")
    assert statement.history.get().history_user == users["manager_a"]
    assert reevaluated == [firm.pk]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"equity": "30000000.00"}, "total_assets", services.MSG_UNBALANCED),
        ({"revenue": "-1.00"}, "revenue", services.MSG_NEGATIVE_REVENUE),
        ({"period_end": "2026-12-31"}, "period_end", services.MSG_FUTURE_PERIOD),
        ({"current_assets": "90000000.00"}, "current_assets", services.MSG_CURRENT_ABOVE_TOTAL),
    ],
)
def test_a_statement_that_fails_a_check_is_refused_with_the_reason(
    book, users, login, reevaluated, clock, change, field, message
):
    firm = book["a_company"]
    response = login(users["manager_a"]).post(
        reverse("customers:statement_create", args=[firm.pk]), {**FIGURES, **change}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert str(message).split("%")[0][:8] in errors[0]
    assert not FinancialStatement.objects.filter(customer=firm).exists() and reevaluated == []


def test_rounding_is_not_an_imbalance(book, users, login, reevaluated, clock):
    firm = book["a_company"]
    response = login(users["manager_a"]).post(
        reverse("customers:statement_create", args=[firm.pk]),
        {**FIGURES, "equity": "35040000.00"},  # 0.05 % of assets off: rounding
    )
    assert response.status_code == 302


def test_a_second_statement_for_the_same_period_is_refused(book, users, login, clock):
    firm = book["a_company"]
    StatementFactory(customer=firm, period_end=date(2025, 12, 31))
    response = login(users["manager_a"]).post(
        reverse("customers:statement_create", args=[firm.pk]), FIGURES
    )
    assert response.status_code == 200
    assert FinancialStatement.objects.filter(customer=firm).count() == 1


def test_the_statement_form_shows_equity_for_an_existing_statement(book, users, login):
    statement = StatementFactory(customer=book["a_company"])
    url = reverse("customers:statement_edit", args=[book["a_company"].pk, statement.pk])
    form = login(users["manager_a"]).get(url).context["form"]
    assert form["equity"].value() == statement.total_assets - statement.total_liabilities


@pytest.mark.parametrize("who", ["manager_b", "agent", "exec"])
def test_others_may_not_enter_a_clients_contacts_or_statements(book, users, login, who):
    firm = book["a_company"]
    client = login(users[who])
    for name in ("customers:contact_create", "customers:statement_create"):
        assert client.post(reverse(name, args=[firm.pk]), FIGURES).status_code in (403, 404)
    assert not firm.contacts.exists() and not firm.financial_statements.exists()
