"""Personal-information-law requests (个人信息保护法): a client's data exported on request, and
its personal data erased on request — keeping what financial law requires.

Erasure anonymises the person: name and ID number (for individuals; the ID number becomes
a placeholder), phone, e-mail, address, birthday; contacts are deleted; free text that may
hold personal data (interaction summaries, survey comments, complaint descriptions) is
cleared. Contracts, schedules, repayments, credit assessments and their audit history stay
(record-keeping duties of lenders), tied to the anonymised client. Refused while a facility
is running or an application is open: the contract still needs its counterparty.

It reads and clears the data of several apps (customers, financing, engagement, service,
surveys, loyalty), so it lives in the top layer with the client pages that call it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.core.models import AccessAction, access_log
from fincrm.customers.models import Customer
from fincrm.engagement.models import Interaction
from fincrm.financing.choices import CLOSED_STAGES, FacilityStatus
from fincrm.financing.models import Application, Facility, Payment
from fincrm.loyalty.models import PointsEntry
from fincrm.service.models import Ticket
from fincrm.surveys.models import Answer

MSG_ACTIVE = _(
    "This client still has a running facility or an open application: its data must be kept "
    "until they end."
)
MSG_REASON = _("Give the reason (the request's reference).")


def _rows(qs, fields) -> list[dict[str, Any]]:
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else str(v) if v is not None and not
             isinstance(v, int | float | str | bool | list | dict) else v)
         for k, v in row.items()}
        for row in qs.values(*fields)
    ]  # fmt: skip


def customer_export(*, customer: Customer, user) -> dict[str, Any]:
    """Everything fincrm holds about the client, as JSON-ready data (logged)."""
    hidden = ("owner", "team")
    profile_fields = [f.name for f in Customer._meta.concrete_fields if f.name not in hidden]
    data = {
        "exported_at": timezone.now().isoformat(),
        "profile": _rows(Customer.objects.filter(pk=customer.pk), profile_fields)[0],
        "contacts": _rows(
            customer.contacts.all(), ["name", "title", "phone", "email", "wechat_id", "birthday"]
        ),
        "financial_statements": _rows(
            customer.financial_statements.all(),
            ["period_end", "revenue", "net_profit", "total_assets", "total_liabilities"],
        ),
        "applications": _rows(
            Application.objects.filter(customer=customer),
            ["product__name", "amount", "tenor_months", "stage", "created_at"],
        ),
        "facilities": _rows(
            Facility.objects.filter(customer=customer),
            [
                "contract_number",
                "product__name",
                "approved_limit",
                "rate",
                "start_date",
                "maturity_date",
                "status",
            ],
        ),
        "payments": _rows(
            Payment.objects.filter(facility__customer=customer),
            ["facility__contract_number", "paid_on", "amount"],
        ),
        "interactions": _rows(
            Interaction.objects.filter(customer=customer),
            ["occurred_at", "channel", "subject", "summary"],
        ),
        "complaints": _rows(
            Ticket.objects.filter(customer=customer),
            ["opened_at", "subject", "description", "status", "resolution"],
        ),
        "survey_answers": _rows(
            Answer.objects.filter(response__customer=customer),
            ["response__submitted_at", "question__text", "number", "text"],
        ),
        "points": _rows(
            PointsEntry.objects.filter(customer=customer),
            ["occurred_at", "kind", "reason", "points"],
        ),
    }
    access_log(user=user, customer=customer, action=AccessAction.EXPORT, fields="all")
    return data


@transaction.atomic
def customer_erase(*, customer: Customer, user, reason: str) -> Customer:
    if not reason.strip():
        raise ValidationError(MSG_REASON, code="reason")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    running = Facility.objects.filter(customer=customer, status=FacilityStatus.ACTIVE).exists()
    open_apps = Application.objects.filter(customer=customer).exclude(stage__in=CLOSED_STAGES)
    if running or open_apps.exists():
        raise ValidationError(MSG_ACTIVE, code="active")
    if customer.kind == "person":
        customer.name = f"已删除客户 #{customer.pk}"
    if customer.kind == "person":  # a person row must hold an identifier: a placeholder
        customer.id_number = f"ERASED-{customer.pk}"
    customer.phone = ""
    customer.email = ""
    customer.address = ""
    customer.birthday = None
    customer._history_user = user
    customer.save()
    customer.contacts.all().delete()
    Interaction.objects.filter(customer=customer).update(summary="", next_step="", attachment="")
    Ticket.objects.filter(customer=customer).update(description="", keywords=[])
    Answer.objects.filter(response__customer=customer).update(text="")
    access_log(user=user, customer=customer, action=AccessAction.ERASE, fields="personal data",
               reason=reason)  # fmt: skip
    return customer
