"""Only administrators edit the policy (DESIGN.md "Roles")."""

import rules

from fincrm.core.permissions import is_admin

rules.add_perm("evaluation.change_policyversion", is_admin)
