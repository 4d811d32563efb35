"""Evaluation codes (tiers, clustering features) in the reader's language."""

from django import template

from fincrm.evaluation.choices import FEATURE_LABELS, Tier

register = template.Library()


@register.filter
def tier_label(code) -> str:
    """A tier code ("key") by its name; an empty or unknown one as it is."""
    return Tier(code).label if code in Tier.values else (code or "—")


@register.filter
def feature_label(code: str) -> str:
    """A feature of the evaluation frame ("tenure_days") by its name."""
    return FEATURE_LABELS.get(code, code)
