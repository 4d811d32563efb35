"""Reads of the client book, always restricted to what the acting user may see. The 360° page's
reads, which span the apps above customers, are the web layer's
(:mod:`fincrm.web.customer360_selectors`)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.shortcuts import get_object_or_404

from fincrm.core.permissions import Action

from .models import Customer


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
