"""Navigation by role: each entry names the URL and who sees it."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from fincrm.accounts.choices import Role

_ALL_STAFF = frozenset(Role.values)

NAV = (
    ("home", _("Workbench"), _ALL_STAFF),
    ("customers:list", _("Clients"), _ALL_STAFF),
    (
        "financing:applications",
        _("Applications"),
        frozenset(
            {Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.RISK_OFFICER, Role.EXECUTIVE, Role.ADMIN}
        ),
    ),
    (
        "customers:import",
        _("Import"),
        frozenset({Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.ADMIN}),
    ),
)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    role = Role.ADMIN if user.is_superuser else user.role
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    items = [
        {
            "url": reverse(name),
            "label": label,
            "active": current.split(":")[0] == name.split(":")[0],
        }
        for name, label, roles in NAV
        if role in roles
    ]
    return {"nav_items": items, "user_role_label": Role(role).label if role else ""}
