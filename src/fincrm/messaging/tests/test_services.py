"""message_send end to end against a local JSON gateway: queued, sent with retries and
back-off, logged as an interaction; the rules read from real clients; opt-outs by SMS reply
and by the e-mail link."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from fincrm.engagement.models import Interaction
from fincrm.messaging import services
from fincrm.messaging.choices import BlockReason, ConsentStatus, MessageStatus
from fincrm.messaging.models import Consent, Message
from fincrm.messaging.services import (
    MAX_ATTEMPTS,
    MSG_NO_GATEWAY,
    backoff,
    message_send,
    messages_deliver_due,
    sms_reply_receive,
)
from fincrm.testing.factories import ContactFactory, FacilityFactory

from .fakes import FakeServer

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _daytime(clock):
    """10:00 in Shanghai: outside the quiet hours, whatever the real time."""


@pytest.fixture
def gateway(settings):
    """A generic JSON SMS gateway on 127.0.0.1 answering the codes it is given, in turn."""
    codes: list[int] = []

    def answer(request):
        return (codes.pop(0) if codes else 200), b""

    server = FakeServer(answer)
    server.codes = codes
    settings.FINCRM_SMS_URL = f"http://{server.host}/send"
    yield server
    server.close()


def _due_now():
    Message.objects.filter(status=MessageStatus.QUEUED).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_a_message_is_queued_sent_and_logged_as_an_interaction(book, users, gateway, caplog):
    client = book["a_person"]
    with caplog.at_level(logging.INFO, logger="fincrm.messaging.services"):
        message = message_send(customer=client, channel="sms", text="王先生，春节快乐！",
                               created_by=users["manager_a"])  # fmt: skip
        assert message.status == MessageStatus.QUEUED and message.address == client.phone
        assert messages_deliver_due() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.provider_id) == ("sent", 1, str(message.pk))
    request = gateway.requests[0]
    assert request.json() == {
        "to": client.phone,
        "text": "王先生，春节快乐！",
        "id": str(message.pk),
    }
    interaction = Interaction.objects.get(customer=client)
    assert (interaction.channel, interaction.summary) == ("sms", "王先生，春节快乐！")
    assert interaction.created_by == users["manager_a"] and message.interaction == interaction
    # Logs show the number masked, never in full.
    assert client.phone not in caplog.text and message.address_masked in caplog.text
    assert message.address_masked == client.phone[:3] + "****" + client.phone[-4:]


def test_failures_are_retried_with_exponential_back_off_then_sent(book, gateway):
    gateway.codes.extend([503, 502])
    message = message_send(customer=book["a_person"], channel="sms", text="提醒")
    before = timezone.now()
    messages_deliver_due()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.reason) == ("queued", 1, "HTTP 503")
    assert before + backoff(1) <= message.next_attempt_at <= timezone.now() + backoff(1)
    assert messages_deliver_due() == 0  # not due yet: nothing goes early
    _due_now()
    messages_deliver_due()
    message.refresh_from_db()
    assert message.attempts == 2 and message.next_attempt_at > timezone.now() + backoff(1)
    assert backoff(2) == 2 * backoff(1) and backoff(3) == 4 * backoff(1)
    _due_now()
    messages_deliver_due()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.reason) == ("sent", 3, "")
    assert Interaction.objects.filter(customer=book["a_person"], channel="sms").count() == 1


def test_a_refusal_fails_at_once_and_the_attempts_are_limited(book, gateway):
    gateway.codes.extend([400] + [500] * MAX_ATTEMPTS)
    refused = message_send(customer=book["a_person"], channel="sms", text="x")
    messages_deliver_due()
    refused.refresh_from_db()
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert refused.reason.startswith("HTTP 400")
    down = message_send(customer=book["b_person"], channel="sms", text="y")
    for _ in range(MAX_ATTEMPTS):
        _due_now()
        messages_deliver_due()
    down.refresh_from_db()
    assert (down.status, down.attempts, down.reason) == ("failed", MAX_ATTEMPTS, "HTTP 500")
    assert not Interaction.objects.exists()


def test_quiet_hours_hold_a_greeting_until_eight_but_not_an_urgent_reminder(book, gateway):
    with time_machine.travel(datetime(2027, 2, 6, 22, 30, tzinfo=SH), tick=False):
        greeting = message_send(customer=book["a_person"], channel="sms", text="新春快乐")
        reminder = message_send(customer=book["b_person"], channel="sms", text="今日还款到期",
                                urgent=True)  # fmt: skip
        assert greeting.next_attempt_at == datetime(2027, 2, 7, 8, 0, tzinfo=SH)
        assert reminder.next_attempt_at == timezone.now()
        assert messages_deliver_due() == 1
    assert [r.json()["text"] for r in gateway.requests] == ["今日还款到期"]
    with time_machine.travel(datetime(2027, 2, 7, 8, 0, 1, tzinfo=SH), tick=False):
        assert messages_deliver_due() == 1
    assert Message.objects.get(pk=greeting.pk).status == "sent"


def test_the_rules_are_read_from_the_clients_book(book, users, gateway):
    person, company = book["a_person"], book["a_company"]
    FacilityFactory(customer=company, days_past_due=5)
    offer = message_send(customer=company, channel="sms", text="新品上线", marketing=True)
    assert (offer.status, offer.reason) == ("blocked", BlockReason.IN_COLLECTIONS)
    assert offer.reason_display == str(BlockReason.IN_COLLECTIONS.label)
    dunning = message_send(customer=company, channel="sms", text="您的贷款已逾期", urgent=True)
    assert dunning.status == "queued"
    # The frequency cap of an unevaluated client (ordinary tier: two SMS a week).
    assert [message_send(customer=person, channel="sms", text=str(i)).status
            for i in range(3)] == ["queued", "queued", "blocked"]  # fmt: skip
    assert (
        Message.objects.filter(customer=person).order_by("pk").last().reason
        == BlockReason.FREQUENCY_CAP
    )


def test_a_company_without_a_mobile_is_reached_through_its_key_contact(book, gateway):
    company = book["b_company"]
    company.phone = "0755-88886666"  # a landline: no SMS
    company.save()
    ContactFactory(customer=company, is_key=False, phone="13711112222")
    key = ContactFactory(customer=company, is_key=True, phone="+86 139 0000 1111")
    message = message_send(customer=company, channel="sms", text="节日快乐")
    assert (message.address, message.contact) == ("13900001111", key)
    nobody = message_send(customer=book["a_company"], channel="wechat", text="x")
    assert (nobody.status, nobody.reason) == ("blocked", BlockReason.NO_ADDRESS)


def test_an_open_complaint_stops_marketing_but_not_service(book, gateway):
    from fincrm.service.models import Ticket

    client = book["a_person"]
    now = timezone.now()
    Ticket.objects.create(customer=client, channel="phone", subject="收费",
                          description="收费不透明", category="fees", respond_by=now,
                          resolve_by=now)  # fmt: skip
    offer = message_send(customer=client, channel="sms", text="优惠", marketing=True)
    assert (offer.status, offer.reason) == ("blocked", BlockReason.OPEN_COMPLAINT)
    assert message_send(customer=client, channel="sms", text="回访").status == "queued"


def test_marketing_sms_carry_the_opt_out_hint_and_a_td_reply_opts_out(book, gateway):
    client = book["a_person"]
    offer = message_send(customer=client, channel="sms", text="新客专享", marketing=True)
    assert offer.text == "新客专享 拒收请回复TD"
    assert sms_reply_receive(phone="+86" + client.phone, text="好的") == 0
    assert sms_reply_receive(phone="+86" + client.phone, text=" td ") == 1
    assert Consent.objects.get(customer=client, channel="sms").status == ConsentStatus.OPTED_OUT
    after = message_send(customer=client, channel="sms", text="活动")
    assert (after.status, after.reason) == ("blocked", BlockReason.OPTED_OUT)
    assert message_send(customer=client, channel="sms", text="验证码", urgent=True).status == (
        "queued"
    )
    assert sms_reply_receive(phone=book["b_person"].phone, text="退订") == 1


def test_the_same_source_key_sends_once_and_no_gateway_is_a_visible_failure(book, settings):
    settings.FINCRM_SMS_URL = ""
    first = message_send(customer=book["a_person"], channel="sms", text="a", source_key="k:1")
    again = message_send(customer=book["a_person"], channel="sms", text="b", source_key="k:1")
    assert first.pk == again.pk and Message.objects.count() == 1
    assert (first.status, first.reason) == ("failed", str(MSG_NO_GATEWAY))


def test_e_mails_carry_an_unsubscribe_link_that_works(book, client, settings):
    settings.FINCRM_EMAIL_URL = "locmem://"
    customer = book["a_person"]
    customer.email = "wang@example.cn"
    customer.save()
    message = message_send(customer=customer, channel="email", text="您的月度报告", subject="报告")
    messages_deliver_due()
    (sent,) = mail.outbox
    link = sent.extra_headers["List-Unsubscribe"].strip("<>")
    assert link in sent.body and sent.extra_headers["List-Unsubscribe-Post"]
    path = link.removeprefix(settings.FINCRM_BASE_URL.rstrip("/"))
    assert client.get(path).status_code == 200
    assert not Consent.objects.exists()  # a GET (a mail scanner) changes nothing
    assert client.post(path).status_code == 200
    consent = Consent.objects.get(customer=customer, channel="email")
    assert (consent.status, consent.source) == ("opted_out", "link")
    assert message_send(customer=customer, channel="email", text="x").status == "blocked"
    assert client.post(path[:-3] + "xx/").status_code == 404  # a tampered token
    assert Message.objects.get(pk=message.pk).status == "sent"


def test_an_sms_survey_invitation_carries_its_one_time_link(book, gateway):
    from fincrm.surveys.models import Survey
    from fincrm.surveys.services import answer_url, survey_invite

    survey = Survey.objects.create(name="满意度调查", channel="sms", trigger="manual")
    invitation, token = survey_invite(survey=survey, customer=book["a_person"], cause="test")
    message = Message.objects.get(source_key=f"survey:{invitation.pk}")
    assert message.text.endswith(answer_url(token)) and message.kind == "survey"
    messages_deliver_due()
    assert answer_url(token) in gateway.requests[0].json()["text"]


def test_the_token_link_is_signed(book):
    url = services.unsubscribe_url(book["a_person"].pk)
    token = url.rstrip("/").rsplit("/", 1)[-1]
    assert services.unsubscribe_token_read(token) == (book["a_person"].pk, "email")
    assert services.unsubscribe_token_read(token + "x") is None


def test_many_messages_are_queued_in_as_many_queries_for_thirty_clients_as_for_three(
    users, gateway
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fincrm.messaging.services import Outline, messages_send
    from fincrm.testing.factories import CustomerFactory

    few = [CustomerFactory(owner=users["manager_a"], person=True) for _ in range(3)]
    many = [CustomerFactory(owner=users["manager_a"], person=True) for _ in range(30)]
    for clients in (few, many):  # each with a company reached through its key contact
        company = CustomerFactory(owner=users["manager_a"], phone="")
        ContactFactory(customer=company, is_key=True)
        clients.append(company)
    messages_send(outlines=[], channel="sms")  # the policy read and cached once
    counts = []
    for clients in (few, many):
        with CaptureQueriesContext(connection) as queries:
            sent = messages_send(outlines=[Outline(customer=c, text="节日快乐") for c in clients],
                                 channel="sms")  # fmt: skip
        counts.append(len(queries.captured_queries))
        assert [m.status for m in sent] == ["queued"] * len(clients)
    assert counts[0] == counts[1]
    # One batch counts its own messages against the cap (ordinary: two SMS a week).
    again = messages_send(outlines=[Outline(customer=few[0], text=str(i)) for i in range(2)],
                          channel="sms")  # fmt: skip
    assert [m.status for m in again] == ["queued", "blocked"]
