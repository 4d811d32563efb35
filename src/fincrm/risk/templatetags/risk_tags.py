from django import template

from fincrm.risk.choices import RATIO_LABELS, SIGNAL_LABELS

register = template.Library()


@register.filter
def signal_label(code: str) -> str:
    return SIGNAL_LABELS.get(code, code)


@register.filter
def ratio_label(code: str) -> str:
    return RATIO_LABELS.get(code, code)
