"""Events: the audience against hand counts, invitations through the messaging rules (an
opted-out client gets none), seats and the waiting list, answers from the portal and from a
signed link (a tampered one refused), check-in with points once, follow-up tasks for
attendees and no-shows, and who may see and change what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fincrm.engagement.models import Interaction, Task
from fincrm.evaluation.models import Classification
from fincrm.events.choices import Response, ResponseSource
from fincrm.events.models import Event, Invitee
from fincrm.events.services import (
    event_audience,
    event_follow_up,
    event_invite,
    invitee_respond,
    invitees_check_in,
    rsvp_token,
)
from fincrm.loyalty.models import PointsEntry
from fincrm.messaging.models import Message
from fincrm.messaging.services import consent_set
from fincrm.portal.models import PortalAccount
from fincrm.testing.factories import CustomerFactory, UserFactory

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
    """manager_a: 8 clients (3 key, 5 ordinary; 2 of the ordinary dormant; 4 in segment
    growth); manager_b: 2 key clients."""
    mine = []
    for i in range(8):
        c = CustomerFactory(owner=users["manager_a"], phone=f"1380000{i:04d}")
        _classify(c, "key" if i < 3 else "ordinary", "dormant" if i in (5, 6) else "active",
                  ["growth"] if i % 2 else [])  # fmt: skip
        mine.append(c)
    others = [CustomerFactory(owner=users["manager_b"]) for _ in range(2)]
    for c in others:
        _classify(c, "key")
    return mine, others


def _event(user, **kw):
    defaults = {"kind": "seminar", "title": "企业财务管理培训", "place": "上海浦东",
                "starts_at": timezone.now() + timedelta(days=10), "capacity": 3,
                "organiser": user}  # fmt: skip
    return Event.objects.create(**{**defaults, **kw})


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        ({}, 8),
        ({"tiers": ["key"]}, 3),
        ({"lifecycles": ["dormant"]}, 2),
        ({"tiers": ["ordinary"], "segments": ["growth"]}, 3),
        ({"tiers": ["key"], "customers": "others"}, 0),
    ],
)
def test_the_audience_matches_hand_counts(users, clients, audience, expected):
    _, others = clients
    if audience.get("customers") == "others":
        audience = {**audience, "customers": [c.pk for c in others]}
    event = _event(users["manager_a"], audience=audience)
    assert len(event_audience(event=event, user=users["manager_a"])) == expected


def test_an_admins_event_reaches_every_side(users, clients):
    event = _event(users["admin"], audience={"tiers": ["key"]})
    assert len(event_audience(event=event, user=users["admin"])) == 5


def test_invitations_go_through_the_rules_and_skip_an_opted_out_client(users, clients):
    mine, _ = clients
    consent_set(customer=mine[0], channel="sms", status="opted_out", source="sms_reply")
    event = _event(users["manager_a"], audience={"tiers": ["key"]})
    result = event_invite(event=event, user=users["manager_a"])
    assert result == {"audience": 3, "invited": 2, "skipped": {"opted_out": 1}}
    assert set(event.invitees.values_list("customer_id", flat=True)) == {mine[1].pk, mine[2].pk}
    queued = Message.objects.filter(source_key=f"event:{event.pk}").exclude(status="blocked")
    assert {m.customer_id for m in queued} == {mine[1].pk, mine[2].pk}
    assert all("/events/answer/" in m.text and "企业财务管理培训" in m.text for m in queued)
    assert not Message.objects.filter(customer=mine[0]).exclude(status="blocked").exists()
    again = event_invite(event=event, user=users["manager_a"])
    assert again["invited"] == 0 and event.invitees.count() == 2


def _invited(users, mine, capacity=2, n=4):
    event = _event(users["manager_a"], capacity=capacity)
    return event, [Invitee.objects.create(event=event, customer=c) for c in mine[:n]]


def test_seats_run_out_into_a_waiting_list_and_a_decline_promotes_the_first(users, clients):
    event, (a, b, c, d) = _invited(users, clients[0])
    for invitee in (a, b, c, d):
        invitee_respond(invitee=invitee, attending=True, source=ResponseSource.STAFF)
    states = {i.pk: i.response for i in Invitee.objects.filter(event=event)}
    assert [states[i.pk] for i in (a, b, c, d)] == [
        Response.ACCEPTED, Response.ACCEPTED, Response.WAITLISTED, Response.WAITLISTED,
    ]  # fmt: skip
    invitee_respond(invitee=b, attending=False, source=ResponseSource.STAFF)
    c.refresh_from_db(), d.refresh_from_db()
    assert (c.response, d.response) == (Response.ACCEPTED, Response.WAITLISTED)
    assert event.invitees.filter(response=Response.ACCEPTED).count() == 2


def test_an_answer_after_the_event_is_refused(users, clients):
    from django.core.exceptions import ValidationError

    event, (a, *_) = _invited(users, clients[0])
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(days=1))
    with pytest.raises(ValidationError):
        invitee_respond(invitee=a, attending=True, source=ResponseSource.STAFF)


def test_a_signed_link_answers_and_a_tampered_one_is_refused(users, clients):
    mine, _ = clients
    event, (a, *_) = _invited(users, mine)
    browser = Client()
    url = reverse("events:rsvp_link", args=[rsvp_token(event.pk, mine[0].pk)])
    assert browser.get(url).status_code == 200
    response = browser.post(url, {"attending": "1"})
    assert response.status_code == 200
    a.refresh_from_db()
    assert (a.response, a.response_source) == (Response.ACCEPTED, ResponseSource.LINK)
    token = rsvp_token(event.pk, mine[0].pk)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert browser.get(reverse("events:rsvp_link", args=[tampered])).status_code == 404
    forged = rsvp_token(event.pk, mine[5].pk)  # signed, but never invited
    assert (
        browser.post(reverse("events:rsvp_link", args=[forged]), {"attending": "1"}).status_code
        == 404
    )


def test_a_client_answers_from_the_portal_and_only_its_own_invitation(users, clients):
    mine, others = clients
    event, (a, *_) = _invited(users, mine)
    user = UserFactory(username="portal_firm", role="", team=None)
    PortalAccount.objects.create(user=user, customer=mine[0])
    browser = Client()
    browser.force_login(user)
    home = browser.get(reverse("portal:home"))
    assert "企业财务管理培训" in home.content.decode()
    browser.post(reverse("portal:event_answer", args=[event.pk]), {"attending": "1"})
    a.refresh_from_db()
    assert (a.response, a.response_source) == (Response.ACCEPTED, ResponseSource.PORTAL)
    other = _event(users["manager_b"])
    Invitee.objects.create(event=other, customer=others[0])
    response = browser.post(reverse("portal:event_answer", args=[other.pk]), {"attending": "1"})
    assert response.status_code == 404


def test_check_in_awards_points_once(users, clients):
    _, (a, b, *_) = _invited(users, clients[0])
    qs = Invitee.objects.filter(pk__in=[a.pk, b.pk])
    assert invitees_check_in(invitees=qs, user=users["manager_a"]) == 2
    assert invitees_check_in(invitees=qs, user=users["manager_a"]) == 0
    entries = PointsEntry.objects.filter(reason="event_attendance")
    assert sorted(entries.values_list("customer_id", "points")) == sorted(
        [(a.customer_id, 100), (b.customer_id, 100)]
    )
    # The attendance is a meeting on the client's timeline, once.
    met = Interaction.objects.filter(channel="meeting", subject="出席企业财务管理培训")
    assert sorted(met.values_list("customer_id", flat=True)) == sorted([a.customer_id,
                                                                        b.customer_id])  # fmt: skip


def test_follow_up_tasks_for_attendees_and_no_shows(users, clients):
    event, (a, b, c, _) = _invited(users, clients[0], capacity=3)
    for invitee in (a, b, c):
        invitee_respond(invitee=invitee, attending=True, source=ResponseSource.STAFF)
    invitees_check_in(invitees=Invitee.objects.filter(pk__in=[a.pk, b.pk]), user=users["manager_a"])
    assert event_follow_up(event=event) == {"attended": 2, "no_show": 1}
    assert event_follow_up(event=event) == {"attended": 2, "no_show": 1}  # no second task
    tasks = Task.objects.filter(source_key__startswith=f"event:{event.pk}:")
    assert sorted(tasks.values_list("customer_id", "source_key")) == sorted([
        (a.customer_id, f"event:{event.pk}:came"), (b.customer_id, f"event:{event.pk}:came"),
        (c.customer_id, f"event:{event.pk}:absent"),
    ])  # fmt: skip
    assert all(t.owner == users["manager_a"] for t in tasks)


def test_pages_for_the_organiser_and_the_invitee_list_restricted(users, clients, client):
    mine, others = clients
    event = _event(users["admin"], capacity=5)
    Invitee.objects.create(event=event, customer=mine[0])
    Invitee.objects.create(event=event, customer=others[0])
    client.force_login(users["manager_a"])
    assert client.get(reverse("events:detail", args=[event.pk])).status_code == 404
    client.force_login(users["risk"])  # sees the whole book, changes nothing here
    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert mine[0].name in page and others[0].name in page and 'name="invitees"' not in page
    assert client.post(reverse("events:check_in", args=[event.pk])).status_code == 404
    client.force_login(users["admin"])
    response = client.post(
        reverse("events:check_in", args=[event.pk]),
        {"invitees": list(event.invitees.values_list("pk", flat=True))},
    )
    assert response.status_code == 302
    assert event.invitees.filter(checked_in_at__isnull=False).count() == 2


def test_a_manager_creates_edits_and_invites(users, clients, client):
    client.force_login(users["manager_a"])
    assert client.get(reverse("events:list")).status_code == 200
    assert client.get(reverse("events:new")).status_code == 200
    response = client.post(reverse("events:new"), {
        "kind": "forum", "title": "投资者论坛", "starts_at": "2026-07-01 14:00",
        "place": "", "online_url": "", "capacity": "30", "channel": "sms", "tiers": ["key"],
    })  # fmt: skip
    assert response.status_code == 200 and not Event.objects.exists()  # neither place nor link
    response = client.post(reverse("events:new"), {
        "kind": "forum", "title": "投资者论坛", "starts_at": "2026-07-01 14:00",
        "place": "北京国贸", "capacity": "30", "channel": "sms", "tiers": ["key"],
    })  # fmt: skip
    event = Event.objects.get()
    assert response.status_code == 302 and event.audience == {"tiers": ["key"]}
    assert client.get(reverse("events:edit", args=[event.pk])).status_code == 200
    client.post(reverse("events:invite", args=[event.pk]))
    assert event.invitees.count() == 3
    client.force_login(users["manager_b"])
    assert client.get(reverse("events:edit", args=[event.pk])).status_code == 404
    client.force_login(users["agent"])
    assert client.get(reverse("events:new")).status_code == 403


def test_the_api_lists_events_and_invitees_in_scope_and_records_an_answer(
    users, clients, client, bearer
):
    mine, others = clients
    event = _event(users["admin"], capacity=1)
    a = Invitee.objects.create(event=event, customer=mine[0])
    b = Invitee.objects.create(event=event, customer=others[0])
    own = _event(users["manager_a"])
    as_a, as_admin = bearer(users["manager_a"]), bearer(users["admin"])
    listed = client.get("/api/v1/events/", **as_a).json()["items"]
    assert [e["id"] for e in listed] == [own.pk]
    assert client.get(f"/api/v1/events/{event.pk}/invitees", **as_a).status_code == 404
    seen = client.get(f"/api/v1/events/{event.pk}/invitees", **as_admin).json()["items"]
    assert {i["customer_id"] for i in seen} == {mine[0].pk, others[0].pk}
    url = f"/api/v1/events/{event.pk}/invitees/{{}}/answer"
    answer = client.post(url.format(a.pk), {"attending": True}, content_type="application/json",
                         **as_admin)  # fmt: skip
    assert answer.status_code == 200 and answer.json()["response"] == "accepted"
    second = client.post(url.format(b.pk), {"attending": True}, content_type="application/json",
                         **as_admin).json()  # fmt: skip
    assert second["response"] == "waitlisted"
    refused = client.post(url.format(a.pk), {"attending": False}, content_type="application/json",
                          **bearer(users["manager_b"]))  # fmt: skip
    assert refused.status_code == 404


def test_the_detail_page_reads_in_constant_queries(users, clients, client,
                                                   django_assert_max_num_queries):  # fmt: skip
    mine, _ = clients
    event = _event(users["manager_a"], capacity=10)
    for customer in mine:
        Invitee.objects.create(event=event, customer=customer, response="accepted")
    client.force_login(users["manager_a"])
    with django_assert_max_num_queries(20):
        page = client.get(reverse("events:detail", args=[event.pk]))
    assert page.status_code == 200 and page.content.decode().count('name="invitees"') == 16
