"""What the task list filters by: when it is due, its kind, priority and client."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import InteractionChannel, Priority, TaskKind
from .models import Task

DUE_CHOICES = (
    ("overdue", _("Overdue")),
    ("today", _("Due today")),
    ("week", _("Due within 7 days")),
)


class TaskFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Client"), field_name="customer__name", lookup_expr="icontains"
    )
    due = django_filters.ChoiceFilter(label=_("Due"), choices=DUE_CHOICES, method="due_when")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=TaskKind.choices)
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=Priority.choices)
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=InteractionChannel.choices)
    o = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("due_on", "due"),
            ("title", "task"),
            ("customer__name", "client"),
            ("priority_rank", "priority"),
        ),
        field_labels={
            "due_on": _("Due"),
            "title": _("Task"),
            "customer__name": _("Client"),
            "priority_rank": _("Priority"),
        },
    )

    class Meta:
        model = Task
        fields = ["q", "due", "kind", "priority", "channel"]

    def due_when(self, queryset, name, value):
        today = timezone.localdate()
        if value == "overdue":
            return queryset.filter(due_on__lt=today)
        if value == "today":
            return queryset.filter(due_on=today)
        if value == "week":
            return queryset.filter(due_on__range=(today, today + timedelta(days=7)))
        return queryset
