"""Reads of the external checks: what a user may see, and the early-warning signal."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .models import ExternalCheck, Finding


def findings_for(*, user, customer) -> QuerySet[Finding]:
    return (
        Finding.objects.restrict(user, "view")
        .filter(customer=customer)
        .select_related("first_seen")
    )


def checks_for(*, user, customer) -> QuerySet[ExternalCheck]:
    return ExternalCheck.objects.restrict(user, "view").filter(customer=customer)


def external_findings_counts(as_of: date, *, days: int, categories) -> QuerySet:
    """Per client: open findings in ``categories`` first reported in the ``days`` up to
    ``as_of`` (values ``customer_id``, ``n``) — the signal ``external_findings``."""
    until = timezone.make_aware(datetime.combine(as_of + timedelta(days=1), datetime.min.time()))
    return (
        Finding.objects.filter(
            resolved_at__isnull=True,
            category__in=list(categories),
            first_seen_at__gte=until - timedelta(days=days),
            first_seen_at__lt=until,
        )
        .order_by()
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )


def legal_dispute_counts(as_of: date) -> tuple[QuerySet, QuerySet]:
    """The value tiering's ``open_legal_disputes`` as of ``as_of`` (end of that day, UTC):
    (clients with a completed check by then, values ``customer_id``; per client, findings in
    ``choices.LEGAL`` first reported by then and not resolved by then, values
    ``customer_id``, ``n``). A client without a completed check is unknown, not 0."""
    from .choices import LEGAL, CheckStatus

    until = timezone.make_aware(datetime.combine(as_of + timedelta(days=1), datetime.min.time()))
    checked = (
        ExternalCheck.objects.filter(status=CheckStatus.DONE, checked_at__lt=until)
        .order_by()
        .values("customer_id")
        .distinct()
        .values_list("customer_id")
    )
    open_legal = (
        Finding.objects.filter(category__in=list(LEGAL), first_seen_at__lt=until)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=until))
        .order_by()
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )
    return checked, open_legal
