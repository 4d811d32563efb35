"""Events: invite the audience through the messaging rules, take answers (a seat or the
waiting list), check attendees in (loyalty points once), and follow up attendees and
no-shows with tasks."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fincrm.campaigns.services import audience_ids
from fincrm.customers.models import Customer
from fincrm.engagement.choices import InteractionChannel, Outcome, Priority, TaskKind
from fincrm.engagement.services import interaction_log, task_schedule
from fincrm.loyalty.choices import EarnReason
from fincrm.loyalty.services import points_earn
from fincrm.messaging.choices import MessageKind, MessageStatus
from fincrm.messaging.services import Outline, messages_send

from .choices import Response
from .models import Event, Invitee

RSVP_SALT = "fincrm.events.rsvp"
#: Follow-up tasks are due this many days after the event.
FOLLOW_UP_DAYS = 3
MSG_EVENT_OVER = _("The event is over: answers are closed.")


def event_audience(*, event: Event, user) -> list[int]:
    """The ids of the clients the event's audience picks, among those ``user`` may act on."""
    return audience_ids(spec=event.audience or {}, user=user)


def rsvp_token(event_id: int, customer_id: int) -> str:
    return signing.dumps({"e": event_id, "c": customer_id}, salt=RSVP_SALT)


def rsvp_token_read(token: str) -> tuple[int, int] | None:
    """The event and client an answer link names, or None when it was tampered with."""
    try:
        data = signing.loads(token, salt=RSVP_SALT)
        return int(data["e"]), int(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def rsvp_url(event_id: int, customer_id: int) -> str:
    path = reverse("events:rsvp_link", args=[rsvp_token(event_id, customer_id)])
    return settings.FINCRM_BASE_URL.rstrip("/") + path


def _invitation_text(event: Event, customer: Customer) -> str:
    with translation.override("zh-hans"):
        when = timezone.localtime(event.starts_at).strftime("%Y-%m-%d %H:%M")
        return gettext(
            "%(client)s, you are invited to %(title)s on %(when)s at %(place)s. "
            "Please answer here: %(link)s"
        ) % {
            "client": customer.name,
            "title": event.title,
            "when": when,
            "place": event.place or event.online_url,
            "link": rsvp_url(event.pk, customer.pk),
        }


@transaction.atomic
def event_invite(*, event: Event, user, now: datetime | None = None) -> dict:
    """Invite the audience on the event's channel through ``messages_send`` as marketing (the
    rules skip clients who opted out, are in collections, have an open complaint or reached
    their frequency cap). A client the rules keep back is not an invitee; one already invited
    is not invited again. Returns the counts: audience, invited (now), skipped by reason."""
    now = now or timezone.now()
    ids = event_audience(event=event, user=user)
    already = set(event.invitees.values_list("customer_id", flat=True))
    customers = Customer.objects.in_bulk([pk for pk in ids if pk not in already])
    order = sorted(customers)
    outlines = [
        Outline(customer=customers[pk], text=_invitation_text(event, customers[pk]),
                subject=event.title, source_key=f"event:{event.pk}")
        for pk in order
    ]  # fmt: skip
    sent = messages_send(outlines=outlines, channel=event.channel, kind=MessageKind.MARKETING,
                         marketing=True, created_by=user, now=now)  # fmt: skip
    skipped = Counter(m.reason for m in sent if m.status == MessageStatus.BLOCKED)
    Invitee.objects.bulk_create(
        [Invitee(event=event, customer_id=pk, message=m, invited_at=now)
         for pk, m in zip(order, sent, strict=True) if m.status != MessageStatus.BLOCKED],
        batch_size=1_000,
    )  # fmt: skip
    if event.invited_at is None:
        event.invited_at = now
        event.save(update_fields=["invited_at"])
    return {
        "audience": len(ids),
        "invited": len(order) - sum(skipped.values()),
        "skipped": dict(skipped),
    }


def _promote_waiting(event: Event) -> None:
    free = event.capacity - event.invitees.filter(response=Response.ACCEPTED).count()
    if free <= 0:
        return
    waiting = event.invitees.filter(response=Response.WAITLISTED).order_by("responded_at", "pk")
    for invitee in waiting[:free]:
        invitee.response = Response.ACCEPTED
        invitee.save(update_fields=["response"])


@transaction.atomic
def invitee_respond(
    *, invitee: Invitee, attending: bool, source: str, now: datetime | None = None
) -> Invitee:
    """A client's answer. Yes takes a seat while the event has one, else a place on the
    waiting list (kept when it answers yes again); no frees the seat for the first on the
    waiting list. The event row is locked so two answers cannot take the last seat."""
    now = now or timezone.now()
    event = Event.objects.select_for_update().get(pk=invitee.event_id)
    if (event.ends_at or event.starts_at) < now:
        raise ValidationError(MSG_EVENT_OVER, code="event_over")
    invitee.refresh_from_db()
    if attending:
        if invitee.response not in (Response.ACCEPTED, Response.WAITLISTED):
            taken = event.invitees.filter(response=Response.ACCEPTED).count()
            invitee.response = Response.ACCEPTED if taken < event.capacity else Response.WAITLISTED
            invitee.responded_at = now
    else:
        invitee.response, invitee.responded_at = Response.DECLINED, now
    invitee.response_source = source
    invitee.full_clean()
    invitee.save()
    if not attending:
        _promote_waiting(event)
    invitee.refresh_from_db()
    return invitee


def invitations_ahead(*, customer):
    """A client's invitations to events still ahead, soonest first (the portal's list)."""
    return (
        Invitee.objects.filter(customer=customer, event__starts_at__gte=timezone.now())
        .select_related("event")
        .order_by("event__starts_at")
    )


def invitee_for_token(token: str) -> Invitee | None:
    """The invitee an answer link names; None for a tampered link or one never sent."""
    read = rsvp_token_read(token)
    if read is None:
        return None
    event_id, customer_id = read
    return (
        Invitee.objects.select_related("event", "customer")
        .filter(event_id=event_id, customer_id=customer_id)
        .first()
    )


@transaction.atomic
def invitees_check_in(*, invitees, user, now: datetime | None = None) -> int:
    """Check clients in (staff at the door): each checked in once, earns the policy's
    ``event_attendance`` points once per event (the ledger's key), and its attendance is
    logged as a meeting (the 360° page's timeline and contact history show it). Returns how
    many were checked in now."""
    now = now or timezone.now()
    count = 0
    rows = invitees.select_related("customer", "event").filter(checked_in_at__isnull=True)
    for invitee in rows:
        invitee.checked_in_at, invitee.checked_in_by = now, user
        invitee.save(update_fields=["checked_in_at", "checked_in_by"])
        points_earn(customer=invitee.customer, reason=EarnReason.EVENT_ATTENDANCE,
                    key=f"event:{invitee.event_id}", now=now, user=user)  # fmt: skip
        with translation.override("zh-hans"):
            subject = gettext("Attended %(event)s") % {"event": invitee.event.title}
        interaction_log(customer=invitee.customer, channel=InteractionChannel.MEETING,
                        subject=subject[:200], created_by=user, outcome=Outcome.REACHED,
                        direction="in", occurred_at=now)  # fmt: skip
        count += 1
    return count


@transaction.atomic
def event_follow_up(*, event: Event) -> dict:
    """A follow-up task per attendee (what they heard, what they need next) and per no-show
    (who said yes and did not come), for each client's account manager, once per event and
    client (``task_schedule``'s source key). Returns the counts."""
    due = timezone.localdate(event.ends_at or event.starts_at) + timedelta(days=FOLLOW_UP_DAYS)
    counts = {"attended": 0, "no_show": 0}
    rows = event.invitees.select_related("customer").filter(
        response=Response.ACCEPTED
    ) | event.invitees.select_related("customer").filter(checked_in_at__isnull=False)
    with translation.override("zh-hans"):
        for invitee in rows.distinct().order_by("pk"):
            came = invitee.checked_in_at is not None
            title = (
                gettext("Follow up the attendee of %(event)s")
                if came
                else gettext("Follow up the no-show at %(event)s")
            ) % {"event": event.title}
            task_schedule(
                customer=invitee.customer,
                kind=TaskKind.FOLLOW_UP,
                source_key=f"event:{event.pk}:{'came' if came else 'absent'}",
                title=title,
                due_on=due,
                priority=Priority.NORMAL if came else Priority.LOW,
                once=True,
            )
            counts["attended" if came else "no_show"] += 1
    return counts


def event_counts(*, event: Event) -> dict:
    """Seats taken, waiting, declined, no answer and checked in, over all invitees (the
    event's own figures; the invitee list itself is restricted to what the user may see)."""
    rows = Counter(event.invitees.values_list("response", flat=True))
    return {
        "invited": sum(rows.values()),
        "accepted": rows[Response.ACCEPTED],
        "waitlisted": rows[Response.WAITLISTED],
        "declined": rows[Response.DECLINED],
        "pending": rows[Response.PENDING],
        "checked_in": event.invitees.filter(checked_in_at__isnull=False).count(),
        "free": max(event.capacity - rows[Response.ACCEPTED], 0),
    }
