"""One FilterSet serves the HTML list, the export and (later) the API."""

from __future__ import annotations

import django_filters
from django.db import connections
from django.db.models import BooleanField, Exists, OuterRef
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from fincrm.accounts.choices import Role
from fincrm.accounts.models import Team, User
from fincrm.core.classes import Grade, Lifecycle, Tier
from fincrm.core.models import AccessAction, access_log
from fincrm.core.widgets import with_fast_selects

from . import search_index
from .choices import CityTier, ClientType, CustomerKind, Industry, NeedsLevel, RiskAppetite
from .geo import PROVINCES
from .models import Contact, Customer

MIN_SEARCH_LENGTH = 2


def _managers(request):
    if request is None:
        return User.objects.none()
    return User.objects.filter(role__in=[Role.ACCOUNT_MANAGER, Role.TEAM_LEAD]).order_by("username")


class ValueScoreOrdering(django_filters.OrderingFilter):
    """Sorting by value score walks the classification index (value score, client) from the
    top: an inner join on evaluated clients, the client id as tie-breaker in the same
    direction. (A left join with never-evaluated clients in it made PostgreSQL sort the whole
    book: 1.9 s at 1M.)"""

    def filter(self, qs, value):
        fields = list(value or [])
        for direction in ("", "-"):
            if f"{direction}value_score" in fields:
                return qs.filter(classification__isnull=False).order_by(
                    f"{direction}classification__value_score", f"{direction}pk"
                )
        return super().filter(qs, value)


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
    segment = django_filters.CharFilter(label=_("Segment"), field_name="classification__segments")
    ordering = ValueScoreOrdering(
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

    #: The same rows as ``qs``, written the way the database counts them fastest (``None``:
    #: count ``qs`` itself). The list's paginator reads its total from here.
    counted = None
    #: Read a page filtered by classification through ``EXISTS`` on SQLite (below).
    page_by_exists = True

    def get_form_class(self):
        # The list renders this form on every page: its selects in Python (core.widgets).
        return with_fast_selects(super().get_form_class())

    def filter_queryset(self, queryset):
        """The filters in turn; those on the client's current classification together, last.

        Joined to the clients, a classification filter makes SQLite read every matching
        classification (a covering index), fetch each client and sort them all for one page:
        50–100 ms for a tier of 10–50k clients at 100k. On SQLite the page is read through
        ``EXISTS`` instead: the list's own order (an index) walked until a page is full, a
        lookup of the classification per client. That is the slow way to count, so the total
        keeps the join (``counted``), which the covering (class, client) indexes answer
        without touching the classification rows."""
        lookups: dict[str, str] = {}
        for name, value in self.form.cleaned_data.items():
            if name in CLASSIFIED:
                lookups.update(_classified(name, value))
            else:
                queryset = self.filters[name].filter(queryset, value)
        self.counted = None
        if not lookups:
            return queryset
        joined = queryset.filter(**{f"classification__{k}": v for k, v in lookups.items()})
        if not self.page_by_exists or connections[queryset.db].vendor != "sqlite":
            return joined
        self.counted = joined
        classification = Customer._meta.get_field("classification").related_model
        held = classification.objects.filter(customer=OuterRef("pk"), **lookups)
        return queryset.filter(Exists(held))

    def search(self, queryset, name, value):
        matches = search_matches(value, user=getattr(self.request, "user", None), via="page")
        return queryset if matches is None else queryset.filter(pk__in=matches)


#: Filters on the client's current classification (``CustomerFilterSet.filter_queryset``).
CLASSIFIED = frozenset({"tier", "grade", "lifecycle", "size_band", "segment"})


def _classified(name: str, value) -> dict[str, str]:
    """The lookup on the classification a filter's value asks for (none when empty)."""
    value = (value or "").strip()
    if not value:
        return {}
    if name == "segment":
        # Segments are a JSON list of codes; matching the quoted code works on every backend.
        return {"segments__icontains": f'"{value}"'}
    return {name: value}


def search_matches(value: str | None, *, user, via: str):
    """The ids of the clients a search for ``value`` finds (``None``: no search, the value is
    too short). The page's filterset and the API share it.

    Name contains the text; the credit code matches from the start. ID numbers and phones
    (the client's and its contacts') match from the start for roles that see them unmasked;
    a role that sees them masked finds a client by the full value only — a prefix search,
    one digit at a time, would unmask them — and each client so found is written to the
    access log (``AccessAction.SEARCH_PII``).

    One indexed lookup per column, combined with ``UNION``: each arm uses its own index
    (the trigram index on the name, the prefix indexes on codes and phones) where an ``OR``
    of them, with the contacts' phones in it, makes PostgreSQL scan the table. On SQLite the
    FTS5 index (``search_index``: names by trigram, codes and phones by token) answers every
    arm with the same rules."""
    value = (value or "").strip()
    if len(value) < MIN_SEARCH_LENGTH:
        return None
    code = value.upper()
    ids = Customer.objects.order_by()
    phones = Contact.objects.order_by()
    may_see_pii = getattr(user, "may_see_pii", False)
    if may_see_pii:
        personal = [
            ids.filter(id_number__startswith=code).values("pk"),
            ids.filter(phone__startswith=value).values("pk"),
            phones.filter(phone__startswith=value).values("customer_id"),
        ]
    else:
        personal = [
            ids.filter(id_number=code).values("pk"),
            ids.filter(phone=value).values("pk"),
            phones.filter(phone=value).values("customer_id"),
        ]
        if any(ch.isdigit() for ch in value):
            _log_personal_search(personal, user=user, via=via)
    connection = connections[ids.db]
    if search_index.present(connection):
        sql, params = search_index.matching_ids(connection, value, may_see_pii=may_see_pii)
        return RawSQL(sql, params)
    return (
        _name_contains(ids, value)
        .values("pk")
        .union(ids.filter(credit_code__startswith=code).values("pk"), *personal)
    )


#: At most this many clients found by one search are written to the access log.
LOGGED_MATCHES = 20


def _log_personal_search(arms, *, user, via: str) -> None:
    """Record each client (that ``user`` may see) a masked role found by ID number or phone."""
    first, *rest = arms
    found = Customer.objects.restrict(user).filter(pk__in=first.union(*rest)).order_by("pk")
    for customer in found[:LOGGED_MATCHES]:
        access_log(user=user, customer=customer, action=AccessAction.SEARCH_PII,
                   fields="id_number, phone", via=via)  # fmt: skip


def _name_contains(queryset, value: str):
    """Names containing ``value``. On PostgreSQL a two-character value goes through the
    bigram index (``fincrm_bigrams``, migration 0006): pg_trgm cannot serve it."""
    if len(value) == 2 and connections[queryset.db].vendor == "postgresql":
        pair = RawSQL("fincrm_bigrams(name) @> ARRAY[UPPER(%s)]", (value,),
                      output_field=BooleanField())  # fmt: skip
        return queryset.filter(pair)
    return queryset.filter(name__icontains=value)
