from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.accounts.choices import Role
from fincrm.core.excel import applied_filters, local_time, workbook, xlsx_response
from fincrm.core.templatetags.fincrm_tags import person
from fincrm.core.views import flash_errors
from fincrm.customers.selectors import customer_get

from . import selectors, services
from .choices import SlaState
from .forms import RateForm, ResolveForm, TicketForm
from .models import Ticket

#: Tickets on one page of the queue.
PAGE_SIZE = 25


def may_log_ticket(user, customer) -> bool:
    """Service agents take complaints for any client; others for clients they manage."""
    return user.role == Role.SERVICE_AGENT or user.has_perm("customers.change_customer", customer)


@login_required
def ticket_list(request):
    """The open queue a page at a time, filtered, in SLA order or by the column chosen; a
    filter the form refuses answers 400 with its messages (as the other lists do)."""
    query = request.GET.copy()
    state = query.pop("state", [""])[-1]
    page = query.pop("page", [None])[-1]
    query.pop("export", None)
    context = selectors.ticket_queue(user=request.user, state=state, query=query)
    filterset = context["filterset"]
    refused = filterset.is_bound and not filterset.is_valid()
    if request.GET.get("export") == "xlsx" and not refused:
        return _queue_excel(context["tickets"], filterset=filterset, state=state)
    context["page_obj"] = Paginator(context.pop("tickets"), PAGE_SIZE).get_page(page)
    context["paginator"] = context["page_obj"].paginator
    context["tickets"] = context["page_obj"].object_list
    context["query_without_state"] = query.urlencode()
    without_page = request.GET.copy()
    without_page.pop("page", None)
    context["query_without_page"] = without_page.urlencode()
    status = 400 if refused else 200
    return render(request, "service/ticket_list.html", context, status=status)


def _queue_excel(tickets, *, filterset, state: str):
    """The queue as the reader sees it (their tickets, filters, tab and order; every page)
    as an Excel sheet, the filters written on top."""
    applied = applied_filters(filterset)
    if state:
        applied.append((_("SLA"), str(SlaState(state).label)))
    content = workbook(
        title=_("Complaints and requests"),
        header=[_("SLA"), _("Subject"), _("Client"), _("Category"), _("Severity"),
                _("Respond by"), _("Resolve by"), _("Assignee")],
        rows=[
            [str(SlaState(t.sla).label) if t.sla in SlaState.values else t.sla, t.subject,
             t.customer.name, t.get_category_display(), t.get_severity_display(),
             local_time(t.respond_by), local_time(t.resolve_by), person(t.assignee, "")]
            for t in tickets
        ],
        applied=applied,
    )  # fmt: skip
    return xlsx_response(content, name="complaints")


@login_required
def ticket_create(request, customer_pk: int):
    customer = customer_get(user=request.user, pk=customer_pk)
    if not may_log_ticket(request.user, customer):
        raise PermissionDenied
    form = TicketForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_open(
                customer=customer, created_by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("Complaint or request logged."))
            return redirect(ticket.get_absolute_url())
    return render(request, "service/ticket_form.html", {"form": form, "customer": customer})


@login_required
def ticket_detail(request, pk: int):
    ticket = get_object_or_404(
        Ticket.objects.restrict(request.user, "view").select_related(
            "customer", "assignee", "escalated_to", "contact"
        ),
        pk=pk,
    )
    may_change = Ticket.objects.restrict(request.user, "change").filter(pk=pk).exists()
    context = {
        "ticket": ticket,
        "sla": services.ticket_state(ticket),
        "may_change": may_change,
        "resolve_form": ResolveForm(initial={"category": ticket.category}),
        "rate_form": RateForm(),
        "history": ticket.history.select_related("history_user").order_by("-history_date")[:20],
    }
    return render(request, "service/ticket_detail.html", context)


ACTIONS = {"respond", "resolve", "close", "rate"}


@login_required
@require_POST
def ticket_action(request, pk: int, action: str):
    ticket = get_object_or_404(Ticket.objects.restrict(request.user, "change"), pk=pk)
    if action not in ACTIONS:
        raise PermissionDenied
    try:
        if action == "respond":
            services.ticket_respond(ticket=ticket, user=request.user)
        elif action == "close":
            services.ticket_close(ticket=ticket, user=request.user)
        else:
            form = (ResolveForm if action == "resolve" else RateForm)(request.POST)
            if not form.is_valid():
                raise ValidationError([m for ms in form.errors.values() for m in ms])
            if action == "resolve":
                services.ticket_resolve(ticket=ticket, user=request.user, **form.cleaned_data)
            else:
                services.ticket_rate(ticket=ticket, **form.cleaned_data)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect(ticket.get_absolute_url())


@login_required
def monthly_report(request):
    raw = request.GET.get("month", "")
    try:
        month = date.fromisoformat(f"{raw}-01") if raw else timezone.localdate().replace(day=1)
    except ValueError:
        month = timezone.localdate().replace(day=1)
        messages.error(request, _("Give the month as YYYY-MM."))
    context = selectors.monthly_report(user=request.user, month=month)
    return render(request, "service/report.html", context)
