from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.accounts.choices import Role
from fincrm.core.masking import shown
from fincrm.core.models import AccessAction, access_log
from fincrm.core.permissions import is_admin
from fincrm.core.views import RestrictedListView, flash_errors
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

from . import privacy, selectors, services
from .filtersets import CustomerFilterSet
from .forms import ContactForm, CustomerForm, StatementForm
from .models import Customer

CHART_FIELDS = ("revenue", "net_profit", "total_assets", "total_liabilities", "operating_cash_flow")


class CustomerListView(RestrictedListView):
    model = Customer
    filterset_class = CustomerFilterSet
    template_name = "customers/customer_list.html"
    paginate_by = 25

    def get_queryset(self):
        return super().get_queryset().select_related("owner", "team", "classification")


@login_required
def customer_detail(request, pk: int):
    """The 360° page."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    data = selectors.customer_360(customer=customer)
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
#: Masked roles that may unmask a client's data with a reason (logged), e.g. to verify a
#: caller's identity; executives see figures, not people.
REVEAL_ROLES = frozenset({Role.SERVICE_AGENT})
REVEAL_SECONDS = 600


@dataclass(frozen=True)
class _Revealed:
    """The viewer of a page where the user unmasked this client's data."""

    may_see_pii: bool = True


def _viewer(request, customer):
    """Who the page masks for: the user, or (after a logged reveal of this client, for ten
    minutes) one who sees personal data. PII shown on the page is logged."""
    user = request.user
    revealed = request.session.get("pii_revealed", {}).get(str(customer.pk), 0)
    if not user.may_see_pii and revealed > time.time():
        return _Revealed()
    if user.may_see_pii and (customer.id_number or customer.phone):
        access_log(user=user, customer=customer, action=AccessAction.VIEW_PII,
                   fields="id_number, phone")  # fmt: skip
    return user


@login_required
@require_POST
def customer_reveal(request, pk: int):
    customer = selectors.customer_get(user=request.user, pk=pk)
    reason = request.POST.get("reason", "").strip()
    if request.user.role not in REVEAL_ROLES:
        raise PermissionDenied
    if not reason:
        messages.error(request, _("Say why you need to see it."))
        return redirect(customer.get_absolute_url())
    access_log(user=request.user, customer=customer, action=AccessAction.REVEAL,
               fields="id_number, phone", reason=reason)  # fmt: skip
    revealed = request.session.get("pii_revealed", {})
    revealed[str(customer.pk)] = time.time() + REVEAL_SECONDS
    request.session["pii_revealed"] = revealed
    return redirect(customer.get_absolute_url())


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


@login_required
def customer_create(request):
    if not request.user.has_perm("customers.add_customer"):
        raise PermissionDenied
    form = CustomerForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "tags"}
        try:
            customer = services.customer_create(data=data, tags=form.cleaned_data["tags"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Client %(name)s created.") % {"name": customer.name})
            return redirect(customer)
    return render(request, "customers/customer_form.html", {"form": form, "is_new": True})


@login_required
def customer_edit(request, pk: int):
    customer = selectors.customer_get(user=request.user, pk=pk, action="change")
    form = CustomerForm(request.POST or None, instance=customer, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "tags"}
        try:
            services.customer_update(
                customer=Customer.objects.get(pk=customer.pk),
                data=data,
                tags=form.cleaned_data["tags"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(customer)
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer})


@login_required
def referrer_options(request, pk: int):
    """The referrer picker's options for the client being edited (htmx): the clients the
    user may see that match the search, the one already chosen kept first."""
    customer = selectors.customer_get(user=request.user, pk=pk, action="change")
    chosen = request.GET.get("referred_by", "")
    rows = selectors.referrer_candidates(
        user=request.user,
        customer=customer,
        query=request.GET.get("referrer_q", ""),
        keep=int(chosen) if chosen.isdigit() else None,
    )
    return render(request, "customers/_referrer_options.html", {"rows": rows, "chosen": chosen})


def _child_form(request, *, customer, form, title, save):
    """Add or edit a contact or a statement of ``customer`` (one page for both)."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(customer.get_absolute_url() + form.anchor)
    context = {"form": form, "customer": customer, "title": title}
    return render(request, "customers/child_form.html", context)


def _add_errors(form, exc: ValidationError) -> None:
    """A service's errors on the fields they name, the others above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
def contact_edit(request, customer_pk: int, pk: int | None = None):
    customer = selectors.customer_get(user=request.user, pk=customer_pk, action="change")
    contact = get_object_or_404(customer.contacts, pk=pk) if pk else None
    form = ContactForm(request.POST or None, instance=contact)
    form.anchor = "#contacts"
    if contact is None:
        title = _("New contact")
        save = lambda data: services.contact_create(customer=customer, data=data)  # noqa: E731
    else:
        title = _("Edit contact %(name)s") % {"name": contact.name}
        save = lambda data: services.contact_update(contact=contact, data=data)  # noqa: E731
    return _child_form(request, customer=customer, form=form, title=title, save=save)


@login_required
def statement_edit(request, customer_pk: int, pk: int | None = None):
    customer = selectors.customer_get(user=request.user, pk=customer_pk, action="change")
    statement = get_object_or_404(customer.financial_statements, pk=pk) if pk else None
    form = StatementForm(request.POST or None, instance=statement)
    form.anchor = "#financials"

    def save(data):
        figures = {k: v for k, v in data.items() if k != "equity"}
        if statement is None:
            return services.statement_create(customer=customer, data=figures, equity=data["equity"])
        return services.statement_update(statement=statement, data=figures, equity=data["equity"])

    title = (
        _("New financial statement")
        if statement is None
        else _("Statement for the period ending %(date)s")
        % {"date": statement.period_end.isoformat()}
    )
    return _child_form(request, customer=customer, form=form, title=title, save=save)
