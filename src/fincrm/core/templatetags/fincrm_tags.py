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


_UNITS = {
    "zh": ((Decimal(10) ** 8, "亿", 2), (Decimal(10) ** 4, "万", 1)),
    "en": ((Decimal(10) ** 9, "bn", 2), (Decimal(10) ** 6, "m", 2), (Decimal(10) ** 3, "k", 0)),
}


@register.filter
def cny(value):
    """Money for humans in CNY: 12.3万 / 1.23亿 in Chinese, 123k / 1.23m in English."""
    if value in (None, ""):
        return "—"
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    units = _UNITS["zh" if (get_language() or "zh").startswith("zh") else "en"]
    for size, unit, digits in units:
        if amount >= size:
            return f"{sign}{amount / size:,.{digits}f}{unit}"
    return f"{sign}{amount:,.0f}"


@register.filter
def percent(value, digits: int = 1):
    if value is None:
        return "n/a"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.simple_tag
def stage_state(stage, current):
    """done / current / todo for a pipeline step, for the progress bar."""
    from fincrm.financing.choices import PIPELINE

    if current not in PIPELINE:
        return "todo"
    if stage == current:
        return "current"
    return "done" if PIPELINE.index(stage) < PIPELINE.index(current) else "todo"


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


@register.filter
def sla_label(state: str) -> str:
    """An SLA state code ("at_risk") in the reader's language."""
    from fincrm.service.choices import SlaState

    return SlaState(state).label if state in SlaState.values else state
