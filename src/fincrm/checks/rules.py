"""Who may import bought check reports: risk officers and administrators (the reports cover
clients of every team)."""

from fincrm.accounts.choices import Role


def may_import(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role == Role.RISK_OFFICER)
