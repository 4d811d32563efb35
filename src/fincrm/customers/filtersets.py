"""One FilterSet serves the HTML list, the export and (later) the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fincrm.accounts.choices import Role
from fincrm.accounts.models import Team, User
from fincrm.evaluation.choices import Grade, Lifecycle, Tier

from .choices import CityTier, ClientType, CustomerKind, Industry, NeedsLevel, RiskAppetite
from .geo import PROVINCES
from .models import Contact, Customer

MIN_SEARCH_LENGTH = 2


def _managers(request):
    if request is None:
        return User.objects.none()
    return User.objects.filter(role__in=[Role.ACCOUNT_MANAGER, Role.TEAM_LEAD]).order_by("username")


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=CustomerKind.choices)
    client_type = django_filters.ChoiceFilter(label=_("Client type"), choices=ClientType.choices)
    industry = django_filters.ChoiceFilter(label=_("Industry"), choices=Industry.choices)
    province = django_filters.ChoiceFilter(label=_("Province"), choices=[(p, p) for p in PROVINCES])
    city_tier = django_filters.ChoiceFilter(label=_("City tier"), choices=CityTier.choices)
    needs_level = django_filters.ChoiceFilter(label=_("Needs level"), choices=NeedsLevel.choices)
    risk_appetite = django_filters.ChoiceFilter(
        label=_("Risk appetite"), choices=RiskAppetite.choices
    )
    owner = django_filters.ModelChoiceFilter(label=_("Account manager"), queryset=_managers)
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.all())
    tier = django_filters.ChoiceFilter(
        label=_("Value tier"), choices=Tier.choices, field_name="classification__tier"
    )
    grade = django_filters.ChoiceFilter(
        label=_("Credit grade"), choices=Grade.choices, field_name="classification__grade"
    )
    lifecycle = django_filters.ChoiceFilter(
        label=_("Lifecycle"), choices=Lifecycle.choices, field_name="classification__lifecycle"
    )
    size_band = django_filters.CharFilter(
        label=_("Financing size"), field_name="classification__size_band"
    )
    segment = django_filters.CharFilter(label=_("Segment"), method="in_segment")
    ordering = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("name", "name"),
            ("created_at", "created_at"),
            ("annual_revenue", "annual_revenue"),
            ("registered_capital", "registered_capital"),
            ("city_tier", "city_tier"),
            ("classification__value_score", "value_score"),
        ),
        field_labels={
            "name": _("Name"),
            "created_at": _("Created"),
            "annual_revenue": _("Annual revenue"),
            "registered_capital": _("Registered capital"),
            "city_tier": _("City tier"),
            "value_score": _("Value score"),
        },
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def search(self, queryset, name, value):
        """Name contains the text; credit code, ID number and phones match from the start."""
        value = value.strip()
        if len(value) < MIN_SEARCH_LENGTH:
            return queryset
        code = value.upper()
        return queryset.filter(
            Q(name__icontains=value)
            | Q(credit_code__startswith=code)
            | Q(id_number__startswith=code)
            | Q(phone__startswith=value)
            | Q(pk__in=Contact.objects.filter(phone__startswith=value).values("customer_id"))
        )

    def in_segment(self, queryset, name, value):
        # Segments are a JSON list of codes; matching the quoted code works on every backend.
        code = value.strip()
        if not code:
            return queryset
        return queryset.filter(classification__segments__icontains=f'"{code}"')
