"""The reads of a client's 360° page, composed here in the top layer from the apps' sections:
the client's own data (customers), its applications and facilities (financing) and a timeline
that merges the news of every app. The page is :func:`fincrm.web.customer360.customer_detail`.
"""

from __future__ import annotations

from datetime import time
from itertools import chain

from django.utils import timezone

from fincrm.customers.models import Customer, FinancialStatement
from fincrm.engagement.models import Interaction
from fincrm.evaluation.models import TierChange
from fincrm.financing.client_section import customer_financing
from fincrm.financing.models import ApplicationStageChange, FacilityModification, Payment, Tranche
from fincrm.risk.models import Alert
from fincrm.service.models import Ticket
from fincrm.surveys.models import Response

TIMELINE_LIMIT = 60


def customer_360(*, customer: Customer) -> dict:
    """Everything the 360° page shows, in a fixed number of queries whatever the history
    (the applications and facilities: :func:`fincrm.financing.client_section.customer_financing`).
    """
    statements = list(FinancialStatement.objects.filter(customer=customer).order_by("period_end"))
    financing = customer_financing(customer=customer)
    return {
        "contacts": list(customer.contacts.all()),
        "statements": statements,
        "applications": financing["applications"],
        "applications_total": financing["applications_total"],
        "facilities": financing["facilities"],
        "timeline": customer_timeline(customer=customer, modifications=financing["modifications"]),
        "tags": list(customer.tags.all()),
    }


def customer_timeline(
    *, customer: Customer, limit: int = TIMELINE_LIMIT, modifications=None
) -> list[dict]:
    """Interactions, stage moves, payments, extensions and restructurings, tier changes,
    complaints, survey answers and risk alerts merged, newest first."""
    interactions = Interaction.objects.filter(customer=customer).select_related("created_by")[
        :limit
    ]
    stage_changes = (
        ApplicationStageChange.objects.filter(application__customer=customer)
        .select_related("application__product", "changed_by")
        .order_by("-changed_at")[:limit]
    )
    payments = (
        Payment.objects.filter(facility__customer=customer)
        .select_related("facility")
        .order_by("-paid_on")[:limit]
    )
    tier_changes = TierChange.objects.filter(customer=customer)[:limit]
    tickets = Ticket.objects.filter(customer=customer).order_by("-opened_at")[:limit]
    responses = (
        Response.objects.filter(customer=customer)
        .select_related("invitation__survey")
        .order_by("-submitted_at")[:limit]
    )
    alerts = Alert.objects.filter(customer=customer).order_by("-raised_at")[:limit]
    drawdowns = (
        Tranche.objects.filter(application__customer=customer, disbursed_on__isnull=False)
        .select_related("facility")
        .order_by("-disbursed_on", "-number")[:limit]
    )
    if modifications is None:  # customer_360 has them already
        modifications = (
            FacilityModification.objects.filter(facility__customer=customer)
            .select_related("facility")
            .order_by("-requested_at")[:limit]
        )
    events = chain(
        ({"kind": "ticket", "at": t.opened_at, "obj": t} for t in tickets),
        ({"kind": "survey", "at": r.submitted_at, "obj": r} for r in responses),
        ({"kind": "alert", "at": a.raised_at, "obj": a} for a in alerts),
        ({"kind": "tier", "at": t.changed_at, "obj": t} for t in tier_changes),
        ({"kind": "interaction", "at": i.occurred_at, "obj": i} for i in interactions),
        ({"kind": "stage", "at": s.changed_at, "obj": s} for s in stage_changes),
        ({"kind": "payment", "at": p.paid_on, "obj": p} for p in payments),
        ({"kind": "tranche", "at": t.disbursed_on, "obj": t} for t in drawdowns),
        (
            {"kind": "modification", "at": m.decided_at or m.requested_at, "obj": m}
            for m in modifications
        ),
    )
    return sorted(events, key=_event_sort_key, reverse=True)[:limit]


def _event_sort_key(event: dict):
    at = event["at"]
    # Payments carry a date, the rest a datetime: compare local (date, time-or-midnight).
    if hasattr(at, "date"):
        local = timezone.localtime(at)
        return (local.date(), local.time())
    return (at, time(0))
