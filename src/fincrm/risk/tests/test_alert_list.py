"""The alerts and reviews pages: a page at a time, filtered, sorted by column, scoped."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fincrm.risk.choices import AlertStatus, Severity
from fincrm.risk.models import Alert, Review
from fincrm.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _alert(customer, *, severity=Severity.LOW, rule="contact_lost", days_ago=0, **kw):
    return Alert.objects.create(
        customer=customer,
        rule_code=rule,
        signal="days_since_successful_contact" if rule == "contact_lost" else "current_dpd",
        value=200,
        threshold=180,
        severity=severity,
        raised_on=date(2026, 6, 1),
        raised_at=timezone.now() - timedelta(days=days_ago),
        assigned_to=customer.owner,
        **kw,
    )


def _rows(response) -> list[int]:
    return [a.pk for a in response.context["object_list"]]


def test_alerts_come_a_page_at_a_time_worst_first(book, login):
    firm = book["a_company"]
    lows = [_alert(firm, days_ago=i) for i in range(30)]
    critical = _alert(firm, severity=Severity.CRITICAL, rule="dpd_90", days_ago=40)
    client = login(firm.owner)
    first = client.get(reverse("risk:alerts"))
    assert _rows(first)[0] == critical.pk  # the oldest, but the worst
    assert len(_rows(first)) == 25 and first.context["page_obj"].has_next()
    second = client.get(reverse("risk:alerts") + "?page=2")
    assert len(_rows(second)) == 6
    assert set(_rows(first)) | set(_rows(second)) == {critical.pk, *(a.pk for a in lows)}
    html = first.content.decode()
    assert "90天以上" in html  # the rule by its name, not dpd_90
    assert ">200<" in html and "200.00" not in html  # 200 days, whole


def test_alerts_filter_by_severity_rule_and_client_and_sort_by_column(book, login):
    firm, person = book["a_company"], book["a_person"]
    old = _alert(firm, days_ago=5)
    new = _alert(person, days_ago=1)
    critical = _alert(firm, severity=Severity.CRITICAL, rule="dpd_90")
    client = login(firm.owner)
    url = reverse("risk:alerts")
    assert _rows(client.get(url + "?severity=critical")) == [critical.pk]
    assert _rows(client.get(url + "?rule_code=contact_lost&o=-raised")) == [new.pk, old.pk]
    assert _rows(client.get(url + "?rule_code=contact_lost&o=raised")) == [old.pk, new.pk]
    assert _rows(client.get(url + f"?q={person.name}")) == [new.pk]


def test_closed_alerts_show_only_when_asked_for(book, login):
    firm = book["a_company"]
    open_one = _alert(firm)
    closed = _alert(firm, status=AlertStatus.RESOLVED)
    client = login(firm.owner)
    assert _rows(client.get(reverse("risk:alerts"))) == [open_one.pk]
    assert _rows(client.get(reverse("risk:alerts") + "?status=resolved")) == [closed.pk]


def test_a_manager_sees_no_alert_of_another_managers_client(book, users, login):
    _alert(book["b_company"])
    assert _rows(login(users["manager_a"]).get(reverse("risk:alerts"))) == []
    assert len(_rows(login(users["risk"]).get(reverse("risk:alerts")))) == 1


def test_reviews_page_filters_sorts_and_pages(book, users, login, clock):
    today = timezone.localdate()
    reviews = [
        Review.objects.create(
            customer=CustomerFactory(owner=users["manager_a"]),
            due_on=today + timedelta(days=i - 3),
            frequency="yearly",
            grade="BBB",
        )
        for i in range(30)
    ]
    client = login(users["risk"])
    first = client.get(reverse("risk:reviews"))
    assert _rows(first) == [r.pk for r in reviews[:25]]
    assert _rows(client.get(reverse("risk:reviews") + "?show=overdue")) == [
        r.pk for r in reviews[:3]
    ]
    by_due = client.get(reverse("risk:reviews") + "?o=-due")
    assert _rows(by_due)[0] == reviews[-1].pk
    before = (today + timedelta(days=0)).isoformat()
    assert len(_rows(client.get(reverse("risk:reviews") + f"?due_before={before}"))) == 4
