from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.core.views import RestrictedListView
from fincrm.customers.selectors import customer_get

from . import services
from .choices import TaskStatus
from .forms import InteractionForm
from .models import Notification, Task


class TaskListView(RestrictedListView):
    """My open tasks, overdue first; ``?scope=team`` shows what the user's teams must do."""

    model = Task
    template_name = "engagement/task_list.html"
    paginate_by = 50

    def get_queryset(self):
        qs = super().get_queryset().filter(status=TaskStatus.OPEN)
        if self.request.GET.get("scope") != "team":
            qs = qs.filter(owner=self.request.user)
        return qs.select_related("customer", "owner").order_by("due_on", "priority", "id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["today"] = timezone.localdate()
        ctx["scope"] = self.request.GET.get("scope", "mine")
        ctx["overdue"] = self.get_queryset().filter(due_on__lt=ctx["today"]).count()
        return ctx


@login_required
@require_POST
def task_done(request, pk: int):
    task = get_object_or_404(Task.objects.restrict(request.user, "change"), pk=pk)
    services.task_complete(task=task)
    return redirect(request.POST.get("next") or "engagement:tasks")


@login_required
@require_POST
def notifications_read(request):
    """Mark the user's own notifications read (nobody else's: the filter is the recipient)."""
    Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return redirect("home")


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
