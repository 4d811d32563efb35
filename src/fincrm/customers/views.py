"""The client book's pages: the list, the forms, the reveal of masked data, contacts and
statements. The 360° page and the personal-data requests read every app above customers:
they are composed in the top layer, :mod:`fincrm.web.customer360` (same URL names)."""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.accounts.choices import Role
from fincrm.core.models import AccessAction, access_log
from fincrm.core.views import RestrictedListView

from . import selectors, services
from .filtersets import CustomerFilterSet
from .forms import ContactForm, CustomerForm, StatementForm
from .models import Customer


class CustomerListView(RestrictedListView):
    model = Customer
    filterset_class = CustomerFilterSet
    template_name = "customers/customer_list.html"
    paginate_by = 25

    def get_queryset(self):
        return super().get_queryset().select_related("owner", "team", "classification")


#: Masked roles that may unmask a client's data with a reason (logged), e.g. to verify a
#: caller's identity; executives see figures, not people.
REVEAL_ROLES = frozenset({Role.SERVICE_AGENT})
REVEAL_SECONDS = 600


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
