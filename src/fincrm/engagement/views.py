from __future__ import annotations

import calendar
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from fincrm.accounts.views import bulk_assignee
from fincrm.core.permissions import get_restricted_or_404
from fincrm.core.redirects import redirect_next
from fincrm.core.templatetags.fincrm_tags import person
from fincrm.core.views import (
    RestrictedListView,
    bulk_confirm,
    bulk_days,
    bulk_done,
    ticked_ids,
)
from fincrm.customers.importer import BadFile, may_import
from fincrm.customers.selectors import customer_get

from . import importer, services
from .choices import Priority, TaskStatus
from .filtersets import TaskFilterSet
from .forms import InteractionForm, InteractionImportForm
from .models import Interaction, Task

#: Tasks most urgent first: high 0, normal 1, low 2 (the codes do not sort so).
PRIORITY_RANK = Case(
    When(priority=Priority.HIGH, then=Value(0)),
    When(priority=Priority.LOW, then=Value(2)),
    default=Value(1),
    output_field=IntegerField(),
)


class TaskListView(RestrictedListView):
    """My open tasks, overdue first; ``?scope=team`` shows what the user's teams must do;
    filtered by due date, kind, priority, channel and client."""

    queryset = (
        Task.objects.filter(status=TaskStatus.OPEN)
        .annotate(priority_rank=PRIORITY_RANK)
        .select_related("customer", "owner")
        .order_by("due_on", "priority_rank", "id")
    )
    filterset_class = TaskFilterSet
    template_name = "engagement/task_list.html"
    paginate_by = 50

    export_name = "tasks"
    export_title = gettext_lazy("Tasks")
    export_columns = (
        (gettext_lazy("Due"), lambda t: t.due_on),
        (gettext_lazy("Task"), lambda t: t.title),
        (gettext_lazy("Client"), lambda t: t.customer.name),
        (gettext_lazy("Channel"), lambda t: t.get_channel_display()),
        (gettext_lazy("Priority"), lambda t: t.get_priority_display()),
        (gettext_lazy("Owner"), lambda t: person(t.owner, "")),
    )

    def get_queryset(self):
        # Ordered before the filters: a sort chosen by column (``o``) replaces this one.
        qs = super().get_queryset()
        if self.request.GET.get("scope") != "team":
            qs = qs.filter(owner=self.request.user)
        return qs

    def export_applied(self):
        if self.request.GET.get("scope") == "team":
            return [(_("Scope"), _("My teams"))]
        return [(_("Scope"), _("Mine"))]

    def get_context_data(self, **kwargs):
        from fincrm.accounts.selectors import assignable_users

        ctx = super().get_context_data(**kwargs)
        ctx["today"] = timezone.localdate()
        ctx["scope"] = self.request.GET.get("scope", "mine")
        ctx["assignees"] = assignable_users(self.request.user)
        ctx["overdue"] = self.get_queryset().filter(due_on__lt=ctx["today"]).count()
        return ctx


@login_required
@require_POST
def task_done(request, pk: int):
    task = get_restricted_or_404(request.user, Task, "change", pk=pk)
    services.task_complete(task=task)
    messages.success(request, _("Task completed: %(title)s") % {"title": task.title})
    return redirect_next(request, "engagement:tasks")


#: At most this many tasks changed by one bulk action (a page and then some).
MAX_BULK_TASKS = 200
#: What a bulk action on tasks does, as the confirmation names it.
BULK_TASK_ACTIONS = {
    "complete": gettext_lazy("Complete"),
    "assign": gettext_lazy("Assign"),
    "snooze": gettext_lazy("Snooze"),
}


