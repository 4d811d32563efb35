"""Issue 19, point 4 on the risk lists: control proposals a page at a time, filtered,
sorted by column and exported as seen; alerts assigned in bulk; reviews given to a risk
officer in bulk — each after a confirmation, with the count and the rows left alone, and
in the rows' history."""

from datetime import date, timedelta
from io import BytesIO

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from openpyxl import load_workbook

from fincrm.accounts.choices import Role
from fincrm.risk.choices import AlertStatus
from fincrm.risk.models import Alert, Review
from fincrm.testing.factories import (
    AlertFactory,
    ControlProposalFactory,
    CustomerFactory,
    ReviewFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(BytesIO(response.content)).active.values)
    return rows


def _body(rows, first_header):
    header = next(i for i, r in enumerate(rows) if r and r[0] == first_header)
    return [r for r in rows[header + 1 :] if r and r[0]]


CONTROLS = {
    "limit_revenue_multiple": 0.3, "max_tenor_months": 12, "pricing_spread_bp": 250,
    "guarantee": "collateral", "margin_ratio": 0.2, "review_frequency": "quarterly",
}  # fmt: skip


def test_proposals_are_paged_filtered_sorted_and_exported(users, login, clock):
    firms = [CustomerFactory(owner=users["manager_a"], name=f"企业{i:02d}有限公司")
             for i in range(27)]  # fmt: skip
    for i, firm in enumerate(firms):
        ControlProposalFactory(customer=firm, to_grade="BB" if i % 3 else "B",
                               controls=CONTROLS)  # fmt: skip
    ControlProposalFactory(
        customer=CustomerFactory(owner=users["manager_a"]), status="approved", controls=CONTROLS
    )
    client = login(users["risk"])
    url = reverse("risk:proposals")
    first = client.get(url)
    assert first.context["paginator"].count == 27 and len(first.context["object_list"]) == 25
    assert len(client.get(url + "?page=2").context["object_list"]) == 2
    only_b = client.get(url + "?to_grade=B")
    assert {p.to_grade for p in only_b.context["object_list"]} == {"B"}
    assert len(only_b.context["object_list"]) == 9
    names = [p.customer.name for p in client.get(url + "?o=-client").context["object_list"]]
    assert names[:2] == ["企业26有限公司", "企业25有限公司"]
    assert "o=client" in client.get(url + "?o=-client").content.decode()

    client.cookies["django_language"] = "zh-hans"
    rows = _sheet(client.get(url + "?to_grade=B&o=client&export=xlsx"))
    assert rows[0][:2] == ("等级", "B")
    body = _body(rows, "客户")
    assert [r[0] for r in body] == [f"企业{i:02d}有限公司" for i in range(0, 27, 3)]
    assert body[0][6] == "抵质押"  # the guarantee in words, not the code
    assert client.get(url + "?o=nope&export=xlsx").status_code == 400


def test_a_manager_sees_and_exports_only_their_clients_proposals(book, users, login, clock):
    ControlProposalFactory(customer=book["a_company"], controls=CONTROLS)
    ControlProposalFactory(customer=book["b_company"], controls=CONTROLS)
    client = login(users["manager_a"])
    client.cookies["django_language"] = "zh-hans"
    rows = _sheet(client.get(reverse("risk:proposals") + "?export=xlsx"))
    assert [r[0] for r in _body(rows, "客户")] == [book["a_company"].name]


