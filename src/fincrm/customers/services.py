"""Writes to the client book. Each service is one business action in one transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from fincrm.core.validators import normalize_ric, normalize_uscc
from fincrm.evaluation.tasks import customer_changed

from .choices import CustomerKind
from .geo import city_tier
from .models import Customer

CUSTOMER_FIELDS = (
    "kind",
    "name",
    "credit_code",
    "id_number",
    "phone",
    "email",
    "industry",
    "province",
    "city",
    "city_tier",
    "address",
    "registered_capital",
    "annual_revenue",
    "employee_count",
    "client_type",
    "needs_level",
    "risk_appetite",
    "source_channel",
    "owner",
    "team",
    "birthday",
    "founded_on",
)


def _field(name: str, normalise, value):
    """``normalise(value)``, its error attached to the field it is about."""
    try:
        return normalise(value)
    except ValidationError as exc:
        raise ValidationError({name: exc.error_list}) from exc


def _normalise_identity(data: dict[str, Any]) -> None:
    """Compact codes; keep only the identifier that matches the kind."""
    if data.get("kind") == CustomerKind.COMPANY:
        data["id_number"] = None
        if data.get("credit_code"):
            data["credit_code"] = _field("credit_code", normalize_uscc, data["credit_code"])
    elif data.get("kind") == CustomerKind.PERSON:
        data["credit_code"] = None
        if data.get("id_number"):
            data["id_number"] = _field("id_number", normalize_ric, data["id_number"])
    if data.get("city") and not data.get("city_tier"):
        data["city_tier"] = city_tier(data["city"])


@transaction.atomic
def customer_create(*, data: dict[str, Any], tags=(), created_by=None) -> Customer:
    """Create a client; the owner's team becomes the client's team unless one is given."""
    data = {k: v for k, v in data.items() if k in CUSTOMER_FIELDS}
    _normalise_identity(data)
    owner = data.get("owner")
    if owner is not None and not data.get("team"):
        data["team"] = owner.team
    customer = Customer(**data)
    customer.full_clean()
    customer.save()
    if tags:
        customer.tags.set(tags)
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, data: dict[str, Any], tags=None) -> Customer:
    """Update fields; every change lands in the audit history with who made it."""
    data = {k: v for k, v in data.items() if k in CUSTOMER_FIELDS}
    merged = {f: getattr(customer, f) for f in ("kind", "credit_code", "id_number")} | data
    _normalise_identity(merged)
    data.update({k: merged[k] for k in ("credit_code", "id_number", "city_tier") if k in merged})
    previous_owner = customer.owner_id
    for field, value in data.items():
        setattr(customer, field, value)
    customer.full_clean()
    customer.save()
    if customer.owner_id != previous_owner:  # reassigned: its open work moves with it
        from fincrm.engagement.models import Task

        Task.objects.filter(customer=customer, owner_id=previous_owner, status="open").update(
            owner_id=customer.owner_id
        )
    if tags is not None:
        customer.tags.set(tags)
    customer_changed(customer.pk)
    return customer
