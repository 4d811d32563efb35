"""Writes of the service desk: open, respond, resolve, close, rate, escalate.

Deadlines come from the policy's SLA per severity (working hours of Chinese working days, or
wall-clock hours); the category is suggested from the text by a classifier trained on past
tickets, falling back to keyword rules. Closing a complaint schedules a follow-up visit
(回访) and the after-complaint survey.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.accounts.selectors import team_lead_for
from fincrm.analytics import sla
from fincrm.analytics.text import ComplaintCategoriser
from fincrm.core.events import customer_changed
from fincrm.core.policy import policy_active, policy_config
from fincrm.engagement.choices import NotificationKind, Priority, TaskKind
from fincrm.engagement.models import Notification
from fincrm.engagement.services import task_schedule

from .choices import OPEN_STATUSES, TicketCategory, TicketKind, TicketSource, TicketStatus
from .models import Ticket
from .signals import ticket_closed

MSG_CLOSED = _("This ticket is already closed.")
MSG_NOT_RESOLVED = _("Record the resolution and root cause before closing.")
MSG_NOT_CLOSED = _("The client rates a ticket once it is closed.")
MSG_CONTACT_OF_OTHER_CLIENT = _("This contact belongs to another client.")
#: Past tickets the categoriser learns from (the most recent ones).
TRAINING_TICKETS = 5_000


def _policy():
    return policy_config(policy_active())


def deadlines(opened_at, severity: str) -> tuple:
    rule = _policy().service.sla[severity]
    respond = sla.add_business_hours(
        opened_at, rule.respond_hours, business_days=rule.business_days
    )
    resolve = sla.add_business_hours(
        opened_at, rule.resolve_hours, business_days=rule.business_days
    )
    return respond, resolve


@lru_cache(maxsize=4)
def _categoriser(fingerprint: tuple[int, int]) -> ComplaintCategoriser:
    """A categoriser fitted on the latest tickets; refitted when tickets were added or
    recategorised (the fingerprint: ticket count and the latest change)."""
    rows = list(
        Ticket.objects.order_by("-pk").values_list("subject", "description", "category")[
            :TRAINING_TICKETS
        ]
    )
    model = ComplaintCategoriser()
    if rows:
        model.fit([f"{s} {d}" for s, d, _c in rows], [c for _s, _d, c in rows])
    return model


def categoriser() -> ComplaintCategoriser:
    last = Ticket.history.order_by("-history_id").values_list("history_id", flat=True).first()
    return _categoriser((Ticket.objects.count(), last or 0))


@transaction.atomic
def ticket_open(
    *,
    customer,
    subject: str,
    description: str,
    channel: str,
    kind: str = TicketKind.COMPLAINT,
    severity: str = "medium",
    category: str = "",
    contact=None,
    created_by=None,
    source: str = TicketSource.STAFF,
    opened_at=None,
) -> Ticket:
    """Log a complaint or request; the category is suggested when none is given."""
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": MSG_CONTACT_OF_OTHER_CLIENT})
    opened_at = opened_at or timezone.now()
    suggestion = categoriser().suggest(f"{subject} {description}")
    respond_by, resolve_by = deadlines(opened_at, severity)
    ticket = Ticket(
        customer=customer,
        contact=contact,
        kind=kind,
        channel=channel,
        source=source,
        subject=subject,
        description=description,
        category=category or suggestion.category,
        suggested_category=suggestion.category,
        suggestion_source=suggestion.source,
        keywords=list(suggestion.keywords),
        severity=severity,
        assignee=customer.owner,
        opened_at=opened_at,
        respond_by=respond_by,
        resolve_by=resolve_by,
        created_by=created_by,
    )
    if ticket.category not in TicketCategory.values:
        ticket.category = TicketCategory.OTHER
    ticket.full_clean()
    ticket.save()
    customer_changed(customer.pk)  # the complaints early-warning signal counts it
    return ticket


def _editable(ticket: Ticket) -> Ticket:
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == TicketStatus.CLOSED:
        raise ValidationError(MSG_CLOSED, code="closed")
    return ticket


@transaction.atomic
def ticket_respond(*, ticket: Ticket, user, now=None) -> Ticket:
    """First response to the client: stops the response clock."""
    ticket = _editable(ticket)
    if ticket.responded_at is None:
        ticket.responded_at = now or timezone.now()
    if ticket.status == TicketStatus.OPEN:
        ticket.status = TicketStatus.IN_PROGRESS
    ticket.assignee = ticket.assignee or user
    ticket.save(update_fields=["responded_at", "status", "assignee"])
    return ticket


@transaction.atomic
def ticket_resolve(
    *, ticket: Ticket, user, resolution: str, root_cause: str, category: str = "", now=None
) -> Ticket:
    """Record how it was solved and why it happened: stops the resolution clock."""
    ticket = _editable(ticket)
    now = now or timezone.now()
    ticket.responded_at = ticket.responded_at or now
    ticket.resolved_at = now
    ticket.resolution = resolution
    ticket.root_cause = root_cause
    if category:
        ticket.category = category
    ticket.status = TicketStatus.RESOLVED
    ticket.full_clean()
    ticket.save()
    return ticket


@transaction.atomic
def ticket_close(*, ticket: Ticket, user, now=None) -> Ticket:
    """Close a resolved ticket: a follow-up visit (回访) is scheduled for the client's manager
    and the after-complaint survey goes out (``signals.ticket_closed``: surveys sends it, in
    this transaction)."""
    ticket = _editable(ticket)
    if ticket.status != TicketStatus.RESOLVED or not ticket.root_cause:
        raise ValidationError(MSG_NOT_RESOLVED, code="not_resolved")
    now = now or timezone.now()
    ticket.status = TicketStatus.CLOSED
    ticket.closed_at = now
    ticket.save(update_fields=["status", "closed_at"])
    days = _policy().service.follow_up_after_complaint_days
    task_schedule(
        customer=ticket.customer,
        kind=TaskKind.VISIT,
        source_key=f"ticket:{ticket.pk}",
        title=str(_("Follow-up after complaint: %(subject)s")) % {"subject": ticket.subject},
        due_on=timezone.localdate(now) + timedelta(days=days),
        priority=Priority.HIGH,
        detail=ticket.resolution,
    )
    ticket_closed.send(sender=Ticket, ticket=ticket)
    return ticket


@transaction.atomic
def ticket_rate(*, ticket: Ticket, satisfaction: int) -> Ticket:
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status != TicketStatus.CLOSED:
        raise ValidationError(MSG_NOT_CLOSED, code="not_closed")
    ticket.satisfaction = satisfaction
    ticket.full_clean()
    ticket.save(update_fields=["satisfaction"])
    return ticket


def ticket_state(ticket: Ticket, now=None, rules=None) -> str:
    """The SLA state of a ticket now: met / on track / at risk / breached. ``rules`` (the
    policy's service rules) read once by a caller that states many tickets."""
    rules = rules or service_rules()
    return sla.sla_state(
        ticket.opened_at,
        now or timezone.now(),
        ticket.respond_by,
        ticket.resolve_by,
        ticket.responded_at,
        ticket.resolved_at,
        at_risk_share=rules.at_risk_share,
        business_days=rules.sla[ticket.severity].business_days,
    )


def service_rules():
    """The active policy's service rules (SLA per severity, the at-risk share)."""
    return _policy().service


def _breached(now) -> Q:
    return Q(responded_at__isnull=True, respond_by__lt=now) | Q(
        resolved_at__isnull=True, resolve_by__lt=now
    )


@transaction.atomic
def tickets_escalate(*, now=None) -> int:
    """Escalate every open ticket past a deadline, once, to the lead of the client's team
    (notified, with a high-priority task). Returns how many were escalated."""
    now = now or timezone.now()
    late = (
        Ticket.objects.select_for_update()
        .filter(status__in=OPEN_STATUSES, escalated_at__isnull=True)
        .filter(_breached(now))
        .select_related("customer")
    )
    count = 0
    for ticket in late:
        lead = team_lead_for(ticket.customer.team_id) or ticket.customer.owner
        ticket.escalated_at, ticket.escalated_to = now, lead
        ticket.save(update_fields=["escalated_at", "escalated_to"])
        Notification.objects.create(
            recipient=lead,
            customer=ticket.customer,
            kind=NotificationKind.SLA_BREACHED,
            message=str(_("SLA breached: %(subject)s")) % {"subject": ticket.subject},
            data={"ticket": ticket.pk},
        )
        task_schedule(
            customer=ticket.customer,
            kind=TaskKind.OTHER,
            source_key=f"escalation:{ticket.pk}",
            title=str(_("Escalated complaint past its SLA: %(subject)s"))
            % {"subject": ticket.subject},
            due_on=timezone.localdate(now),
            priority=Priority.HIGH,
            owner=lead,
        )
        count += 1
    return count
