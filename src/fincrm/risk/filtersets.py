"""One FilterSet per list: what the alerts and reviews pages filter and sort by."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import RULE_LABELS, AlertStatus, Severity
from .models import Alert, ControlProposal, Review


class AlertFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Client"), field_name="customer__name", lookup_expr="icontains"
    )
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=Severity.choices)
    rule_code = django_filters.ChoiceFilter(label=_("Rule"), choices=list(RULE_LABELS.items()))
    #: Empty: every alert still asking for action (the view's default).
    status = django_filters.ChoiceFilter(label=_("Status"), choices=AlertStatus.choices)
    mine = django_filters.BooleanFilter(
        label=_("Assigned to me"), method="assigned_to_me", widget=forms.CheckboxInput
    )
    snoozed = django_filters.BooleanFilter(
        label=_("Snoozed"), method="snoozed_only", widget=forms.CheckboxInput
    )
    o = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("severity_rank", "severity"),
            ("raised_at", "raised"),
            ("customer__name", "client"),
            ("value", "value"),
        ),
        field_labels={
            "severity_rank": _("Severity"),
            "raised_at": _("Raised"),
            "customer__name": _("Client"),
            "value": _("Value"),
        },
    )

    class Meta:
        model = Alert
        fields = ["q", "severity", "rule_code", "status"]

    def assigned_to_me(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        return queryset.filter(assigned_to=user) if value and user else queryset

    def snoozed_only(self, queryset, name, value):
        return queryset.filter(snoozed_until__gt=timezone.localdate()) if value else queryset


class ReviewFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Client"), field_name="customer__name", lookup_expr="icontains"
    )
    due_before = django_filters.DateFilter(
        label=_("Due by"),
        field_name="due_on",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    grade = django_filters.CharFilter(label=_("Grade"), field_name="grade")
    o = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(("due_on", "due"), ("customer__name", "client"), ("grade", "grade")),
        field_labels={"due_on": _("Due"), "customer__name": _("Client"), "grade": _("Grade")},
    )

    class Meta:
        model = Review
        fields = ["q", "due_before", "grade"]


class ProposalFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Client"), field_name="customer__name", lookup_expr="icontains"
    )
    to_grade = django_filters.CharFilter(label=_("Grade"), field_name="to_grade")
    o = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(("created_at", "proposed"), ("customer__name", "client"), ("to_grade", "grade")),
        field_labels={
            "created_at": _("Proposed"),
            "customer__name": _("Client"),
            "to_grade": _("Grade"),
        },
    )

    class Meta:
        model = ControlProposal
        fields = ["q", "to_grade"]
