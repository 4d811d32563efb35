"""Reads of the service desk: the open queue by SLA state and the monthly report."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from django.db.models import Avg, Count, F, Q
from django.utils import timezone

from .choices import OPEN_STATUSES, RootCause, SlaState, TicketCategory
from .filtersets import TicketFilterSet
from .models import Ticket
from .services import service_rules, ticket_state

#: The open queue shows at most this many tickets (a desk with more has bigger problems).
QUEUE_LIMIT = 1_000
SLA_ORDER = (SlaState.BREACHED, SlaState.AT_RISK, SlaState.ON_TRACK)


def ticket_queue(*, user, state: str = "", query=None) -> dict:
    """Open tickets the user may see, each with its SLA state, breached first (or in the
    order of the column ``query`` sorts by), filtered by ``query`` (``TicketFilterSet``)."""
    now = timezone.now()
    qs = Ticket.objects.restrict(user, "view").filter(status__in=OPEN_STATUSES)
    filterset = TicketFilterSet(query or None, queryset=qs, user=user)
    if filterset.is_bound and filterset.is_valid():
        qs = filterset.qs
    ordered = filterset.ordered
    tickets = list(
        qs.select_related("customer", "assignee", "escalated_to").order_by(
            *(qs.query.order_by if ordered else ()), "resolve_by", "pk"
        )[:QUEUE_LIMIT]
    )
    rules = service_rules()
    for ticket in tickets:
        ticket.sla = ticket_state(ticket, now, rules)
    counts = Counter(t.sla for t in tickets)
    if state:
        tickets = [t for t in tickets if t.sla == state]
    if not ordered:
        tickets.sort(
            key=lambda t: (SLA_ORDER.index(t.sla) if t.sla in SLA_ORDER else 9, t.resolve_by)
        )
    return {
        "tickets": tickets,
        "counts": [(s, SlaState(s).label, counts.get(s, 0)) for s in SLA_ORDER],
        "state": state,
        "filterset": filterset,
    }


def month_bounds(month: date) -> tuple:
    start = timezone.make_aware(datetime(month.year, month.month, 1))
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    end = timezone.make_aware(datetime(following.year, following.month, 1))
    return start, end


def monthly_report(*, user, month: date) -> dict:
    """Complaints opened in a month: by category and root cause, SLA kept, satisfaction."""
    start, end = month_bounds(month)
    qs = Ticket.objects.restrict(user, "view").filter(opened_at__gte=start, opened_at__lt=end)
    cells = Counter(
        {
            (c, r): n
            for c, r, n in qs.values("category", "root_cause")
            .annotate(n=Count("pk"))
            .values_list("category", "root_cause", "n")
        }
    )
    causes = [("", "—"), *RootCause.choices]
    rows = []
    for code, label in TicketCategory.choices:
        counts = [cells.get((code, cause), 0) for cause, _l in causes]
        if any(counts):
            rows.append({"category": label, "counts": counts, "total": sum(counts)})
    totals = qs.aggregate(
        n=Count("pk"),
        closed=Count("pk", filter=Q(closed_at__isnull=False)),
        late=Count("pk", filter=Q(resolved_at__gt=F("resolve_by"))),
        satisfaction=Avg("satisfaction"),
    )
    return {
        "month": month,
        "causes": [label for _c, label in causes],
        "rows": rows,
        "totals": totals,
    }


def customer_tickets(*, customer, limit: int = 10) -> list[Ticket]:
    """A client's latest complaints and requests, open ones first."""
    tickets = list(Ticket.objects.filter(customer=customer).order_by("-opened_at")[:limit])
    return sorted(tickets, key=lambda t: not t.is_open)
