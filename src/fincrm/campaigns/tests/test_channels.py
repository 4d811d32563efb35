"""Multi-channel campaigns: a template per channel, each client reached on one channel (its
preferred one when allowed, else the next in the campaign's order), skips counted by reason,
results by channel, the form's preview, the API round trip, a single-channel campaign carried
over by the data migration."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fincrm.api.models import ApiToken
from fincrm.campaigns.choices import Group
from fincrm.campaigns.models import Campaign, CampaignChannel, Recipient
from fincrm.campaigns.services import (
    MSG_B_EVERY_CHANNEL,
    campaign_channel_results,
    campaign_create,
    campaign_launch,
    campaign_results,
    group_of,
)
from fincrm.engagement.models import MessageTemplate
from fincrm.messaging.choices import BlockReason
from fincrm.messaging.models import Message
from fincrm.messaging.protection import route
from fincrm.messaging.services import consent_set, inbound_token, message_delivery_report
from fincrm.testing.factories import CustomerFactory, FacilityFactory, TicketFactory

pytestmark = pytest.mark.django_db

SMS, WECHAT, EMAIL = "sms", "wechat", "email"


@pytest.fixture(autouse=True)
def _gateways(clock, settings):
    settings.FINCRM_SMS_URL = "http://127.0.0.1:9/sms"  # configured; nothing is sent here
    settings.FINCRM_WECHAT_URL = "http://127.0.0.1:9/wechat"
    settings.FINCRM_BASE_URL = "https://crm.example.cn"


# --- the route, as a table ------------------------------------------------------------------

OK, NO, OUT, COLL = None, BlockReason.NO_ADDRESS, BlockReason.OPTED_OUT, BlockReason.IN_COLLECTIONS


@pytest.mark.parametrize(
    ("preferred", "order", "refusals", "expected"),
    [
        # The preferred channel first when the campaign has it and the rules allow it.
        (EMAIL, [SMS, EMAIL], {SMS: OK, EMAIL: OK}, (EMAIL, None)),
        # Preferred refused: the campaign's order, from the top.
        (EMAIL, [SMS, WECHAT, EMAIL], {SMS: NO, WECHAT: OK, EMAIL: OUT}, (WECHAT, None)),
        # A preference the campaign does not use (a phone call, or WeChat here) is no help.
        ("phone", [SMS, EMAIL], {SMS: NO, EMAIL: OK}, (EMAIL, None)),
        (WECHAT, [EMAIL, SMS], {EMAIL: OK, SMS: OK}, (EMAIL, None)),
        # None allowed: the first tried with an address gives the reason …
        (EMAIL, [SMS, EMAIL], {SMS: OUT, EMAIL: NO}, (SMS, OUT)),
        (EMAIL, [SMS, EMAIL], {SMS: COLL, EMAIL: COLL}, (EMAIL, COLL)),
        # … and with no address anywhere, the first tried.
        ("", [WECHAT, SMS], {WECHAT: NO, SMS: NO}, (WECHAT, NO)),
    ],
)
def test_the_route_prefers_the_clients_channel_then_the_campaigns_order(
    preferred, order, refusals, expected
):
    assert route(preferred=preferred, order=order, refusals=refusals) == expected


# --- a launch on a book counted by hand -----------------------------------------------------


def _client(owner, *, phone="", email="", prefers="", wechat="", contact_phone=""):
    """A client with only the addresses given; ``prefers``/``wechat``: its key contact's
    preferred channel and WeChat id."""
    client = CustomerFactory(owner=owner, phone=phone, email=email)
    if prefers or wechat or contact_phone:
        client.contacts.create(
            name="联系人",
            is_key=True,
            preferred_channel=prefers or "phone",
            wechat_id=wechat,
            phone=contact_phone,
        )
    return client


@pytest.fixture
def book(users):
    """Twelve clients of manager_a for a campaign tried SMS → e-mail → WeChat:

    ====  =======================================  ===========================
    c1    mobile, no preference                    SMS
    c2    mobile and e-mail, prefers e-mail        e-mail (preferred)
    c3    WeChat id only, prefers WeChat           WeChat (preferred)
    c4    mobile, prefers WeChat but has no id     SMS (fallback: order)
    c5    mobile (opted out of SMS) and e-mail     e-mail (fallback)
    c6    mobile (opted out of SMS) only           skipped: opted out
    c7    no address at all                        skipped: no address
    c8    mobile and e-mail, 12 days past due      skipped: in collections
    c9    prefers e-mail (opted out of it), mobile SMS (fallback)
    c10   e-mail only, an open complaint           skipped: open complaint
    c11   WeChat id only, prefers a phone call     WeChat (last in the order)
    c12   mobile and e-mail, prefers SMS           SMS (preferred)
    ====  =======================================  ===========================

    SMS 4, e-mail 2, WeChat 2, skipped 4 (one of each reason)."""
    m = users["manager_a"]
    c = {
        1: _client(m, phone="13800000001"),
        2: _client(m, phone="13800000002", email="c2@example.cn", prefers=EMAIL),
        3: _client(m, prefers=WECHAT, wechat="wx_c3"),
        4: _client(m, phone="13800000004", prefers=WECHAT),
        5: _client(m, phone="13800000005", email="c5@example.cn"),
        6: _client(m, phone="13800000006"),
        7: _client(m),
        8: _client(m, phone="13800000008", email="c8@example.cn"),
        9: _client(m, phone="13800000009", email="c9@example.cn", prefers=EMAIL),
        10: _client(m, email="c10@example.cn"),
        11: _client(m, prefers="phone", wechat="wx_c11"),
        12: _client(m, phone="13800000012", email="c12@example.cn", prefers=SMS),
    }
    for n, channel in ((5, SMS), (6, SMS), (9, EMAIL)):
        consent_set(customer=c[n], channel=channel, status="opted_out", source="staff")
    FacilityFactory(customer=c[8], days_past_due=12)
    TicketFactory(customer=c[10])
    return c


def _make(user, *, order=(SMS, EMAIL, WECHAT), b=False, share="0", **kw):
    texts = {
        SMS: "{client}您好：专享利率。",
        EMAIL: "尊敬的{client}：专享利率详情。",
        WECHAT: "{client}：专享利率",
    }
    entries = [
        {
            "channel": ch,
            "text": texts[ch],
            "text_b": f"B {texts[ch]}" if b else "",
            "subject": "专享利率" if ch == EMAIL else "",
        }
        for ch in order
    ]
    return campaign_create(
        name="专享利率", created_by=user, channels=entries, control_share=share, **kw
    )


def test_each_client_is_reached_on_one_channel_and_the_skips_are_counted_by_reason(users, book):
    campaign = _make(users["manager_a"])
    summary = campaign_launch(campaign=campaign, user=users["manager_a"])
    assert summary["audience"] == 12 and summary["control"] == 0
    assert summary["queued"] == 8
    assert summary["by_channel"] == {SMS: 4, EMAIL: 2, WECHAT: 2}
    assert summary["skipped"] == {
        "opted_out": 1,
        "no_address": 1,
        "in_collections": 1,
        "open_complaint": 1,
    }
    channel_of = dict(Recipient.objects.values_list("customer_id", "channel"))
    expected = {
        1: SMS,
        2: EMAIL,
        3: WECHAT,
        4: SMS,
        5: EMAIL,
        6: SMS,
        7: SMS,
        8: SMS,
        9: SMS,
        10: EMAIL,
        11: WECHAT,
        12: SMS,
    }
    assert {n: channel_of[c.pk] for n, c in book.items()} == expected
    # One message per client, on its channel, with that channel's text (the opt-out hint on
    # marketing SMS only); the skipped ones blocked on the channel their reason is about.
    messages = {m.customer_id: m for m in Message.objects.all()}
    assert len(messages) == 12
    assert all(messages[c.pk].channel == expected[n] for n, c in book.items())
    assert messages[book[2].pk].text == f"尊敬的{book[2].name}：专享利率详情。"
    assert messages[book[2].pk].subject == "专享利率"
    assert messages[book[3].pk].address == "wx_c3"
    assert messages[book[1].pk].text.endswith("拒收请回复TD")
    blocked = {
        n: messages[c.pk].reason for n, c in book.items() if messages[c.pk].status == "blocked"
    }
    assert blocked == {6: "opted_out", 7: "no_address", 8: "in_collections", 10: "open_complaint"}
    # Launching again sends nothing twice.
    assert campaign_launch(campaign=campaign, user=users["manager_a"]) == summary
    assert Message.objects.count() == 12


def test_the_order_of_the_campaign_decides_the_fallback(users, book):
    """The same book tried WeChat → e-mail → SMS: preferences first as before, the rest in
    the new order."""
    campaign = _make(users["manager_a"], order=(WECHAT, EMAIL, SMS))
    summary = campaign_launch(campaign=campaign, user=users["manager_a"])
    channel_of = dict(Recipient.objects.values_list("customer_id", "channel"))
    got = {n: channel_of[c.pk] for n, c in book.items()}
    # c1 and c4 have a mobile only, c12 prefers SMS; c2, c5 and c9 (e-mail refused, so the
    # order: WeChat none, e-mail opted out, SMS) …
    assert got == {
        1: SMS,
        2: EMAIL,
        3: WECHAT,
        4: SMS,
        5: EMAIL,
        6: SMS,
        7: WECHAT,
        8: EMAIL,
        9: SMS,
        10: EMAIL,
        11: WECHAT,
        12: SMS,
    }
    assert summary["by_channel"] == {SMS: 4, EMAIL: 2, WECHAT: 2}
    # c8 (in collections) is now counted on e-mail, the first channel tried it has an
    # address on; c7 on WeChat, the first of the order.
    assert summary["skipped"] == {
        "opted_out": 1,
        "no_address": 1,
        "in_collections": 1,
        "open_complaint": 1,
    }
    # A campaign on e-mail alone: the SMS-only clients are not reached (no address).
    only_email = _make(users["manager_a"], order=(EMAIL,))
    alone = campaign_launch(campaign=only_email, user=users["manager_a"])
    # e-mail: c2, c5, c9 (opted out), c8 (collections), c10 (complaint), c12 → 3 queued.
    assert alone["by_channel"] == {EMAIL: 3}
    assert alone["skipped"] == {
        "no_address": 6,
        "opted_out": 1,
        "in_collections": 1,
        "open_complaint": 1,
    }


def test_variant_b_goes_on_every_channel_or_none(users):
    with pytest.raises(Exception) as refused:
        campaign_create(
            name="x",
            created_by=users["manager_a"],
            channels=[
                {"channel": SMS, "text": "A", "text_b": "B"},
                {"channel": EMAIL, "text": "A"},
            ],
        )
    assert str(MSG_B_EVERY_CHANNEL) in refused.value.messages


def test_results_by_channel_count_each_group_by_hand(users, book, client, clock):
    """A/B and a control group over the same routes: the control group keeps its would-be
    channel, so each channel compares like with like."""
    from datetime import timedelta

    campaign = _make(users["manager_a"], b=True, share="0.25")
    campaign_launch(campaign=campaign, user=users["manager_a"])
    groups = {n: group_of(campaign.pk, c.pk, control_share=0.25, ab=True) for n, c in book.items()}
    channel_of = {n: Recipient.objects.get(customer=c).channel for n, c in book.items()}
    # By hand: which messages go, then c1's and c2's delivered, c3's failed, c1 replies.
    went = [n for n in (1, 2, 3, 4, 5, 9, 11, 12) if groups[n] != Group.CONTROL]
    Message.objects.filter(customer__in=[book[n] for n in went]).update(status="sent")
    outcome = {1: True, 2: True, 3: False}
    for n, delivered in outcome.items():
        if groups[n] != Group.CONTROL:
            message_delivery_report(
                message=Message.objects.get(customer=book[n]), delivered=delivered, reason="空号"
            )
    clock.shift(timedelta(hours=1))
    inbound = reverse("messaging:inbound", args=[inbound_token()])
    client.post(
        inbound, {"from": "+8613800000001", "text": "想了解"}, content_type="application/json"
    )
    rows = {(r["group"], r["channel"]): r for r in campaign_channel_results(campaign=campaign)}
    skipped = {6, 7, 8, 10}
    for group in (Group.A, Group.B, Group.CONTROL, "all"):
        for channel in (SMS, EMAIL, WECHAT):
            members = [
                n
                for n in book
                if channel_of[n] == channel
                and (groups[n] == group or (group == "all" and groups[n] != Group.CONTROL))
            ]
            row = rows.get((group, channel))
            if not members:
                assert row is None
                continue
            treated = [n for n in members if groups[n] != Group.CONTROL]
            left = [n for n in treated if n in went]
            assert row["clients"] == len(members)
            assert row["sent"] == sum(1 for n in left if outcome.get(n) is not False)
            assert row["delivered"] == sum(1 for n in left if outcome.get(n) is True)
            assert row["failed"] == sum(1 for n in left if outcome.get(n) is False)
            assert row["skipped"] == sum(1 for n in treated if n in skipped)
            assert row["replied"] == (1 if 1 in members else 0)
    # The totals per channel add up to the per-group table's.
    by_group = {r["group"]: r for r in campaign_results(campaign=campaign)}
    for group in by_group:
        assert (
            sum(r["clients"] for (g, _c), r in rows.items() if g == group)
            == by_group[group]["clients"]
        )


def test_results_by_channel_exact_on_a_fixed_book(users, book, client):
    """No control group, no B: everyone in A, so the figures are the hand table's."""
    campaign = _make(users["manager_a"])
    campaign_launch(campaign=campaign, user=users["manager_a"])
    Message.objects.exclude(status="blocked").update(status="sent")
    for n, delivered in ((1, True), (4, True), (2, True), (3, False)):
        message_delivery_report(
            message=Message.objects.get(customer=book[n]),
            delivered=delivered,
            reason="" if delivered else "空号",
        )
    got = {
        (r["group"], r["channel"]): (
            r["clients"],
            r["sent"],
            r["delivered"],
            r["failed"],
            r["skipped"],
        )
        for r in campaign_channel_results(campaign=campaign)
    }
    # SMS: c1 c4 (delivered) c9 c12 sent, c6 c7 c8 skipped (7 clients); e-mail: c2
    # (delivered) c5 sent, c10 skipped; WeChat: c3 failed, c11 sent.
    assert got == {
        ("all", SMS): (7, 4, 2, 0, 3),
        ("all", EMAIL): (3, 2, 1, 0, 1),
        ("all", WECHAT): (2, 1, 0, 1, 0),
        ("a", SMS): (7, 4, 2, 0, 3),
        ("a", EMAIL): (3, 2, 1, 0, 1),
        ("a", WECHAT): (2, 1, 0, 1, 0),
    }
    assert list(got) == [
        ("all", SMS),
        ("all", EMAIL),
        ("all", WECHAT),
        ("a", SMS),
        ("a", EMAIL),
        ("a", WECHAT),
    ]


