"""Risk officers (and admins) decide proposals and complete reviews."""

import rules

from fincrm.accounts.choices import Role
from fincrm.core.permissions import is_admin


@rules.predicate
def is_risk_officer(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.RISK_OFFICER)


rules.add_perm("risk.decide", is_risk_officer | is_admin)
