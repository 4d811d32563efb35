"""Writes to the client book. Each service is one business action in one transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.core.events import customer_changed
from fincrm.core.validators import normalize_ric, normalize_uscc

from .choices import CustomerKind
from .geo import city_tier
from .models import MSG_REFERRAL_CYCLE, Contact, Customer, FinancialStatement
from .signals import customer_reassigned

#: Referral chains longer than this are not followed (a guard, not a business rule).
MAX_REFERRAL_DEPTH = 1_000


def _check_referrer(customer: Customer) -> None:
    """A referrer may not have been brought in by ``customer`` itself, directly or through a
    chain of referrals: the links form a forest, never a circle. (Referring itself is the
    ``customer_not_referred_by_itself`` constraint.)"""
    if customer.pk is None or customer.referred_by_id is None:
        return
    current, seen = customer.referred_by_id, 0
    while current is not None and seen < MAX_REFERRAL_DEPTH:
        if current == customer.pk:
            error = ValidationError(
                MSG_REFERRAL_CYCLE,
                code="referral_cycle",
                params={"referrer": customer.referred_by},
            )
            raise ValidationError({"referred_by": error})
        current = Customer.objects.filter(pk=current).values_list("referred_by_id", flat=True)[0]
        seen += 1


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
    "referred_by",
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
    _check_referrer(customer)
    customer.save()
    if customer.owner_id != previous_owner:  # reassigned: its open work moves with it
        customer_reassigned.send(
            sender=Customer, customer=customer, previous_owner_id=previous_owner
        )
    if tags is not None:
        customer.tags.set(tags)
    customer_changed(customer.pk)
    return customer


CONTACT_FIELDS = (
    "name",
    "title",
    "phone",
    "email",
    "wechat_id",
    "birthday",
    "preferred_channel",
    "is_key",
)
STATEMENT_FIELDS = (
    "period_end",
    "revenue",
    "cost",
    "net_profit",
    "total_assets",
    "total_liabilities",
    "current_assets",
    "current_liabilities",
    "inventory",
    "receivables",
    "operating_cash_flow",
    "interest_expense",
    "audited",
)
MSG_UNBALANCED = _(
    "Total assets (%(assets)s) must equal liabilities plus equity (%(total)s): "
    "they differ by %(gap)s, more than rounding."
)
MSG_NEGATIVE_REVENUE = _("Revenue cannot be negative.")
MSG_FUTURE_PERIOD = _("The period cannot end after today (%(today)s).")
MSG_CURRENT_ABOVE_TOTAL = _("Current assets cannot exceed total assets.")
#: Statements are rounded (to the yuan, often to thousands): assets may differ from
#: liabilities plus equity by 0.1 % of assets, at least one yuan.
BALANCE_TOLERANCE = Decimal("0.001")


def statement_errors(data: dict[str, Any], *, equity: Decimal | None, today) -> dict:
    """What is wrong with a statement's figures, by field (empty: nothing)."""
    errors: dict[str, list] = {}
    assets, liabilities = data.get("total_assets"), data.get("total_liabilities")
    if equity is not None and assets is not None and liabilities is not None:
        gap = abs(assets - (liabilities + equity))
        if gap > max(Decimal("1"), abs(assets) * BALANCE_TOLERANCE):
            params = {"assets": f"{assets:,.2f}", "total": f"{liabilities + equity:,.2f}",
                      "gap": f"{gap:,.2f}"}  # fmt: skip
            errors["total_assets"] = [MSG_UNBALANCED % params]
    if data.get("revenue") is not None and data["revenue"] < 0:
        errors["revenue"] = [MSG_NEGATIVE_REVENUE]
    if data.get("period_end") is not None and data["period_end"] > today:
        errors["period_end"] = [MSG_FUTURE_PERIOD % {"today": today.isoformat()}]
    current = data.get("current_assets")
    if current is not None and assets is not None and current > assets:
        errors["current_assets"] = [MSG_CURRENT_ABOVE_TOTAL]
    return errors


def _save_child(obj, data: dict[str, Any], fields: tuple[str, ...]):
    for field, value in data.items():
        if field in fields:
            setattr(obj, field, value)
    obj.full_clean()
    obj.save()
    customer_changed(obj.customer_id)  # ratios, score, warnings and care plans follow
    return obj


@transaction.atomic
def contact_create(*, customer: Customer, data: dict[str, Any]) -> Contact:
    """Add a contact person to a client (audited; the client is re-evaluated)."""
    return _save_child(Contact(customer=customer), data, CONTACT_FIELDS)


@transaction.atomic
def contact_update(*, contact: Contact, data: dict[str, Any]) -> Contact:
    return _save_child(contact, data, CONTACT_FIELDS)


@transaction.atomic
def statement_create(
    *, customer: Customer, data: dict[str, Any], equity: Decimal | None
) -> FinancialStatement:
    """Record one period's statement after the checks of :func:`statement_errors`; the
    history records who entered what, and the client's ratios, score and warnings follow."""
    errors = statement_errors(data, equity=equity, today=timezone.localdate())
    if errors:
        raise ValidationError(errors)
    return _save_child(FinancialStatement(customer=customer), data, STATEMENT_FIELDS)


@transaction.atomic
def statement_update(
    *, statement: FinancialStatement, data: dict[str, Any], equity: Decimal | None
) -> FinancialStatement:
    errors = statement_errors(data, equity=equity, today=timezone.localdate())
    if errors:
        raise ValidationError(errors)
    return _save_child(statement, data, STATEMENT_FIELDS)