# --- the form, its preview, the pages -------------------------------------------------------


def test_the_form_takes_a_template_per_channel_and_previews_them_for_a_real_client(
    users, login, book
):
    sms = MessageTemplate.objects.create(
        occasion="promo",
        channel=SMS,
        provider_code="SMS_901",
        body="{client}您好：{manager}为您准备了专享利率。",
    )
    data = {
        "name": "专享利率",
        "control_share": "0",
        "conversion_days": "30",
        "sms-use": "on",
        "sms-position": "2",
        "sms-template": sms.pk,
        "email-use": "on",
        "email-position": "1",
        "email-subject": "专享利率",
        "email-text": "尊敬的{client}：详情见附件。",
        "wechat-position": "3",
        "customers": f"{book[2].pk}\n{book[1].pk}",
    }
    manager = login(users["manager_a"])
    shown = manager.post(
        reverse("campaigns:new"), {**data, "preview": "1", "preview_client": book[1].pk}
    )
    assert shown.status_code == 200 and not Campaign.objects.exists()
    html = shown.content.decode()
    # c1 has a mobile only: reached on SMS, with the template's text filled for it.
    assert f"{book[1].name}您好" in html and "短信 ✓" in html
    assert 'data-channel="email"' in html and f"尊敬的{book[1].name}" in html
    # Another manager's client is not previewed.
    stranger = CustomerFactory(owner=users["manager_b"])
    refused = manager.post(
        reverse("campaigns:new"), {**data, "preview": "1", "preview_client": stranger.pk}
    )
    assert refused.status_code == 404
    saved = manager.post(reverse("campaigns:new"), data)
    campaign = Campaign.objects.get()
    assert saved.url == reverse("campaigns:detail", args=[campaign.pk])
    rows = list(campaign.channels.values_list("channel", "position", "template_id", "text"))
    assert rows == [(EMAIL, 1, None, "尊敬的{client}：详情见附件。"), (SMS, 2, sms.pk, sms.body)]
    assert campaign.history.count() == 1 and CampaignChannel.history.count() == 2
    page = manager.get(
        reverse("campaigns:detail", args=[campaign.pk]), {"client": book[2].pk}
    ).content.decode()
    assert "电子邮件 → 短信" in page and "SMS_901" in page
    manager.post(reverse("campaigns:launch", args=[campaign.pk]))
    channel_of = dict(Recipient.objects.values_list("customer_id", "channel"))
    # c2 prefers e-mail, c1 has a mobile only; the SMS carries the template's code.
    assert channel_of == {book[2].pk: EMAIL, book[1].pk: SMS}
    assert Message.objects.get(customer=book[1]).provider_template == "SMS_901"
    page = manager.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert 'id="results-by-channel"' in page and 'data-group="all" data-channel="sms"' in page


