"""What the complaints and requests list filters and sorts by."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import Severity, TicketCategory, TicketKind
from .models import Ticket


class TicketFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Client"), field_name="customer__name", lookup_expr="icontains"
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=TicketKind.choices)
    category = django_filters.ChoiceFilter(label=_("Category"), choices=TicketCategory.choices)
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=Severity.choices)
    mine = django_filters.BooleanFilter(
        label=_("Assigned to me"), method="assigned_to_me", widget=forms.CheckboxInput
    )
    #: Without ``o`` the queue is in SLA order (breached first), which only Python knows.
    o = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("customer__name", "client"),
            ("opened_at", "opened"),
            ("respond_by", "respond_by"),
            ("resolve_by", "resolve_by"),
        ),
        field_labels={
            "customer__name": _("Client"),
            "opened_at": pgettext_lazy("ticket date", "Opened"),
            "respond_by": _("Respond by"),
            "resolve_by": _("Resolve by"),
        },
    )

    class Meta:
        model = Ticket
        fields = ["q", "kind", "category", "severity"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def assigned_to_me(self, queryset, name, value):
        return queryset.filter(assignee=self.user) if value and self.user else queryset

    @property
    def ordered(self) -> bool:
        """Whether the reader chose a column to sort by."""
        return self.is_bound and self.is_valid() and bool(self.form.cleaned_data.get("o"))
