"""Reads of the accounts app."""

from __future__ import annotations

from .choices import Role
from .models import Team, User


def team_lead_for(team_id: int | None) -> User | None:
    """The lead of a team, else of its nearest parent team that has one."""
    parents = dict(Team.objects.values_list("pk", "parent_id"))
    leads: dict[int, User] = {}
    for lead in User.objects.filter(role=Role.TEAM_LEAD, is_active=True).order_by("pk"):
        leads.setdefault(lead.team_id, lead)
    seen: set[int] = set()
    while team_id is not None and team_id not in seen:
        if team_id in leads:
            return leads[team_id]
        seen.add(team_id)
        team_id = parents.get(team_id)
    return None
