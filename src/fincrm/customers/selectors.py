"""Reads of the client book, always restricted to what the acting user may see."""

from __future__ import annotations

from datetime import time
from itertools import chain

from django.db.models import Exists, OuterRef, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fincrm.core.permissions import Action
from fincrm.engagement.models import Interaction
from fincrm.evaluation.models import TierChange
from fincrm.financing.choices import CLOSED_STAGES, FacilityStatus
from fincrm.financing.models import (
    Application,
    ApplicationStageChange,
    Facility,
    FacilityModification,
    Installment,
    Payment,
    Tranche,
)
from fincrm.risk.models import Alert
from fincrm.service.models import Ticket
from fincrm.surveys.models import Response

from .models import Customer, FinancialStatement

TIMELINE_LIMIT = 60


def customer_list(*, user, action: Action = "view") -> QuerySet[Customer]:
    return Customer.objects.restrict(user, action).select_related("owner", "team")


def customer_get(*, user, pk: int, action: Action = "view") -> Customer:
    """The client, or 404 when it does not exist *or* the user may not see it."""
    return get_object_or_404(customer_list(user=user, action=action), pk=pk)


#: Clients the referrer search offers at once; a longer list is narrowed by typing more.
REFERRER_CHOICES = 20


def referral_descendants(customer_pk: int) -> set[int]:
    """The clients ``customer_pk`` brought in, directly or through a chain of referrals (one
    query per generation): none of them may become its referrer."""
    found: set[int] = set()
    generation = {customer_pk}
    while generation:
        generation = (
            set(Customer.objects.filter(referred_by__in=generation).values_list("pk", flat=True))
            - found
            - {customer_pk}
        )
        found |= generation
    return found


def referrer_candidates(
    *, user, customer: Customer, query: str, keep: int | None = None
) -> list[Customer]:
    """The clients ``user`` may see that match ``query`` (as the client list's search finds
    them) and may refer ``customer``: never itself nor a client it brought in (no circle).
    ``keep`` (the referrer already chosen) comes first when it is one of those."""
    from .filtersets import search_matches

    allowed = customer_list(user=user).exclude(
        pk__in=referral_descendants(customer.pk) | {customer.pk}
    )
    kept = list(allowed.filter(pk=keep)) if keep is not None else []
    matches = search_matches(query, user=user, via="page")
    found = (
        list(
            allowed.filter(pk__in=matches)
            .exclude(pk__in=[] if keep is None else [keep])
            .order_by("name", "pk")[:REFERRER_CHOICES]
        )
        if matches is not None
        else []
    )
    return kept + found


def customer_referrals(*, customer: Customer, user) -> dict:
    """The 360° page's referral line: who brought the client in (``referrer``, or only
    ``referrer_hidden`` when the user may not see that client) and the clients it brought
    (``referral_count`` of all of them, ``referrals`` the first of those the user may see).
    Two queries at most, one without a referrer."""
    visible = customer_list(user=user)
    referrer = (
        visible.filter(pk=customer.referred_by_id).first() if customer.referred_by_id else None
    )
    brought = list(
        Customer.objects.filter(referred_by=customer)
        .annotate(visible=Exists(visible.filter(pk=OuterRef("pk"))))
        .order_by("name", "pk")
        .only("pk", "name")
    )
    return {
        "referrer": referrer,
        "referrer_hidden": customer.referred_by_id is not None and referrer is None,
        "referral_count": len(brought),
        "referrals": [c for c in brought if c.visible][:REFERRER_CHOICES],
    }


#: Decided applications the 360° page lists (open ones are always listed); the rest are one
#: click away in the application list filtered to the client.
DECIDED_APPLICATIONS_SHOWN = 10


def customer_360(*, customer: Customer) -> dict:
    """Everything the 360° page shows, in a fixed number of queries whatever the history.

    A client of ten years has dozens of applications and closed facilities: the page lists
    every open application and the latest decided ones, every facility, and the repayment
    schedules of live facilities (a closed one's schedule is loaded when opened).
    """
    statements = list(FinancialStatement.objects.filter(customer=customer).order_by("period_end"))
    applications = list(
        Application.objects.filter(customer=customer)
        .select_related("product")
        .order_by("-created_at", "-pk")
    )
    decided = [a for a in applications if a.stage in CLOSED_STAGES]
    shown = {a.pk for a in decided[:DECIDED_APPLICATIONS_SHOWN]}
    shown |= {a.pk for a in applications if a.stage not in CLOSED_STAGES}
    facilities = list(
        Facility.objects.filter(customer=customer).select_related("product").order_by("-start_date")
    )
    # One query for the schedules of the live facilities, whatever their number.
    schedules: dict[int, list[Installment]] = {}
    for installment in (
        Installment.objects.filter(facility__customer=customer)
        .exclude(facility__status=FacilityStatus.CLOSED)
        .order_by("facility_id", "number")
    ):
        schedules.setdefault(installment.facility_id, []).append(installment)
    # One query for the tranche plans of facilities disbursed in tranches.
    plans: dict[int, list[Tranche]] = {}
    for tranche in Tranche.objects.filter(application__customer=customer).order_by("number"):
        plans.setdefault(tranche.application_id, []).append(tranche)
    # One query for the extensions and restructurings: each facility's, and the timeline's.
    modifications = list(
        FacilityModification.objects.filter(facility__customer=customer)
        .select_related("requested_by", "decided_by", "revision")
        .order_by("-requested_at", "-pk")
    )
    by_pk = {facility.pk: facility for facility in facilities}
    for facility in facilities:
        facility.modification_list = []
    for modification in modifications:
        modification.facility = by_pk[modification.facility_id]
        modification.facility.modification_list.append(modification)
    for facility in facilities:
        facility.schedule_inline = facility.status != FacilityStatus.CLOSED
        facility.schedule = schedules.get(facility.pk, [])
        facility.tranche_plan = plans.get(facility.application_id, [])
        facility.tranches_drawn = sum(t.facility_id == facility.pk for t in facility.tranche_plan)
    return {
        "contacts": list(customer.contacts.all()),
        "statements": statements,
        "applications": [a for a in applications if a.pk in shown],
        "applications_total": len(applications),
        "facilities": facilities,
        "timeline": customer_timeline(customer=customer, modifications=modifications),
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
