"""Who may enter training records: team leads (for the people in their teams and sub-teams)
and admins. Everyone sees their own records; see ``TrainingRecordQuerySet.restrict``."""

from __future__ import annotations

import rules

from fincrm.accounts.choices import Role


@rules.predicate
def records_training(user) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active
        and (user.is_superuser or user.role in (Role.ADMIN, Role.TEAM_LEAD))
    )  # fmt: skip


@rules.predicate
def sees_team_training(user) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active
        and (user.is_superuser or user.role in (Role.ADMIN, Role.TEAM_LEAD, Role.EXECUTIVE))
    )  # fmt: skip


@rules.predicate
def sees_scorecard(user) -> bool:
    """Account managers (their own row), leads (their teams'), executives and admins (all)."""
    return bool(
        user and user.is_authenticated and user.is_active
        and (user.is_superuser or user.role in (Role.ADMIN, Role.EXECUTIVE, Role.TEAM_LEAD,
                                                 Role.ACCOUNT_MANAGER))
    )  # fmt: skip


rules.add_perm("staff.record_training", records_training)
rules.add_perm("staff.view_team_training", sees_team_training)
rules.add_perm("staff.view_scorecard", sees_scorecard)
