"""Template filters of complaints and requests."""

from __future__ import annotations

from django import template

from fincrm.service.choices import SlaState

register = template.Library()


@register.filter
def sla_label(state: str) -> str:
    """An SLA state code ("at_risk") in the reader's language."""
    return str(SlaState(state).label) if state in SlaState.values else state
