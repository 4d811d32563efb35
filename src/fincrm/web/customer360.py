"""A client's 360° page and its personal-data requests, composed in the top layer.

The page gathers every app's section on the client (applications and facilities, evaluation,
risk, loyalty, post-loan checks, insights, reports, complaints, surveys): the app ``customers``
stands below those apps and may not import them, so the page lives here. Its URLs keep their
names in the ``customers`` namespace: ``fincrm.urls`` adds :data:`urlpatterns` to the
customers app's own.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.core.masking import shown
from fincrm.core.models import AccessAction, access_log
from fincrm.core.permissions import is_admin
from fincrm.core.views import flash_errors
from fincrm.customers import selectors
from fincrm.customers.models import Customer
from fincrm.customers.views import REVEAL_ROLES
from fincrm.evaluation.selectors import customer_evaluation
from fincrm.financing.choices import LoanClass, pipeline_choices
from fincrm.financing.modifications import modification_panels
from fincrm.insights.selectors import customer_insights
from fincrm.loyalty.selectors import loyalty_summary
from fincrm.postloan.selectors import customer_postloan
from fincrm.reports.selectors import customer_reports
from fincrm.risk.selectors import customer_risk
from fincrm.service.selectors import customer_tickets
from fincrm.service.views import may_log_ticket
from fincrm.surveys.selectors import active_surveys

from . import privacy
from .customer360_selectors import customer_360

CHART_FIELDS = ("revenue", "net_profit", "total_assets", "total_liabilities", "operating_cash_flow")


@login_required
def customer_detail(request, pk: int):
    """The 360° page."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    data = customer_360(customer=customer)
    can_change = request.user.has_perm("customers.change_customer", customer)
    modification_panels(user=request.user, facilities=data["facilities"], may_change=can_change)
    statements = data["statements"]
    chart = {
        "periods": [s.period_end.isoformat() for s in statements],
        "series": {f: [float(getattr(s, f)) for s in statements] for f in CHART_FIELDS},
    }
    history = list(customer.history.select_related("history_user").order_by("-history_date")[:20])
    viewer = _viewer(request, customer)
    context = {
        "customer": customer,
        "viewer": viewer,
        "may_reveal": not viewer.may_see_pii and request.user.role in REVEAL_ROLES,
        "is_admin": is_admin(request.user),
        "can_change": can_change,
        "can_classify": request.user.has_perm("risk.decide"),
        "can_service": request.user.has_perm("customers.change_customer", customer)
        or request.user.has_perm("risk.decide"),
        "today": timezone.localdate(),
        "loan_classes": LoanClass.choices,
        "pipeline": pipeline_choices(),
        "chart": chart,
        "changes": _history_diffs(history, user=viewer),
        "referral": selectors.customer_referrals(customer=customer, user=request.user),
        "evaluation": customer_evaluation(customer=customer),
        "loyalty": loyalty_summary(customer=customer, user=request.user),
        "postloan": customer_postloan(customer=customer, today=timezone.localdate()),
        "insights": customer_insights(customer=customer),
        "tickets": customer_tickets(customer=customer),
        "client_reports": list(customer_reports(customer=customer)[:12]),
        "surveys": active_surveys(),
        "can_log_ticket": may_log_ticket(request.user, customer),
        **customer_risk(customer=customer),
        **data,
    }
    return render(request, "customers/customer_detail.html", context)


PII_FIELDS = frozenset({"id_number", "phone"})


@dataclass(frozen=True)
class _Revealed:
    """The viewer of a page where the user unmasked this client's data."""

    may_see_pii: bool = True


def _viewer(request, customer):
    """Who the page masks for: the user, or (after a logged reveal of this client, for ten
    minutes) one who sees personal data. PII shown on the page is logged.
    The reveal is :func:`fincrm.customers.views.customer_reveal`'s (the session's
    ``pii_revealed``)."""
    user = request.user
    revealed = request.session.get("pii_revealed", {}).get(str(customer.pk), 0)
    if not user.may_see_pii and revealed > time.time():
        return _Revealed()
    if user.may_see_pii and (customer.id_number or customer.phone):
        access_log(user=user, customer=customer, action=AccessAction.VIEW_PII,
                   fields="id_number, phone")  # fmt: skip
    return user


@login_required
def customer_privacy_export(request, pk: int):
    """The client's data as JSON (a personal-information request); administrators only."""
    if not is_admin(request.user):
        raise PermissionDenied
    customer = selectors.customer_get(user=request.user, pk=pk)
    data = privacy.customer_export(customer=customer, user=request.user)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'attachment; filename="client-{customer.pk}.json"'
    return response


@login_required
@require_POST
def customer_privacy_erase(request, pk: int):
    if not is_admin(request.user):
        raise PermissionDenied
    customer = selectors.customer_get(user=request.user, pk=pk)
    try:
        privacy.customer_erase(
            customer=customer, user=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("The client's personal data was erased."))
    return redirect(customer.get_absolute_url())


def _history_diffs(records, *, user) -> list[dict]:
    """Turn consecutive history records into who / when / field: old -> new (PII masked; a
    referrer by its name)."""
    deltas = [(newer, newer.diff_against(older)) for newer, older in itertools.pairwise(records)]
    referrers = {
        v for _n, d in deltas for c in d.changes if c.field == "referred_by" for v in (c.old, c.new)
    }
    names = dict(Customer.objects.filter(pk__in=referrers - {None}).values_list("pk", "name"))

    def value(field: str, raw):
        if field in PII_FIELDS:
            return shown(raw, user=user)
        if field == "referred_by" and raw is not None:
            return names.get(raw, raw)
        return raw

    rows = []
    for newer, delta in deltas:
        if delta.changes:
            rows.append(
                {
                    "at": newer.history_date,
                    "by": newer.history_user,
                    "changes": [
                        {
                            "field": newer.instance._meta.get_field(c.field).verbose_name,
                            "old": value(c.field, c.old),
                            "new": value(c.field, c.new),
                        }
                        for c in delta.changes
                    ],
                }
            )
    if records and records[-1].history_type == "+":
        rows.append(
            {
                "at": records[-1].history_date,
                "by": records[-1].history_user,
                "created": True,
                "changes": [],
            }
        )
    return rows


#: The pages of this module, in the ``customers`` namespace (``fincrm.urls``).
urlpatterns = [
    path("<int:pk>/", customer_detail, name="detail"),
    path("<int:pk>/privacy/export/", customer_privacy_export, name="privacy_export"),
    path("<int:pk>/privacy/erase/", customer_privacy_erase, name="privacy_erase"),
]
