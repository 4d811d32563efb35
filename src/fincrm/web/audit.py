"""The audit page's reads: who saw personal data (``AccessLog``) and who changed what (the
``history`` of every audited model), merged newest first."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from heapq import merge

from django.apps import apps
from django.utils import timezone

from fincrm.core.models import AccessLog
from fincrm.financing.models import Facility

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
    # The scorecard in use and the switches that changed it (no client: the whole book).
    ("risk.ScorecardModel", None),
    ("risk.ModelSwitch", None),
    # Staff development: the courses required and who took them (no client).
    ("staff.Course", None),
    ("staff.TrainingRecord", None),
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
        if customer_id and path is None:
            continue  # not about one client
        if customer_id:
            field = "id" if path == "id" else path.split("__")[0]
            if "__" in path:  # a payment: through its facility
                ids = Facility.objects.filter(customer_id=customer_id).values("pk")
                history = history.filter(facility_id__in=ids)
            else:
                history = history.filter(**{field: customer_id})
        streams.append(_changes(history, str(model._meta.verbose_name), path))
    return list(merge(*streams, key=lambda row: row["at"], reverse=True))[:LIMIT]


def _changes(history, name: str, path: str | None):
    """The newest changes of one audited model as audit rows. A function of its own so each
    stream keeps its own ``name`` and ``path`` (a generator expression in the loop would read
    the loop's last ones when ``merge`` consumes it)."""
    for h in history.select_related("history_user").order_by("-history_date")[:LIMIT]:
        yield {"at": h.history_date, "user": h.history_user, "kind": "change",
               "what": f"{name} #{h.id}", "detail": h.get_history_type_display(),
               "customer_id": _customer_of(h, path)}  # fmt: skip


def _customer_of(record, path: str | None) -> int | None:
    if path is None:
        return None
    if path == "id":
        return record.id
    if "__" in path:
        return None
    return getattr(record, path, None)
