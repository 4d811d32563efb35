"""The rest of a campaign: A/B and control assignment (deterministic, in proportion), tracked
links (signed, tampering refused, no open redirect), replies, the results table per group on a
small exact book (page and API), the scheduled send picked up by the worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from fincrm.api.models import ApiToken
from fincrm.campaigns.choices import Group
from fincrm.campaigns.forms import CampaignForm, CampaignForms
from fincrm.campaigns.models import Campaign, CampaignChannel, Recipient
from fincrm.campaigns.services import (
    MSG_LINK_MISSING,
    MSG_LINK_NOT_ALLOWED,
    MSG_LINK_UNUSED,
    campaign_launch,
    campaign_results,
    campaign_schedule,
    campaigns_launch_due,
    group_of,
    tracked_url,
)
from fincrm.messaging.models import Message
from fincrm.messaging.services import inbound_token, message_delivery_report
from fincrm.testing.factories import ApplicationFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _gateway(clock, settings):
    settings.FINCRM_SMS_URL = "http://127.0.0.1:9/sms"  # configured; nothing is sent here
    settings.FINCRM_BASE_URL = "https://crm.example.cn"
    settings.FINCRM_LINK_HOSTS = ["shop.example.cn"]


def _campaign(user, **kw):
    defaults = {"name": "夏季理财", "channel": "sms", "created_by": user, "control_share": "0.25",
                "text": "{client}您好：夏季专享利率 {link}", "text_b": "{client}：限时优惠 {link}",
                "link": "/portal/"}  # fmt: skip
    kw = {**defaults, **kw}
    entry = {k: kw.pop(k) for k in ("channel", "text", "text_b") if k in kw}
    campaign = Campaign.objects.create(**kw)
    CampaignChannel.objects.create(campaign=campaign, **entry)
    return campaign


def _book(campaign, owner, each=2):
    """Clients of ``owner`` with mobiles, made until every group of ``campaign`` has at least
    ``each`` of them (the assignment is a hash of campaign and client)."""
    made: dict[str, list] = {Group.A: [], Group.B: [], Group.CONTROL: []}
    n = 0
    while min(len(v) for v in made.values()) < each:
        client = CustomerFactory(owner=owner, phone=f"1380000{n:04d}")
        n += 1
        made[group_of(campaign.pk, client.pk, control_share=0.25, ab=True)].append(client)
    return made


# --- assignment -----------------------------------------------------------------------------


def test_the_assignment_is_deterministic_and_in_proportion():
    ids = range(1, 10_001)
    first = [group_of(7, pk, control_share=0.2, ab=True) for pk in ids]
    assert first == [group_of(7, pk, control_share=0.2, ab=True) for pk in ids]
    control = {pk for pk, g in zip(ids, first, strict=True) if g == Group.CONTROL}
    a, b = first.count(Group.A), first.count(Group.B)
    assert abs(len(control) - 2_000) < 150  # 0.2 of 10,000; sd 40
    assert abs(a - b) < 250 and a + b + len(control) == 10_000
    # Another campaign holds out other clients (independent: overlap near 0.2 × 0.2).
    other = {pk for pk in ids if group_of(8, pk, control_share=0.2, ab=True) == Group.CONTROL}
    assert abs(len(control & other) - 400) < 100
    # Without a variant B everyone treated gets A; no control share, no control group.
    assert {group_of(7, pk, control_share=0.2, ab=False) for pk in ids} == {Group.A, Group.CONTROL}
    assert {group_of(7, pk, control_share=0, ab=True) for pk in ids} == {Group.A, Group.B}


# --- tracked links --------------------------------------------------------------------------


def test_each_recipient_gets_a_signed_link_that_records_clicks_and_redirects(users, client):
    campaign = _campaign(users["manager_a"])
    book = _book(campaign, users["manager_a"], each=1)
    campaign_launch(campaign=campaign, user=users["manager_a"])
    reader = book[Group.A][0]
    message = Message.objects.get(customer=reader)
    url = tracked_url(campaign.pk, reader.pk)
    assert url.startswith("https://crm.example.cn/campaigns/l/") and url in message.text
    assert "{link}" not in message.text
    path = url.removeprefix("https://crm.example.cn")
    first = client.get(path)  # no login: the token is the credential
    assert (first.status_code, first["Location"]) == (302, "/portal/")
    recipient = Recipient.objects.get(campaign=campaign, customer=reader)
    clicked_at = recipient.clicked_at
    assert recipient.clicks == 1 and clicked_at is not None
    client.get(path)
    recipient.refresh_from_db()
    assert (recipient.clicks, recipient.clicked_at) == (2, clicked_at)
    # Tampered: another client's id under this signature, a changed signature.
    value, signature = path.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)
    other = book[Group.B][0].pk
    forged = f"/campaigns/l/{campaign.pk}.{other}:{signature}/"
    assert client.get(forged).status_code == 404
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    assert client.get(f"/campaigns/l/{value}:{flipped}/").status_code == 404
    # Signed by us but naming no recipient of the campaign.
    stranger = CustomerFactory(owner=users["manager_a"])
    unknown = tracked_url(campaign.pk, stranger.pk).removeprefix("https://crm.example.cn")
    assert client.get(unknown).status_code == 404
    assert Recipient.objects.filter(campaign=campaign, clicks__gt=0).count() == 1


@pytest.mark.parametrize(
    ("link", "allowed"),
    [
        ("/portal/", True),
        ("https://crm.example.cn/portal/", True),
        ("https://shop.example.cn/offer?x=1", True),  # FINCRM_LINK_HOSTS
        ("https://evil.example.com/", False),
        ("//evil.example.com/", False),
        ("/\\evil.example.com", False),
        ("javascript:alert(1)", False),
        ("ftp://shop.example.cn/", False),
        ("https://shop.example.cn.evil.com/", False),
    ],
)
def test_a_link_target_is_this_site_or_an_allowed_host(users, link, allowed):
    data = {"name": "活动", "channel": "email", "text": "详情 {link}", "link": link,
            "control_share": "0", "conversion_days": "30"}  # fmt: skip
    form = CampaignForm(data, user=users["manager_a"])
    assert form.is_valid() is allowed, form.errors
    if not allowed:
        assert form.errors["link"] == [str(MSG_LINK_NOT_ALLOWED)]


def test_the_link_and_its_placeholder_go_together(users):
    base = {"name": "活动", "email-use": "on", "control_share": "0", "conversion_days": "30"}
    no_placeholder = CampaignForms({**base, "email-text": "详情", "link": "/portal/"},
                                   user=users["manager_a"])  # fmt: skip
    assert not no_placeholder.is_valid() and no_placeholder.errors == [str(MSG_LINK_UNUSED)]
    no_target = CampaignForms({**base, "email-text": "详情 {link}"}, user=users["manager_a"])
    assert not no_target.is_valid() and no_target.errors == [str(MSG_LINK_MISSING)]


def test_a_target_no_longer_allowed_redirects_home_not_away(users, client, settings):
    campaign = _campaign(users["manager_a"], link="https://shop.example.cn/offer")
    book = _book(campaign, users["manager_a"], each=1)
    campaign_launch(campaign=campaign, user=users["manager_a"])
    settings.FINCRM_LINK_HOSTS = []  # the host was taken off the list since
    path = tracked_url(campaign.pk, book[Group.A][0].pk).removeprefix("https://crm.example.cn")
    assert client.get(path)["Location"] == "/"


# --- results --------------------------------------------------------------------------------


@pytest.fixture
def launched(users, client, django_capture_on_commit_callbacks):
    """A launched campaign on a small exact book, then by hand: in A the first client's
    message delivered, clicked, replied to and followed by an application; the second's
    failed. In B the first delivered and clicked. In the control group the first applied,
    and the second applied after the window (not counted)."""
    manager = users["manager_a"]
    campaign = _campaign(manager, conversion_days=14)
    book = _book(campaign, manager)
    campaign_launch(campaign=campaign, user=manager)
    a1, a2 = book[Group.A][:2]
    b1 = book[Group.B][0]
    c1, c2 = book[Group.CONTROL][:2]
    Message.objects.filter(customer__in=[a1, a2, b1]).update(status="sent")
    for who, delivered in ((a1, True), (a2, False), (b1, True)):
        message_delivery_report(message=Message.objects.get(customer=who), delivered=delivered,
                                reason="" if delivered else "空号")  # fmt: skip
    for who in (a1, b1):
        client.get(tracked_url(campaign.pk, who.pk).removeprefix("https://crm.example.cn"))
    inbound = reverse("messaging:inbound", args=[inbound_token()])
    client.post(inbound, {"from": f"+86{a1.phone}", "text": "想了解一下"},
                content_type="application/json")  # fmt: skip
    ApplicationFactory(customer=a1)
    ApplicationFactory(customer=c1)
    late = ApplicationFactory(customer=c2)
    late.created_at = timezone.now() + timedelta(days=15)
    late.save()
    return campaign, book


def test_the_results_table_counts_each_group_by_hand(launched):
    campaign, book = launched
    rows = {r["group"]: r for r in campaign_results(campaign=campaign)}
    n_a, n_b, n_c = (len(book[g]) for g in (Group.A, Group.B, Group.CONTROL))
    a, b, control = rows[Group.A], rows[Group.B], rows[Group.CONTROL]
    assert (a["clients"], a["sent"], a["delivered"], a["failed"]) == (n_a, 1, 1, 1)
    assert (a["clicked"], a["replied"], a["applications"]) == (1, 1, 1)
    assert (b["clients"], b["sent"], b["delivered"], b["clicked"]) == (n_b, 1, 1, 1)
    assert (b["replied"], b["applications"]) == (0, 0)
    assert (control["clients"], control["sent"], control["applications"]) == (n_c, 0, 1)
    assert a["click_rate"] == 1.0  # one message went, one click
    assert a["application_uplift"] == pytest.approx(1 / n_a - 1 / n_c)
    assert b["application_uplift"] == pytest.approx(-1 / n_c)
    assert a["reply_uplift"] == pytest.approx(1 / n_a)


def test_the_results_page_and_api(users, login, launched, client):
    campaign, _book = launched
    page = login(users["manager_a"]).get(reverse("campaigns:detail", args=[campaign.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-group="control"' in html
    assert "对照组" in html and "提升" in html
    client.logout()
    token = ApiToken.issue(user=users["manager_a"], name="t")[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = client.get(f"/api/v1/campaigns/{campaign.pk}/results", **auth).json()
    groups = {g["group"]: g for g in body["groups"]}
    assert groups["a"]["applications"] == 1 and groups["control"]["applications"] == 1
    assert groups["a"]["clicked"] == 1 and groups["b"]["replied"] == 0
    assert body["window_end"] is not None and body["skipped"] == {}
    listed = client.get("/api/v1/campaigns/", **auth).json()
    assert [c["id"] for c in listed["items"]] == [campaign.pk]
    other = ApiToken.issue(user=users["manager_b"], name="t")[1]
    refused = client.get(f"/api/v1/campaigns/{campaign.pk}/results",
                         HTTP_AUTHORIZATION=f"Bearer {other}")  # fmt: skip
    assert refused.status_code == 404
    lead = ApiToken.issue(user=users["lead"], name="t")[1]  # manager_a's team lead
    seen = client.get(f"/api/v1/campaigns/{campaign.pk}/results",
                      HTTP_AUTHORIZATION=f"Bearer {lead}")  # fmt: skip
    assert seen.status_code == 200


def test_the_results_page_query_count_does_not_grow_with_the_book(
    users, login, launched, django_assert_max_num_queries
):
    campaign, _book = launched
    browser = login(users["manager_a"])
    with django_assert_max_num_queries(20):
        assert browser.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 200


def test_the_portal_shows_a_client_its_running_offers_through_its_tracked_link(
    users, login, launched, client, clock
):
    from fincrm.portal.models import PortalAccount
    from fincrm.testing.factories import UserFactory

    campaign, book = launched
    a1, a2 = book[Group.A][:2]  # delivered; failed
    accounts = {c: PortalAccount.objects.create(user=UserFactory(username=f"p{c.pk}", role=""),
                                                customer=c) for c in (a1, a2)}  # fmt: skip
    page = login(accounts[a1].user).get(reverse("portal:home")).content.decode()
    link = tracked_url(campaign.pk, a1.pk).removeprefix("https://crm.example.cn")
    assert 'id="offers"' in page and f'href="{link}"' in page and "为您推荐" in page
    assert client.get(link)["Location"] == "/portal/"
    assert Recipient.objects.get(campaign=campaign, customer=a1).clicks == 2  # fixture's + this
    client.logout()
    assert (
        'id="offers"' not in login(accounts[a2].user).get(reverse("portal:home")).content.decode()
    )
    client.logout()
    clock.shift(timedelta(days=15))  # the window (14 days) is over
    assert (
        'id="offers"' not in login(accounts[a1].user).get(reverse("portal:home")).content.decode()
    )


# --- schedule -------------------------------------------------------------------------------


def test_a_scheduled_campaign_goes_at_its_time_by_the_worker_or_the_daily_sweep(
    users, clock, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    manager = users["manager_a"]
    campaign = _campaign(manager)
    _book(campaign, manager, each=1)
    when = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_schedule(campaign=campaign, user=manager, when=when)
    call_command("db_worker", batch=True, startup_delay=False, interval=0, reload=False)
    campaign.refresh_from_db()
    assert campaign.status == "scheduled" and not Recipient.objects.exists()
    assert campaigns_launch_due() == 0  # not yet
    clock.shift(timedelta(hours=3))
    call_command("db_worker", batch=True, startup_delay=False, interval=0, reload=False)
    campaign.refresh_from_db()
    assert campaign.status == "launched" and Recipient.objects.filter(campaign=campaign).exists()
    assert campaigns_launch_due() == 0  # launched once


def test_the_daily_sweep_launches_a_scheduled_campaign_whose_task_was_lost(users, clock):
    from fincrm.engagement.daily import run_daily

    manager = users["manager_a"]
    campaign = _campaign(manager, status="scheduled",
                         scheduled_for=timezone.now() - timedelta(minutes=5))  # fmt: skip
    later = _campaign(manager, status="scheduled", scheduled_for=timezone.now() + timedelta(days=1))
    _book(campaign, manager, each=1)
    assert run_daily()["scheduled_campaigns"] == 1
    later.refresh_from_db()
    assert later.status == "scheduled"
    campaign.refresh_from_db()
    assert campaign.status == "launched"
    assert Recipient.objects.filter(campaign=campaign).count() >= 3
