"""Reads of value-added reports: what a report says about a client, which reports a user or a
client may see.

A report's figures are the 360° page's own: the ratios and the industry medians come from
:func:`fincrm.risk.selectors.customer_ratios`, the facilities and their schedules from
:func:`fincrm.financing.client_section.customer_financing`, points from
:func:`fincrm.loyalty.selectors.loyalty_summary` and the recommended products from
:func:`fincrm.insights.selectors.customer_insights`, and they are formatted by the same
filters as the page, so a figure in the PDF reads exactly as on the page.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import QuerySet
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

from fincrm.core.templatetags.fincrm_tags import money, percent, person
from fincrm.financing.choices import FacilityStatus
from fincrm.financing.client_section import customer_financing
from fincrm.insights.selectors import customer_insights
from fincrm.loyalty.selectors import loyalty_summary
from fincrm.risk.choices import RATIO_LABELS
from fincrm.risk.selectors import customer_ratios

from .models import ClientReport

#: Statement periods a report compares (the client's latest three years).
YEARS = 3
#: Dash for a figure that cannot be computed (a ratio with no denominator).
NONE = "—"


def ratio_text(value, *, is_percent: bool) -> str:
    """A ratio as the 360° page prints it: a percentage with one decimal or a multiple with
    two."""
    if value is None:
        return NONE
    return percent(value, 1) if is_percent else floatformat(value, 2)


def amount_text(value) -> str:
    """An amount of a repayment schedule as the 360° page prints it (2 decimals, separators)."""
    return intcomma(floatformat(value, 2))


def month_of(day: date) -> date:
    return day.replace(day=1)


def _ratios(customer) -> dict:
    data = customer_ratios(customer=customer)
    periods = data["periods"][-YEARS:]
    rows = [
        {
            "label": str(RATIO_LABELS.get(row["code"], row["code"])),
            "code": row["code"],
            "values": [ratio_text(v, is_percent=row["percent"]) for v in row["values"][-YEARS:]],
            "median": ratio_text(row["median"], is_percent=row["percent"]),
        }
        for row in data["rows"]
    ]
    return {"periods": periods, "rows": rows}


def _repayment(facility, as_of: date) -> dict:
    """The record of one facility's schedule up to ``as_of``: instalments due, paid on time,
    paid late, overdue and unpaid, and what was paid (the schedule's "paid" column)."""
    due = [i for i in facility.schedule if i.due_date <= as_of]
    on_time = [i for i in due if i.paid_off_on and i.paid_off_on <= i.due_date]
    late = [i for i in due if i.paid_off_on and i.paid_off_on > i.due_date]
    overdue = [i for i in due if not i.paid_off_on and i.due_date < as_of]
    paid = sum((i.amount_paid + i.fee_paid + i.penalty_paid for i in due), Decimal(0))
    owed = sum((i.total_outstanding for i in overdue), Decimal(0))
    return {
        "due": len(due),
        "on_time": len(on_time),
        "late": len(late),
        "overdue": len(overdue),
        "paid": amount_text(paid),
        "overdue_amount": amount_text(owed),
    }


def _facilities(customer, as_of: date) -> dict:
    live = [f for f in customer_financing(customer=customer)["facilities"]
            if f.status != FacilityStatus.CLOSED]  # fmt: skip
    rows = []
    for f in live:
        rows.append(
            {
                "contract": f.contract_number,
                "product": f.product.name,
                "limit": money(f.approved_limit),
                "drawn": money(f.drawn_amount),
                "utilisation": percent(f.drawn_amount / f.approved_limit, 1)
                if f.approved_limit
                else NONE,
                "days_past_due": f.days_past_due,
                "loan_class": str(f.get_loan_class_display()),
                "status": str(f.get_status_display()),
                "repayment": _repayment(f, as_of),
            }
        )
    active = [f for f in live if f.status == FacilityStatus.ACTIVE]
    limit = sum((f.approved_limit for f in active), Decimal(0))
    drawn = sum((f.drawn_amount for f in active), Decimal(0))
    return {
        "rows": rows,
        "limit": money(limit),
        "drawn": money(drawn),
        "utilisation": percent(drawn / limit, 1) if limit else NONE,
    }


def report_content(*, customer, as_of: date) -> dict:
    """Everything a client's report for the month of ``as_of`` says, formatted for print
    (strings, in the active language)."""
    loyalty = loyalty_summary(customer=customer)
    insights = customer_insights(customer=customer)
    owner = customer.owner
    classification = getattr(customer, "classification", None)
    return {
        "customer": customer.name,
        "period": month_of(as_of),
        "as_of": as_of,
        "tier": str(classification.get_tier_display()) if classification else NONE,
        "industry": str(customer.get_industry_display()),
        "ratios": _ratios(customer),
        "facilities": _facilities(customer, as_of),
        "loyalty": {
            "level": loyalty["level"],
            "available": loyalty["available"],
            "expiring_90d": loyalty["expiring_90d"],
        },
        "recommendations": [
            {"product": r.product.name, "reason": r.reason_text}
            for r in insights["recommendations"]
        ],
        "manager": {
            "name": person(owner),
            "phone": (owner.phone if owner else "") or NONE,
            "email": (owner.email if owner else "") or NONE,
            "team": str(customer.team) if customer.team_id else NONE,
        },
        "title": _("Value-added report"),
    }


def customer_reports(*, customer) -> QuerySet[ClientReport]:
    """A client's reports, newest first (the 360° page's card)."""
    return ClientReport.objects.filter(customer=customer).select_related("message")


def portal_reports(*, customer) -> QuerySet[ClientReport]:
    """The reports a client sees in the portal: its own, once delivered."""
    return ClientReport.objects.filter(customer=customer, delivered_at__isnull=False)
