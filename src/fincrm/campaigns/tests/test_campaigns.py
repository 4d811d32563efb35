"""Campaign audiences against hand counts, the launch through the messaging rules with who was
skipped and why, the control group held out, results per group; who may run one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fincrm.campaigns.choices import Group
from fincrm.campaigns.models import Campaign, CampaignChannel, Recipient
from fincrm.campaigns.services import (
    campaign_audience,
    campaign_launch,
    campaign_results,
    group_of,
)
from fincrm.evaluation.models import Classification
from fincrm.messaging.models import Message
from fincrm.messaging.services import consent_set
from fincrm.testing.factories import (
    ApplicationFactory,
    CustomerFactory,
    FacilityFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _daytime(clock, settings):
    settings.FINCRM_SMS_URL = "http://127.0.0.1:9/sms"  # configured; nothing is sent here


def _classify(customer, tier, lifecycle="active", segments=()):
    now = timezone.now()
    Classification.objects.create(
        customer=customer, tier=tier, tier_since=now, value_score=50.0, grade="BBB",
        size_band="small", lifecycle=lifecycle, segments=list(segments), evaluated_at=now,
    )  # fmt: skip


@pytest.fixture
def clients(users):
    """manager_a: 12 clients (4 key, 8 ordinary; 3 dormant; 5 in segment growth; 2 hold
    product LOAN-X); manager_b: 3 key clients."""
    a, b = users["manager_a"], users["manager_b"]
    made = []
    product = ProductFactory(code="LOAN-X")
    for i in range(12):
        c = CustomerFactory(owner=a)
        _classify(c, "key" if i < 4 else "ordinary", "dormant" if i in (0, 5, 6) else "active",
                  ["growth"] if i % 2 == 0 and i < 10 else [])  # fmt: skip
        if i in (1, 7):
            FacilityFactory(customer=c, product=product)
        made.append(c)
    others = [CustomerFactory(owner=b) for _ in range(3)]
    for c in others:
        _classify(c, "key")
    return made, others


def _campaign(user, **kw):
    defaults = {"name": "新春理财", "channel": "sms", "text": "{client}您好：新春专享利率。",
                "created_by": user}  # fmt: skip
    kw = {**defaults, **kw}
    entry = {k: kw.pop(k) for k in ("channel", "text", "text_b") if k in kw}
    campaign = Campaign.objects.create(**kw)
    CampaignChannel.objects.create(campaign=campaign, **entry)
    return campaign


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        ({}, 12),
        ({"tiers": ["key"]}, 4),
        ({"lifecycles": ["dormant"]}, 3),
        ({"tiers": ["ordinary"], "lifecycles": ["dormant"]}, 2),
        ({"segments": ["growth"]}, 5),
        ({"products": ["LOAN-X"]}, 2),
        ({"tiers": ["key"], "segments": ["growth"]}, 2),  # clients 0 and 2
    ],
)
def test_the_audience_matches_a_hand_count(users, clients, audience, expected):
    campaign = _campaign(users["manager_a"], audience=audience)
    assert len(campaign_audience(campaign=campaign, user=users["manager_a"])) == expected


def test_an_uploaded_list_never_reaches_another_managers_clients(users, clients):
    mine, others = clients
    listed = [mine[0].pk, mine[1].pk, others[0].pk]
    campaign = _campaign(users["manager_a"], audience={"customers": listed})
    assert campaign_audience(campaign=campaign, user=users["manager_a"]) == listed[:2]
    assert len(campaign_audience(campaign=campaign, user=users["admin"])) == 3


def test_a_launch_applies_the_rules_per_recipient_and_holds_out_the_control_group(users, clients):
    mine, _others = clients
    consent_set(customer=mine[3], channel="sms", status="opted_out", source="sms_reply")
    FacilityFactory(customer=mine[4], days_past_due=12)
    campaign = _campaign(users["manager_a"], control_share="0.25", text_b="{client}：限时优惠")
    summary = campaign_launch(campaign=campaign, user=users["manager_a"])
    control = [c for c in mine if group_of(campaign.pk, c.pk, control_share=0.25, ab=True)
               == Group.CONTROL]  # fmt: skip
    assert summary["audience"] == 12 and summary["control"] == len(control)
    skipped_by_hand = {
        "opted_out": mine[3] not in control,
        "in_collections": mine[4] not in control,
    }
    assert summary["skipped"] == {k: 1 for k, v in skipped_by_hand.items() if v}
    assert summary["queued"] == 12 - len(control) - sum(skipped_by_hand.values())
    assert not Message.objects.filter(customer__in=control).exists()
    texts = set(Message.objects.filter(status="queued").values_list("text", flat=True))
    assert all(t.endswith("拒收请回复TD") for t in texts)  # marketing SMS carry the opt-out hint
    groups = set(Recipient.objects.exclude(group=Group.CONTROL).values_list("group", flat=True))
    assert groups <= {"a", "b"}
    # Launching again sends nothing twice.
    assert campaign_launch(campaign=campaign, user=users["manager_a"]) == summary
    assert Message.objects.count() == 12 - len(control)


def test_results_count_applications_started_within_the_window_per_group(users, clients):
    campaign = _campaign(users["manager_a"], control_share="0.5", conversion_days=30)
    campaign_launch(campaign=campaign, user=users["manager_a"])
    recipients = list(Recipient.objects.filter(campaign=campaign))
    treated = [r.customer for r in recipients if r.group != Group.CONTROL]
    held_out = [r.customer for r in recipients if r.group == Group.CONTROL]
    assert treated and held_out
    ApplicationFactory(customer=treated[0])
    late = ApplicationFactory(customer=held_out[0])
    late.created_at = timezone.now() + timedelta(days=31)  # after the window
    late.save()
    rows = {r["group"]: r for r in campaign_results(campaign=campaign)}
    assert rows[Group.A]["applications"] == 1 and rows[Group.CONTROL]["applications"] == 0
    assert rows[Group.A]["clients"] + rows[Group.CONTROL]["clients"] == 12
    assert rows[Group.A]["application_rate"] == pytest.approx(1 / len(treated))


def test_campaign_pages_by_role(users, login, clients, client):
    data = {"name": "秋季回馈", "sms-use": "on", "sms-text": "{client}您好", "control_share": "0.1",
            "conversion_days": "30", "tiers": ["key"]}  # fmt: skip
    manager = login(users["manager_a"])
    response = manager.post(reverse("campaigns:new"), data)
    campaign = Campaign.objects.get()
    assert response.url == reverse("campaigns:detail", args=[campaign.pk])
    assert campaign.audience == {"tiers": ["key"]}
    page = manager.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "4" in page
    manager.post(reverse("campaigns:launch", args=[campaign.pk]))
    assert Recipient.objects.filter(campaign=campaign).count() == 4
    client.logout()
    other = login(users["manager_b"])
    assert other.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 404
    client.logout()
    assert login(users["agent"]).get(reverse("campaigns:list")).status_code == 403


def test_a_saved_view_of_the_client_list_picks_the_audience(users, login, clients):
    from fincrm.accounts.models import SavedView

    path = reverse("customers:list")
    mine = SavedView.objects.create(owner=users["manager_a"], path=path, name="沉睡客户",
                                    query="lifecycle=dormant&page=2")  # fmt: skip
    elsewhere = SavedView.objects.create(owner=users["manager_b"], path=path, name="重点",
                                         query="tier=key", shared=True)  # fmt: skip
    data = {"name": "唤醒", "sms-use": "on", "sms-text": "{client}您好", "control_share": "0",
            "conversion_days": "30", "saved_view": mine.pk, "tiers": ["ordinary"]}  # fmt: skip
    manager = login(users["manager_a"])
    manager.post(reverse("campaigns:new"), data)
    campaign = Campaign.objects.get()
    assert campaign.audience["saved_view"] == {"id": mine.pk, "name": "沉睡客户",
                                               "query": "lifecycle=dormant&page=2"}  # fmt: skip
    # Dormant (clients 0, 5, 6) and ordinary (4 and up): 5 and 6.
    assert len(campaign_audience(campaign=campaign, user=users["manager_a"])) == 2
    page = manager.get(reverse("campaigns:detail", args=[campaign.pk]))
    assert "沉睡客户" in page.content.decode()
    # Another team's view is not offered, even shared.
    refused = manager.post(reverse("campaigns:new"), {**data, "saved_view": elsewhere.pk})
    assert refused.status_code == 200 and Campaign.objects.count() == 1
