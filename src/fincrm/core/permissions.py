"""Who sees what: one rule set, applied by querysets, views, rules predicates and the API.

A model that belongs to a client's book uses :class:`RestrictedQuerySet` and names the path to
the owning account manager and team. ``restrict(user, action)`` then returns only the rows the
user may act on; everything else is a 404 for that user.

Scopes by role (DESIGN.md "Roles"):

=================  ===========================  ==============================
role               view                         change
=================  ===========================  ==============================
account manager    own clients                  own clients
team lead          own + team and sub-teams     own + team and sub-teams
risk officer       all                          none here (risk data elsewhere)
service agent      all (PII masked)             none
executive          all (PII masked)             none
admin / superuser  all                          all
no role            nothing                      nothing
=================  ===========================  ==============================
"""

from __future__ import annotations

from typing import Literal

import rules
from django.db import models
from django.db.models import Q

from fincrm.core.roles import Role

Action = Literal["view", "change"]
ALL = Q()
NOTHING = None


def scope(user, action: Action, *, owner_field: str, team_field: str) -> Q | None:
    """The filter for rows ``user`` may ``action``; ``None`` means no rows at all."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser or user.role == Role.ADMIN:
        return ALL
    if action == "view" and user.sees_whole_portfolio:
        return ALL
    if user.role == Role.TEAM_LEAD:
        return Q(**{f"{team_field}__in": user.visible_team_ids()}) | Q(**{owner_field: user.pk})
    if user.role == Role.ACCOUNT_MANAGER:
        return Q(**{owner_field: user.pk})
    return NOTHING


class RestrictedQuerySet(models.QuerySet):
    owner_field = "owner"
    team_field = "team"

    def restrict(self, user, action: Action = "view") -> RestrictedQuerySet:
        q = scope(user, action, owner_field=self.owner_field, team_field=self.team_field)
        if q is NOTHING:
            return self.none()
        return self.filter(q) if q else self


class CustomerOwnedQuerySet(RestrictedQuerySet):
    """Rows that belong to one client (contacts, statements, applications, facilities...)."""

    owner_field = "customer__owner"
    team_field = "customer__team"


def _object_predicate(action: Action):
    @rules.predicate
    def check(user, obj) -> bool:
        if obj is None:
            return scope(user, action, owner_field="owner", team_field="team") is not NOTHING
        manager = type(obj)._default_manager
        return manager.restrict(user, action).filter(pk=obj.pk).exists()

    return check


can_view = _object_predicate("view")
can_change = _object_predicate("change")


def get_restricted_or_404(user, queryset, action: Action = "view", **lookup):
    """The one row of ``queryset`` matching ``lookup`` that ``user`` may ``action``, else
    ``Http404``: a row the user may not act on looks exactly like one that does not exist
    (the pages and the API answer alike). ``queryset`` is a model, a manager or a queryset
    whose model has a :class:`RestrictedQuerySet`."""
    from django.shortcuts import get_object_or_404

    if isinstance(queryset, type) and issubclass(queryset, models.Model):
        queryset = queryset._default_manager.all()
    elif isinstance(queryset, models.Manager):
        queryset = queryset.all()
    return get_object_or_404(queryset.restrict(user, action), **lookup)


@rules.predicate
def is_admin(user) -> bool:
    """Administrators manage policy and users."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN))
