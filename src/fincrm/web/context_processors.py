"""Navigation by role: each entry names the URL and who sees it. It names the pages of every
app, so it lives in the top layer with the workbench."""

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
        "financing:collections",
        _("Collections"),
        frozenset({Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.RISK_OFFICER, Role.ADMIN}),
    ),
    ("engagement:tasks", _("Tasks"), frozenset({Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.ADMIN})),
    (
        "messaging:outbox",
        _("Outbox"),
        frozenset({Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.ADMIN}),
    ),
    (
        "campaigns:list",
        _("Campaigns"),
        frozenset({Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.ADMIN}),
    ),
    ("events:list", _("Events"), _ALL_STAFF - {Role.SERVICE_AGENT}),
    ("service:list", _("Complaints"), _ALL_STAFF - {Role.EXECUTIVE}),
    (
        "surveys:list",
        _("Surveys"),
        frozenset({Role.SERVICE_AGENT, Role.TEAM_LEAD, Role.EXECUTIVE, Role.ADMIN}),
    ),
    ("insights:dashboard", _("KPIs"), _ALL_STAFF),
    ("staff:training", _("Training"), _ALL_STAFF),
    ("knowledge:list", _("Knowledge"), _ALL_STAFF),
    ("risk:alerts", _("Alerts"), _ALL_STAFF - {Role.SERVICE_AGENT}),
    ("risk:portfolio", _("Risk"), _ALL_STAFF - {Role.SERVICE_AGENT}),
    (
        "risk:models",
        _("Model governance"),
        frozenset({Role.RISK_OFFICER, Role.EXECUTIVE, Role.ADMIN}),
    ),
    ("evaluation:segments", _("Segments"), _ALL_STAFF - {Role.SERVICE_AGENT}),
    ("evaluation:runs", _("Tier migration"), _ALL_STAFF - {Role.SERVICE_AGENT}),
    ("evaluation:policy", _("Policy"), frozenset({Role.ADMIN})),
    ("audit", _("Audit"), frozenset({Role.ADMIN, Role.RISK_OFFICER})),
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
    current = getattr(getattr(request, "resolver_match", None), "view_name", "") or ""
    visible = [(name, label) for name, label, roles in NAV if role in roles]
    # Highlight the exact page, else the first entry of the same app (a client's page -> Clients).
    active = (
        current
        if any(name == current for name, _l in visible)
        else next(
            (name for name, _l in visible if name.split(":")[0] == current.split(":")[0]), None
        )
    )
    items = [
        {"url": reverse(name), "label": label, "active": name == active} for name, label in visible
    ]
    return {"nav_items": items, "user_role_label": Role(role).label if role else ""}
