"""The outbox shows each user the messages of the clients they may see (masked numbers, the
reason of a failure); templates are read by staff, edited by administrators, previewed for a
client the user may see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fincrm.engagement.models import MessageTemplate
from fincrm.messaging.models import Message
from fincrm.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(book):
    a = Message.objects.create(customer=book["a_person"], channel="sms", address="13812345678",
                               text="春节快乐", status="failed",
                               reason="isv.MOBILE_NUMBER_ILLEGAL: 非法手机号")  # fmt: skip
    b = Message.objects.create(customer=book["b_person"], channel="sms", address="13987654321",
                               text="中秋快乐", status="sent")  # fmt: skip
    return a, b


def test_a_manager_sees_the_messages_of_own_clients_masked_with_the_reason(
    users, login, outbox, book, django_assert_max_num_queries
):
    browser = login(users["manager_a"])
    with django_assert_max_num_queries(30) as few:
        page = browser.get(reverse("messaging:outbox"))
    html = page.content.decode()
    for n in range(20):  # more messages, more clients: the same queries
        client = CustomerFactory(owner=users["manager_a"])
        Message.objects.create(customer=client, channel="sms", text=str(n), address="1")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert browser.get(reverse("messaging:outbox")).status_code == 200
    assert page.status_code == 200
    assert "138****5678" in html and "13812345678" not in html
    assert "isv.MOBILE_NUMBER_ILLEGAL" in html
    assert "139****4321" not in html  # manager_b's client


def test_the_outbox_filters_by_status(users, login, outbox):
    page = login(users["admin"]).get(reverse("messaging:outbox"), {"status": "sent"})
    html = page.content.decode()
    assert "139****4321" in html and "138****5678" not in html


def test_a_lead_sees_the_team_and_an_outsider_nothing(users, login, outbox, client):
    assert "138****5678" in login(users["lead"]).get(reverse("messaging:outbox")).content.decode()
    client.logout()
    html = login(users["outsider"]).get(reverse("messaging:outbox")).content.decode()
    assert "****" not in html
    client.logout()
    assert client.get(reverse("messaging:outbox")).status_code == 302  # to the login


def test_templates_are_edited_by_administrators_only(users, login, client):
    data = {"occasion": "spring_festival", "language": "zh-hans", "channel": "sms",
            "body": "{contact}您好：{occasion}快乐！——{manager}", "provider_code": "SMS_4627",
            "is_active": "on"}  # fmt: skip
    refused = login(users["manager_a"]).post(reverse("messaging:template_new"), data)
    assert refused.status_code == 403 and not MessageTemplate.objects.exists()
    assert client.get(reverse("messaging:templates")).status_code == 200  # staff read them
    client.logout()
    login(users["admin"]).post(reverse("messaging:template_new"), data)
    template = MessageTemplate.objects.get()
    assert (template.provider_code, template.channel) == ("SMS_4627", "sms")
    client.logout()
    assert login(users["outsider"]).get(reverse("messaging:templates")).status_code == 403


def test_a_template_is_previewed_for_a_client_the_user_may_see(users, login, book):
    template = MessageTemplate.objects.create(
        occasion="spring_festival", language="zh-hans", channel="sms",
        body="{contact}您好：{occasion}快乐！——{manager}",
    )  # fmt: skip
    user = users["manager_a"]
    user.last_name, user.first_name = "张", "伟"
    user.save()
    url = reverse("messaging:template_edit", args=[template.pk])
    page = login(user).get(url, {"client": book["a_person"].pk})
    assert "王建国您好：春节快乐！——张伟" in page.content.decode()
    assert login(user).get(url, {"client": book["b_person"].pk}).status_code == 404


def test_gateways_push_replies_and_delivery_reports_to_the_secret_inbound_url(
    client, book, users, login
):
    import json

    from fincrm.messaging.models import Consent
    from fincrm.messaging.services import inbound_token

    sent = Message.objects.create(customer=book["a_person"], channel="sms", address="1",
                                  text="a", status="sent", provider_id="2019:-1234")  # fmt: skip
    other = Message.objects.create(customer=book["b_person"], channel="sms", address="1",
                                   text="b", status="sent", provider_id="900619746936")  # fmt: skip
    url = reverse("messaging:inbound", args=[inbound_token()])
    post = lambda body: client.post(url, json.dumps(body), content_type="application/json")  # noqa: E731
    assert client.post(reverse("messaging:inbound", args=["guess"]), "{}",
                       content_type="application/json").status_code == 404  # fmt: skip
    # Tencent Cloud's status callback, then a reply "TD" in its reply callback format.
    answer = post(
        [
            {
                "user_receive_time": "2027-02-06 10:00:01",
                "mobile": "13800138000",
                "report_status": "SUCCESS",
                "errmsg": "DELIVRD",
                "sid": "2019:-1234",
            }
        ]
    )
    assert answer.json() == {"opted_out": 0, "reports": 1}
    sent.refresh_from_db()
    assert sent.status == "delivered" and sent.delivered_at
    assert post([{"mobile": book["a_person"].phone, "text": "TD", "sign": "恒信"}]).json() == {
        "opted_out": 1, "reports": 0}  # fmt: skip
    assert Consent.objects.get(customer=book["a_person"]).source == "sms_reply"
    # Alibaba Cloud's report push: not delivered, with the carrier's code.
    post([{"phone_number": "13900000000", "success": False, "biz_id": "900619746936",
           "err_code": "MK:0001", "err_msg": "用户停机"}])  # fmt: skip
    other.refresh_from_db()
    assert (other.status, other.reason) == ("failed", "MK:0001: 用户停机")
    # The generic format.
    assert post({"from": book["b_person"].phone, "text": "退订"}).json()["opted_out"] == 1
    assert client.post(url, "x", content_type="application/json").status_code == 400
    assert "inbound/" + inbound_token() in login(users["admin"]).get(
        reverse("messaging:outbox")).content.decode()  # fmt: skip
    client.logout()
    assert inbound_token() not in login(users["manager_a"]).get(
        reverse("messaging:outbox")).content.decode()  # fmt: skip


def test_sending_a_care_task_by_sms_goes_through_the_gateway(users, login, book, settings, clock):
    from datetime import date

    from fincrm.engagement.models import Interaction, Task
    from fincrm.messaging.services import messages_deliver_due

    from .fakes import FakeServer

    server = FakeServer(lambda request: (200, {}))
    settings.FINCRM_SMS_URL = f"http://{server.host}/sms"
    task = Task.objects.create(customer=book["a_person"], owner=users["manager_a"], kind="care",
                               title="春节 · 02-06", detail="春节快乐", channel="sms",
                               due_on=date(2026, 6, 15))  # fmt: skip
    url = reverse("engagement:care_send", args=[task.pk])
    browser = login(users["manager_a"])
    assert browser.post(url, {"channel": "sms", "message": "王先生，春节快乐"}).status_code == 302
    message = Message.objects.get(task=task)
    assert (message.status, message.created_by, message.kind) == ("queued", users["manager_a"],
                                                                  "care")  # fmt: skip
    task.refresh_from_db()
    assert task.status == "open"  # closed once the gateway has it
    assert messages_deliver_due() == 1
    task.refresh_from_db()
    assert task.status == "done" and server.requests[0].json()["text"] == "王先生，春节快乐"
    assert Interaction.objects.get(customer=book["a_person"]).created_by == users["manager_a"]
    server.close()

    # A visit has no gateway: recorded at once, as before.
    visit = Task.objects.create(customer=book["a_person"], owner=users["manager_a"], kind="care",
                                title="生日", detail="生日快乐", channel="visit",
                                due_on=date(2026, 6, 15))  # fmt: skip
    browser.post(reverse("engagement:care_send", args=[visit.pk]),
                 {"channel": "visit", "message": "生日快乐"})  # fmt: skip
    visit.refresh_from_db()
    assert visit.status == "done" and not Message.objects.filter(task=visit).exists()
    # Blocked (opted out): the task stays open and the reason is shown.
    from fincrm.messaging.services import consent_set

    consent_set(customer=book["a_person"], channel="sms", status="opted_out", source="staff")
    again = Task.objects.create(customer=book["a_person"], owner=users["manager_a"], kind="care",
                                title="中秋", detail="中秋快乐", channel="sms",
                                due_on=date(2026, 6, 15))  # fmt: skip
    response = browser.post(reverse("engagement:care_send", args=[again.pk]),
                            {"channel": "sms", "message": "中秋快乐"}, follow=True)  # fmt: skip
    again.refresh_from_db()
    assert again.status == "open" and "客户已退订该渠道" in response.content.decode()
    client_b = login(users["manager_b"])
    assert client_b.post(reverse("engagement:care_send", args=[again.pk]),
                         {"channel": "sms", "message": "x"}).status_code == 404  # fmt: skip
