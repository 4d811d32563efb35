"""The issue's check on a small book: ``fincrm daily --as-of 2027-02-06`` (Spring Festival)
then ``fincrm db_worker --batch`` send the SMS-tier clients' greetings through a local JSON
gateway, each to a mainland mobile in Chinese, each logged as an SMS interaction."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.management import call_command
from django.utils import timezone

from fincrm.engagement.models import Interaction, Task
from fincrm.evaluation.models import Classification
from fincrm.messaging.models import Message
from fincrm.testing.factories import ContactFactory, CustomerFactory

from .fakes import FakeServer

pytestmark = pytest.mark.django_db
SPRING_FESTIVAL = date(2027, 2, 6)


def _tier(customer, tier: str) -> None:
    now = timezone.now()
    Classification.objects.create(
        customer=customer, tier=tier, tier_since=now, value_score=30.0, grade="BBB",
        size_band="small", lifecycle="active", evaluated_at=now,
    )  # fmt: skip


@pytest.fixture
def gateway(settings):
    server = FakeServer(lambda request: (200, {"ok": True}))
    settings.FINCRM_SMS_URL = f"http://{server.host}/sms"
    yield server
    server.close()


def test_spring_festival_greetings_go_to_the_sms_tier_by_the_worker(
    users, gateway, django_capture_on_commit_callbacks, monkeypatch
):
    # The worker drops a connection it finds inside a transaction (close_old_connections, on
    # PostgreSQL): here the test's own transaction holds the book, so it keeps it.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    # No monthly report here (fincrm.reports' tests): its delivery, logged, would have the
    # worker re-evaluate the key client out of the tier this test gives it by hand.
    monkeypatch.setattr("fincrm.reports.services.REPORT_TIERS", ())
    manager = users["manager_a"]
    low = [CustomerFactory(owner=manager, person=True) for _ in range(3)]
    company = CustomerFactory(owner=manager, phone="")  # reached through its key contact
    key_contact = ContactFactory(customer=company, is_key=True, phone="13612345678")
    low.append(company)
    for client in low:
        _tier(client, "low")  # the low tier's care plan: Spring Festival by SMS
    by_phone = CustomerFactory(owner=manager)
    _tier(by_phone, "key")  # the key tier's plan calls: stays a task
    ordinary = CustomerFactory(owner=manager)
    _tier(ordinary, "ordinary")  # WeChat: no WeChat gateway here, so a task as well

    with django_capture_on_commit_callbacks(execute=True):
        call_command("daily", as_of=SPRING_FESTIVAL)
    assert len(gateway.requests) == 0  # queued, not sent: the worker sends
    assert Message.objects.filter(status="queued").count() == 4
    call_command("db_worker", batch=True, startup_delay=False, interval=0, reload=False)

    assert len(gateway.requests) == 4
    bodies = [r.json() for r in gateway.requests]
    for body in bodies:
        assert re.fullmatch(r"1[3-9]\d{9}", body["to"])  # a mainland mobile
        assert re.search(r"[\u4e00-\u9fff]", body["text"]) and "春节" in body["text"]
    expected = {c.phone for c in low if c.phone} | {key_contact.phone}
    assert {b["to"] for b in bodies} == expected
    assert {b["id"] for b in bodies} == {str(m.pk) for m in Message.objects.all()}
    for client in low:
        interaction = Interaction.objects.get(customer=client)
        assert interaction.channel == "sms" and "春节" in interaction.summary
        message = Message.objects.get(customer=client)
        assert (message.status, message.source_key) == ("sent", "care:spring_festival:2027")
        assert message.interaction == interaction
    assert not Interaction.objects.filter(customer__in=[by_phone, ordinary]).exists()

    # Run again: nothing is sent twice.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("daily", as_of=SPRING_FESTIVAL)
    call_command("db_worker", batch=True, startup_delay=False, interval=0, reload=False)
    assert len(gateway.requests) == 4 and Message.objects.count() == 4


def test_an_open_care_task_is_sent_as_drafted_and_closed(users, gateway, settings, clock):
    from fincrm.engagement.care import care_tasks_plan
    from fincrm.messaging.care import care_messages_queue
    from fincrm.messaging.services import messages_deliver_due

    client = CustomerFactory(owner=users["manager_a"], person=True)
    _tier(client, "low")
    care_tasks_plan(as_of=date(2027, 2, 5), horizon_days=3)  # the low tier: one day ahead
    task = Task.objects.get(customer=client, source_key="care:spring_festival:2027")
    task.detail = "王总：新春快乐，万事如意！"
    task.save()
    assert care_messages_queue(as_of=SPRING_FESTIVAL) == 1
    assert messages_deliver_due() == 1
    assert gateway.requests[0].json()["text"] == "王总：新春快乐，万事如意！"
    task.refresh_from_db()
    assert task.status == "done"


def test_no_gateway_leaves_care_to_the_tasks(users, settings):
    from fincrm.messaging.care import care_messages_queue

    settings.FINCRM_SMS_URL = settings.FINCRM_WECHAT_URL = ""
    _tier(CustomerFactory(owner=users["manager_a"], person=True), "low")
    assert care_messages_queue(as_of=SPRING_FESTIVAL) == 0
    assert not Message.objects.exists()
