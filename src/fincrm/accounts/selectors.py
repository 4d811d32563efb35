"""Reads of the accounts app."""

from __future__ import annotations

from .choices import Role
from .models import Team, User


def team_lead_for(team_id: int | None) -> User | None:
    """The lead of a team, else of its nearest parent team that has one."""
    parents = dict(Team.objects.values_list("pk", "parent_id"))
    leads: dict[int | None, User] = {}
    for lead in User.objects.filter(role=Role.TEAM_LEAD, is_active=True).order_by("pk"):
        leads.setdefault(lead.team_id, lead)
    seen: set[int] = set()
    while team_id is not None and team_id not in seen:
        if team_id in leads:
            return leads[team_id]
        seen.add(team_id)
        team_id = parents.get(team_id)
    return None


#: Roles that work a client's book, its alerts or reviews: those a task or alert may go to.
ASSIGNEE_ROLES = (Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.RISK_OFFICER)


def assignable_users(actor):
    """The active people ``actor`` may hand work to (issue 19, point 4): an administrator or
    a risk officer anyone who works a book, its alerts or reviews; a team lead their own
    teams' members (and themself); anyone else only themself. Whether the person may then
    see the row handed over is for the caller to check (``restrict``)."""
    people = User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    if actor.is_superuser or actor.role in (Role.ADMIN, Role.RISK_OFFICER):
        return people.filter(role__in=ASSIGNEE_ROLES)
    if actor.role == Role.TEAM_LEAD:
        from django.db.models import Q

        return people.filter(Q(team_id__in=actor.visible_team_ids()) | Q(pk=actor.pk)).filter(
            role__in=ASSIGNEE_ROLES
        )
    return people.filter(pk=actor.pk)