def test_alerts_assigned_in_bulk_within_the_leads_team_and_audited(book, users, login, clock):
    mine = AlertFactory(customer=book["a_company"], assigned_to=users["lead"])
    also = AlertFactory(customer=book["a_person"], assigned_to=None)
    elsewhere = AlertFactory(customer=book["b_company"])  # manager_b's: not the lead's
    closed = AlertFactory(customer=book["a_company"], status=AlertStatus.RESOLVED)
    client = login(users["lead"])
    data = {"alert": [mine.pk, also.pk, elsewhere.pk, closed.pk], "action": "assign",
            "assignee": users["manager_a"].pk}  # fmt: skip
    ask = client.post(reverse("risk:alert_bulk"), data)
    assert ask.status_code == 200 and ask.context["skipped"] == 2
    assert {a.pk for a in ask.context["alerts"]} == {mine.pk, also.pk}
    assert Alert.objects.get(pk=mine.pk).assigned_to == users["lead"]

    done = client.post(reverse("risk:alert_bulk"), {**data, "confirm": "yes"}, follow=True)
    assigned = dict(Alert.objects.values_list("pk", "assigned_to__username"))
    assert assigned[mine.pk] == assigned[also.pk] == "manager_a"
    assert assigned[elsewhere.pk] == "manager_b"
    [message] = _messages(done)
    assert "2" in message
    last = Alert.history.filter(id=also.pk).latest("history_date")
    assert (last.history_user, last.assigned_to_id) == (users["lead"], users["manager_a"].pk)


def test_alerts_are_not_assigned_to_someone_the_user_may_not_assign_to(book, users, login, clock):
    alert = AlertFactory(customer=book["a_company"])
    data = {"alert": [alert.pk], "action": "assign", "assignee": users["lead"].pk,
            "confirm": "yes"}  # fmt: skip
    response = login(users["manager_a"]).post(reverse("risk:alert_bulk"), data, follow=True)
    assert Alert.objects.get(pk=alert.pk).assigned_to == users["manager_a"]
    assert _messages(response)


def test_reviews_given_to_a_risk_officer_in_bulk_and_audited(book, users, login, clock):
    second = UserFactory(username="risk2", role=Role.RISK_OFFICER, team=users["risk"].team)
    reviews = [ReviewFactory(customer=c) for c in (book["a_company"], book["b_company"])]
    done_one = ReviewFactory(customer=book["a_person"], status="done")
    client = login(users["risk"])
    data = {"review": [r.pk for r in reviews] + [done_one.pk], "assignee": second.pk}
    ask = client.post(reverse("risk:review_bulk"), data)
    assert ask.status_code == 200 and ask.context["skipped"] == 1
    assert not Review.objects.filter(officer=second).exists()

    done = client.post(reverse("risk:review_bulk"), {**data, "confirm": "yes"}, follow=True)
    assert set(Review.objects.filter(officer=second).values_list("pk", flat=True)) == {
        r.pk for r in reviews
    }
    assert any("2" in m and "1" in m for m in _messages(done))
    last = Review.history.filter(id=reviews[0].pk).latest("history_date")
    assert last.history_user == users["risk"]
    # a manager is not a risk officer: not someone reviews are given to
    refused = {"review": [reviews[0].pk], "assignee": users["manager_a"].pk, "confirm": "yes"}
    client.post(reverse("risk:review_bulk"), refused)
    assert Review.objects.get(pk=reviews[0].pk).officer == second


def test_only_deciders_give_reviews_out(book, users, login, clock):
    review = ReviewFactory(customer=book["a_company"])
    response = login(users["manager_a"]).post(
        reverse("risk:review_bulk"), {"review": [review.pk], "assignee": users["risk"].pk}
    )
    assert response.status_code == 403
    assert Review.objects.get(pk=review.pk).officer is None


def test_the_reviews_export_is_the_overdue_tab_as_seen(book, users, login, clock):
    today = date(2026, 6, 15)
    late = ReviewFactory(customer=book["a_company"], due_on=today - timedelta(days=5))
    ReviewFactory(customer=book["b_company"], due_on=today + timedelta(days=40))
    client = login(users["risk"])
    client.cookies["django_language"] = "zh-hans"
    rows = _sheet(client.get(reverse("risk:reviews") + "?show=overdue&export=xlsx"))
    assert ("查看", "已逾期") in [r[:2] for r in rows[:3]]
    body = _body(rows, "到期日")
    assert [(r[0].date(), r[1]) for r in body] == [(late.due_on, book["a_company"].name)]
