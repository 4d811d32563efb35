"""Risk officers (and admins) decide proposals and complete reviews."""

import rules

from fincrm.accounts.choices import Role
from fincrm.core.permissions import is_admin


@rules.predicate
def is_risk_officer(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.RISK_OFFICER)


rules.add_perm("risk.decide", is_risk_officer | is_admin)


@rules.predicate
def is_executive(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.EXECUTIVE)


# The model governance page: risk officers, executives and admins read it; only a risk
# officer asks for or approves a switch of the scorecard in use (maker–checker).
rules.add_perm("risk.view_models", is_risk_officer | is_executive | is_admin)
# A rule, not only a permission: Django grants every permission to a superuser, and a switch
# is a risk officer's decision whoever administers the system (``may_switch_model``).
rules.add_rule("risk.switch_model", is_risk_officer)
rules.add_perm("risk.switch_model", is_risk_officer)


def may_switch_model(user) -> bool:
    """Whether ``user`` may ask for or approve a switch of the scorecard in use."""
    return rules.test_rule("risk.switch_model", user)
