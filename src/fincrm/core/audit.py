"""The audit page's reads: who saw personal data (``AccessLog``) and who changed what (the
``history`` of every audited model), merged newest first."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from heapq import merge

from django.apps import apps
from django.utils import timezone

from .models import AccessLog

#: Audited models (django-simple-history) shown on the audit page, with the path to the client.
AUDITED = (
    ("customers.Customer", "id"),
    ("customers.FinancialStatement", "customer_id"),
    ("financing.Application", "customer_id"),
    ("financing.Facility", "customer_id"),
    ("financing.Payment", "facility__customer_id"),
    ("risk.ControlProposal", "customer_id"),
    ("risk.Alert", "customer_id"),
    ("risk.Review", "customer_id"),
    ("service.Ticket", "customer_id"),
)
LIMIT = 300


def audit_trail(*, user_id: int | None, customer_id: int | None, since: date | None,
                until: date | None) -> list[dict]:  # fmt: skip
    start = timezone.make_aware(datetime.combine(since or timezone.localdate() - timedelta(30),
                                                 time.min))  # fmt: skip
    end = timezone.make_aware(datetime.combine((until or timezone.localdate()) + timedelta(1),
                                               time.min))  # fmt: skip
    access = AccessLog.objects.filter(at__gte=start, at__lt=end).select_related("user", "customer")
    if user_id:
        access = access.filter(user_id=user_id)
    if customer_id:
        access = access.filter(customer_id=customer_id)
    streams = [
        (
            {"at": a.at, "user": a.user, "kind": "access", "what": a.get_action_display(),
             "detail": " · ".join(x for x in (a.fields, a.reason, a.via) if x),
             "customer_id": a.customer_id}
            for a in access.order_by("-at")[:LIMIT]
        )
    ]  # fmt: skip
    for label, path in AUDITED:
        model = apps.get_model(label)
        history = model.history.filter(history_date__gte=start, history_date__lt=end)
        if user_id:
            history = history.filter(history_user_id=user_id)
        if customer_id:
            field = "id" if path == "id" else path.split("__")[0]
            if "__" in path:  # a payment: through its facility
                from fincrm.financing.models import Facility

                ids = Facility.objects.filter(customer_id=customer_id).values("pk")
                history = history.filter(facility_id__in=ids)
            else:
                history = history.filter(**{field: customer_id})
        name = str(model._meta.verbose_name)
        streams.append(
            {"at": h.history_date, "user": h.history_user, "kind": "change",
             "what": f"{name} #{h.id}", "detail": h.get_history_type_display(),
             "customer_id": _customer_of(h, path)}
            for h in history.select_related("history_user").order_by("-history_date")[:LIMIT]
        )  # fmt: skip
    return list(merge(*streams, key=lambda row: row["at"], reverse=True))[:LIMIT]


def _customer_of(record, path: str) -> int | None:
    if path == "id":
        return record.id
    if "__" in path:
        return None
    return getattr(record, path, None)
