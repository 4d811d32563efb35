from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from fincrm.core.views import RestrictedListView

from . import services
from .choices import TaskStatus
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
