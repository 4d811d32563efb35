from django import template
from django.utils.translation import gettext_lazy as _

from fincrm.analytics.delinquency import BUCKETS
from fincrm.core.classes import SIZE_BAND_LABELS
from fincrm.risk.choices import (
    EXPERT_PARAM_LABELS,
    FACTOR_LABELS,
    RATIO_LABELS,
    SECURITY_LABELS,
    SIGNAL_LABELS,
    ReviewFrequency,
    Severity,
)

register = template.Library()


@register.filter
def signal_label(code: str) -> str:
    return SIGNAL_LABELS.get(code, code)


@register.filter
def ratio_label(code: str) -> str:
    return RATIO_LABELS.get(code, code)


@register.filter
def factor_label(code: str) -> str:
    # A scorecard blended with the expert card shows the expert's factors, weighted.
    if code.startswith("expert_") and code[7:] in FACTOR_LABELS:
        return _("Expert card: %(factor)s") % {"factor": FACTOR_LABELS[code[7:]]}
    return FACTOR_LABELS.get(code, code)


@register.filter
def expert_param_label(code: str) -> str:
    return EXPERT_PARAM_LABELS.get(code, code)


@register.filter
def security_label(code: str) -> str:
    return SECURITY_LABELS.get(code, code)


@register.filter
def frequency_label(code: str) -> str:
    return ReviewFrequency(code).label if code in ReviewFrequency.values else code


@register.filter
def severity_label(code: str) -> str:
    return Severity(code).label if code in Severity.values else code


BUCKET_LABELS = dict(zip(BUCKETS, (_("Current"), "1–30", "31–60", "61–90", "90+"), strict=True))


@register.filter
def bucket_label(code: str) -> str:
    return BUCKET_LABELS.get(code, code)


@register.filter
def size_band_label(code: str) -> str:
    return SIZE_BAND_LABELS.get(code, code)
