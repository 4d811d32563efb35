"""The roles a user holds. They are defined in ``fincrm.core.roles`` (the permission scopes
at the bottom need them and core imports no app); the apps keep importing them from here."""

from fincrm.core.roles import PII_ROLES, PORTFOLIO_WIDE_ROLES, Role

__all__ = ["PII_ROLES", "PORTFOLIO_WIDE_ROLES", "Role"]
