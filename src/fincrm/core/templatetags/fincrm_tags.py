from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.translation import get_language

from fincrm.core.masking import shown

register = template.Library()


@register.filter
def pii(value, user):
    """Show an ID number or phone only to roles that need it (masked otherwise)."""
    return shown(value, user=user)


def _chinese() -> bool:
    return (get_language() or "zh").startswith("zh")


def _number(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


@register.filter
def money(value) -> str:
    """Money with its unit and separators: 9,800 元 · 1,805.0 万元 · 2.45 亿元 in Chinese,
    CNY 9,800 · CNY 18.05m · CNY 2.45bn in English; "—" when unknown."""
    amount = _number(value)
    if amount is None:
        return "—"
    sign, size = ("-" if amount < 0 else ""), abs(amount)
    if _chinese():
        if size >= 10**8:
            return f"{sign}{size / 10**8:,.2f} 亿元"
        if size >= 10**4:
            return f"{sign}{size / 10**4:,.1f} 万元"
        return f"{sign}{size:,.0f} 元"
    for bound, unit in ((10**9, "bn"), (10**6, "m")):
        if size >= bound:
            return f"{sign}CNY {size / bound:,.2f}{unit}"
    return f"{sign}CNY {size:,.0f}"


@register.filter
def cny(value) -> str:
    """The older name of :func:`money`, kept for the templates that use it."""
    return money(value)


@register.filter
def count(value) -> str:
    """A count as a whole number with separators (303, not 303.0); "—" when unknown."""
    number = _number(value)
    return "—" if number is None else f"{number:,.0f}"


@register.filter
def days(value) -> str:
    """A number of days, whole (363, not 363.00); "—" when unknown."""
    return count(value)


@register.filter
def number(value, digits: int = 1) -> str:
    """A figure of unknown kind: whole with separators when whole, else ``digits`` decimals."""
    figure = _number(value)
    if figure is None:
        return str(value) if isinstance(value, str) and value else "—"
    if figure == figure.to_integral_value():
        return f"{figure:,.0f}"
    return f"{figure:,.{int(digits)}f}"


@register.filter
def percent(value, digits: int = 1):
    if value is None:
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def person(user, empty: str = "—"):
    """A user's display name: full name, else username, else ``empty``."""
    if user is None:
        return empty
    return user.get_full_name() or user.username


@register.filter
def get_item(mapping, key):
    """``{{ labels|get_item:code }}``: a dict lookup with a variable key."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
