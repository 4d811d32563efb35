"""The staff roles (DESIGN.md "Roles"): what ``core.permissions`` scopes by, so they live at
the bottom with it. ``accounts`` (the users who hold them) re-exports them from
``accounts.choices``, where the apps above import them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ACCOUNT_MANAGER = "manager", _("Account manager")
    TEAM_LEAD = "lead", _("Team lead")
    RISK_OFFICER = "risk", _("Risk officer")
    SERVICE_AGENT = "agent", _("Service agent")
    EXECUTIVE = "exec", _("Executive")
    ADMIN = "admin", _("Administrator")


#: Roles that see every client (read); the others see their own or their teams'.
PORTFOLIO_WIDE_ROLES = frozenset(
    {Role.RISK_OFFICER, Role.SERVICE_AGENT, Role.EXECUTIVE, Role.ADMIN}
)
#: Roles that may read ID numbers and phones unmasked.
PII_ROLES = frozenset({Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.RISK_OFFICER, Role.ADMIN})