@login_required
@require_POST
def task_done_bulk(request):
    """Complete, assign or snooze the ticked tasks: first a confirmation naming how many and
    which (and how many ticked are left alone), then the change and a message with the
    count. Only open tasks the user may change are taken; an assignment only to someone the
    user may assign to (``assignable_users``) and only the tasks of clients they see."""
    ids = ticked_ids(request, "task", MAX_BULK_TASKS)
    action = request.POST.get("action", "complete")
    if action not in BULK_TASK_ACTIONS:
        action = "complete"
    tasks = Task.objects.restrict(request.user, "change").filter(pk__in=ids, status=TaskStatus.OPEN)
    assignee = days = None
    if action == "assign":
        assignee = bulk_assignee(request)
        if assignee is None:
            messages.warning(request, _("Choose someone you may assign the tasks to."))
            return redirect_next(request, "engagement:tasks")
        tasks = tasks.filter(pk__in=Task.objects.restrict(assignee, "view").values("pk"))
    elif action == "snooze":
        days = bulk_days(request)
        if not days or days > services.MAX_SNOOZE_DAYS:
            messages.warning(request, services.MSG_SNOOZE_DAYS % {"max": services.MAX_SNOOZE_DAYS})
            return redirect_next(request, "engagement:tasks")
    tasks = list(tasks.select_related("customer", "owner").order_by("due_on", "id"))
    skipped = len(ids) - len(tasks)
    if not tasks:
        messages.warning(request, _("Tick the tasks to change first."))
        return redirect_next(request, "engagement:tasks")
    if request.POST.get("confirm") != "yes":
        rows = [(t.pk, f"{t.due_on:%Y-%m-%d} · {t.title} · {t.customer.name} · {person(t.owner)}")
                for t in tasks]  # fmt: skip
        return bulk_confirm(
            request, action=action, label=BULK_TASK_ACTIONS[action],
            url=reverse("engagement:task_done_bulk"), field="task", rows=rows, skipped=skipped,
            cancel_url=reverse("engagement:tasks"), assignee=assignee, days=days, tasks=tasks,
        )  # fmt: skip
    if action == "assign":
        done = services.task_assign_many(tasks=tasks, owner=assignee)
        message = ngettext(
            "%(n)d task assigned to %(name)s.", "%(n)d tasks assigned to %(name)s.", done
        ) % {"n": done, "name": person(assignee)}
    elif action == "snooze":
        done = services.task_snooze_many(tasks=tasks, days=days)
        message = ngettext(
            "%(n)d task snoozed by %(days)d days.", "%(n)d tasks snoozed by %(days)d days.", done
        ) % {"n": done, "days": days}
    else:
        done = services.task_complete_many(tasks=tasks)
        message = ngettext("%(n)d task completed.", "%(n)d tasks completed.", done) % {"n": done}
    bulk_done(request, message, skipped=skipped)
    return redirect_next(request, "engagement:tasks")


@login_required
def interaction_add(request, customer_pk: int):
    """Quick-add an interaction on a client the user may change (htmx partial or full page)."""
    customer = customer_get(user=request.user, pk=customer_pk, action="change")
    form = InteractionForm(request.POST or None, request.FILES or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        services.interaction_log(customer=customer, created_by=request.user, **form.cleaned_data)
        messages.success(request, _("Interaction logged."))
        return redirect(customer.get_absolute_url() + "#timeline")
    return render(request, "engagement/interaction_form.html", {"form": form, "customer": customer})


@login_required
def task_calendar(request):
    """The user's open tasks on a month grid (``?month=YYYY-MM``)."""
    today = timezone.localdate()
    try:
        first = date.fromisoformat(request.GET.get("month", "") + "-01")
    except ValueError:
        first = today.replace(day=1)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    tasks = (
        Task.objects.restrict(request.user, "view")
        .filter(owner=request.user, status=TaskStatus.OPEN)
        .filter(due_on__range=(weeks[0][0], weeks[-1][-1]))
        .select_related("customer")
        .order_by("due_on", "priority")
    )
    by_day: dict[date, list[Task]] = {}
    for task in tasks:
        by_day.setdefault(task.due_on, []).append(task)
    context = {
        "month": first,
        "previous": (first - timedelta(days=1)).replace(day=1),
        "next": (first + timedelta(days=32)).replace(day=1),
        "weeks": [[(day, by_day.get(day, [])) for day in week] for week in weeks],
        "today": today,
    }
    return render(request, "engagement/task_calendar.html", context)


@login_required
def interaction_import(request):
    """Upload an interaction export; nothing is written unless every row is good."""
    if not may_import(request.user):
        raise PermissionDenied
    result = None
    form = InteractionImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = importer.import_upload(upload=form.cleaned_data["file"], user=request.user)
        except BadFile as exc:
            form.add_error("file", str(exc))
        else:
            if result.created:
                messages.success(
                    request, _("%(n)s interactions imported.") % {"n": f"{result.created:,}"}
                )
    context = {"form": form, "result": result, "headers": importer.HEADERS}
    return render(request, "engagement/interaction_import.html", context)


@login_required
def interaction_attachment(request, pk: int):
    """An interaction's attachment, to staff who may see the client."""
    from fincrm.core.files import stored_file_response

    interaction = get_restricted_or_404(request.user, Interaction, "view", pk=pk)
    return stored_file_response(interaction.attachment)