def test_the_form_refuses_variant_b_on_one_channel_and_a_channel_without_a_gateway(users, settings):
    from fincrm.campaigns.forms import CampaignForms

    settings.FINCRM_WECHAT_URL = ""
    data = {
        "name": "x",
        "control_share": "0",
        "conversion_days": "30",
        "sms-use": "on",
        "sms-text": "A",
        "sms-text_b": "B",
        "wechat-use": "on",
        "wechat-text": "A",
    }
    forms = CampaignForms(data, user=users["manager_a"])
    assert not forms.is_valid()
    assert forms.errors == [str(MSG_B_EVERY_CHANNEL), "未配置微信的网关。"]
    nothing = CampaignForms(
        {"name": "x", "control_share": "0", "conversion_days": "30"}, user=users["manager_a"]
    )
    assert not nothing.is_valid() and nothing.errors == ["请至少选择一个渠道。"]


# --- the API --------------------------------------------------------------------------------


def test_the_api_takes_and_returns_the_templates_per_channel(users, client, book):
    sms = MessageTemplate.objects.create(
        occasion="promo", channel=SMS, provider_code="SMS_901", body="{client}您好：专享利率。"
    )
    token = ApiToken.issue(user=users["manager_a"], name="t")[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = {
        "name": "专享利率",
        "control_share": "0.25",
        "audience": {"customers": [book[1].pk, book[2].pk, book[3].pk]},
        "channels": [
            {"channel": "wechat", "text": "{client}：专享利率"},
            {"channel": "sms", "template_id": sms.pk},
            {"channel": "email", "subject": "专享利率", "text": "尊敬的{client}"},
        ],
    }
    made = client.post("/api/v1/campaigns/", body, content_type="application/json", **auth)
    assert made.status_code == 201, made.content
    out = made.json()
    assert out["channel"] == "wechat"
    assert [
        (c["channel"], c["position"], c["template_id"], c["text"]) for c in out["channels"]
    ] == [
        ("wechat", 1, None, "{client}：专享利率"),
        ("sms", 2, sms.pk, sms.body),
        ("email", 3, None, "尊敬的{client}"),
    ]
    got = client.get(f"/api/v1/campaigns/{out['id']}", **auth).json()
    assert got["channels"] == out["channels"] and got["control_share"] == 0.25
    listed = client.get("/api/v1/campaigns/", **auth).json()["items"]
    assert listed[0]["channels"] == out["channels"]
    # Results by channel once launched.
    campaign_launch(campaign=Campaign.objects.get(pk=out["id"]), user=users["manager_a"])
    results = client.get(f"/api/v1/campaigns/{out['id']}/results", **auth).json()
    assert sum(r["clients"] for r in results["channels"] if r["group"] != "all") == 3
    assert {r["channel"] for r in results["channels"]} <= {"sms", "wechat", "email"}
    # Refused: an unknown template, B on one channel only, a role that runs no campaigns,
    # another manager reading it.
    bad = client.post(
        "/api/v1/campaigns/",
        {**body, "channels": [{"channel": "sms", "template_id": 10**9}]},
        content_type="application/json",
        **auth,
    )
    assert bad.status_code == 400 and "template_id" in bad.json()["detail"]
    half = client.post(
        "/api/v1/campaigns/",
        {
            **body,
            "channels": [
                {"channel": "sms", "text": "A", "text_b": "B"},
                {"channel": "email", "text": "A"},
            ],
        },
        content_type="application/json",
        **auth,
    )
    assert half.status_code == 400
    agent = ApiToken.issue(user=users["agent"], name="t")[1]
    assert (
        client.post(
            "/api/v1/campaigns/",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {agent}",
        ).status_code
        == 403
    )
    other = ApiToken.issue(user=users["manager_b"], name="t")[1]
    assert (
        client.get(
            f"/api/v1/campaigns/{out['id']}", HTTP_AUTHORIZATION=f"Bearer {other}"
        ).status_code
        == 404
    )
    assert Campaign.objects.count() == 1


# --- the data migration ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_single_channel_campaign_becomes_its_one_channel_entry():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("campaigns", "0002_tracked_links")], [("campaigns", "0003_channels")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("accounts", "User").objects.create(username="m_old")
    customer_model = old.get_model("customers", "Customer")
    campaign = old.get_model("campaigns", "Campaign").objects.create(
        name="老活动",
        channel="email",
        subject="主题",
        text="A {client}",
        text_b="B {client}",
        created_by_id=user.pk,
    )
    customer = customer_model.objects.filter().first()
    if customer is not None:
        old.get_model("campaigns", "Recipient").objects.create(
            campaign=campaign, customer=customer, group="a"
        )
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    entry = new.get_model("campaigns", "CampaignChannel").objects.get(campaign_id=campaign.pk)
    assert (entry.channel, entry.position, entry.subject, entry.text, entry.text_b) == (
        "email",
        1,
        "主题",
        "A {client}",
        "B {client}",
    )
    recipients = new.get_model("campaigns", "Recipient").objects.filter(campaign_id=campaign.pk)
    assert all(r.channel == "email" for r in recipients)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
