"""Masking of personal data for roles that do not need to see it."""

from __future__ import annotations


def mask_middle(value: str | None, keep_start: int = 3, keep_end: int = 4) -> str:
    """``11010519491231002X`` -> ``110***********002X``; short values are masked entirely."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def shown(value: str | None, *, user) -> str:
    """The value as this user may see it."""
    if getattr(user, "may_see_pii", False):
        return value or ""
    return mask_middle(value)
