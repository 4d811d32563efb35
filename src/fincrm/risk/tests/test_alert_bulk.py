"""Bulk actions on the alerts list: a confirmation with the count, then the change and a
message with the count; only alerts the user may act on."""

from datetime import date, timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from fincrm.risk.choices import AlertStatus, Severity
from fincrm.risk.models import Alert

pytestmark = pytest.mark.django_db


def _alert(customer, **kw):
    return Alert.objects.create(
        customer=customer, rule_code="contact_lost", severity=Severity.MEDIUM,
        signal="days_since_successful_contact", value=200, threshold=180,
        raised_on=date(2026, 6, 1), raised_at=timezone.now(), **kw,
    )  # fmt: skip


def _post(client, alerts, action, **extra):
    data = {"alert": [a.pk for a in alerts], "action": action, **extra}
    return client.post(reverse("risk:alert_bulk"), data)


def test_it_asks_first_then_acknowledges_and_says_how_many(login, users, book):
    alerts = [_alert(book["a_company"]), _alert(book["a_person"])]
    client = login(users["manager_a"])
    ask = _post(client, alerts, "ack")
    assert ask.status_code == 200 and len(ask.context["alerts"]) == 2
    assert Alert.objects.filter(status=AlertStatus.OPEN).count() == 2  # nothing yet
    done = _post(client, alerts, "ack", confirm="yes")
    assert done.status_code == 302
    assert Alert.objects.filter(status=AlertStatus.ACKNOWLEDGED).count() == 2
    assert [str(m) for m in get_messages(done.wsgi_request)] == ["已处理 2 条预警。"]


def test_it_resolves_with_the_text_given_and_needs_one(login, users, book):
    alert = _alert(book["a_company"])
    client = login(users["manager_a"])
    _post(client, [alert], "resolve", confirm="yes", text="")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN  # no resolution, no change
    _post(client, [alert], "resolve", confirm="yes", text="已电话核实")
    alert.refresh_from_db()
    assert (alert.status, alert.resolution) == (AlertStatus.RESOLVED, "已电话核实")


def test_alerts_the_user_may_not_act_on_are_left_alone(login, users, book):
    theirs = _alert(book["b_company"])
    mine = _alert(book["a_company"])
    _post(login(users["manager_a"]), [theirs, mine], "dismiss", confirm="yes", text="重复")
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.status == AlertStatus.OPEN and mine.status == AlertStatus.DISMISSED
    # An executive sees every alert and acts on none.
    response = _post(login(users["exec"]), [theirs], "ack", confirm="yes")
    theirs.refresh_from_db()
    assert response.status_code == 302 and theirs.status == AlertStatus.OPEN


def test_the_list_has_the_ticks_and_the_bar(login, users, book):
    alert = _alert(book["a_company"])
    html = login(users["manager_a"]).get(reverse("risk:alerts")).content.decode()
    assert 'id="bulk-alerts"' in html and f'value="{alert.pk}" form="bulk-alerts"' in html


def test_snoozed_alerts_leave_the_working_list_until_their_day(login, users, book, clock):
    mine, other = _alert(book["a_company"]), _alert(book["a_person"])
    theirs = _alert(book["b_company"])
    client = login(users["manager_a"])
    ask = _post(client, [mine, theirs], "snooze", days="7")
    assert ask.status_code == 200 and ask.context["days"] == 7 and ask.context["skipped"] == 1
    assert "7 天" in ask.content.decode()
    assert Alert.objects.filter(snoozed_until__isnull=False).count() == 0  # nothing yet

    done = _post(client, [mine, theirs], "snooze", days="7", confirm="yes")
    said = [str(m) for m in get_messages(done.wsgi_request)]
    assert said == ["已处理 1 条预警。 另有 1 条勾选的记录无权修改，保持不变。"]
    mine.refresh_from_db()
    theirs.refresh_from_db()
    today = timezone.localdate()
    assert mine.snoozed_until == today + timedelta(days=7) and mine.status == AlertStatus.OPEN
    assert theirs.snoozed_until is None  # another manager's: left alone
    assert mine.history.first().history_user == users["manager_a"]  # audited

    listed = client.get(reverse("risk:alerts")).context["object_list"]
    assert [a.pk for a in listed] == [other.pk]
    snoozed = client.get(reverse("risk:alerts") + "?snoozed=on").context["object_list"]
    assert [a.pk for a in snoozed] == [mine.pk]
    clock.move_to(timezone.now() + timedelta(days=7))  # its day: back in the list
    client = login(users["manager_a"])  # a week later the session has expired
    back = client.get(reverse("risk:alerts")).context["object_list"]
    assert {a.pk for a in back} == {mine.pk, other.pk}


def test_a_snooze_needs_1_to_30_days(login, users, book):
    alert = _alert(book["a_company"])
    client = login(users["manager_a"])
    for days in ("", "0", "31"):
        response = _post(client, [alert], "snooze", days=days, confirm="yes")
        assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.snoozed_until is None
