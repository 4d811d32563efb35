from django.db import models
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    """Value tiers, best first (核心/重点/普通/低效)."""

    CORE = "core", _("Core")
    KEY = "key", _("Key")
    ORDINARY = "ordinary", _("Ordinary")
    LOW = "low", _("Low-value")


class Lifecycle(models.TextChoices):
    POTENTIAL = "potential", _("Potential")
    NEW = "new", _("New")
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class RunKind(models.TextChoices):
    FULL = "full", _("Full")
    INCREMENTAL = "incremental", _("Incremental")
    EVENT = "event", _("Single client")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Grade(models.TextChoices):
    """Credit grades of the default policy (bands of probability of default)."""

    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    BBB = "BBB", "BBB"
    BB = "BB", "BB"
    B = "B", "B"
    CCC = "CCC", "CCC"
    C = "C", "C"


#: Labels of the default policy's financing-size bands (total live approved limits).
SIZE_BAND_LABELS = {
    "none": _("No live facility"),
    "micro": _("Micro (< 1M CNY)"),
    "small": _("Small (1M–10M CNY)"),
    "medium": _("Medium (10M–50M CNY)"),
    "large": _("Large (50M–200M CNY)"),
    "very_large": _("Very large (≥ 200M CNY)"),
}


#: Names of the evaluation frame's features that the policy may cluster on or score with.
FEATURE_LABELS = {
    "revenue": _("Revenue"),
    "revenue_growth": _("Revenue growth"),
    "approved_limit": _("Approved limits"),
    "balance": _("Outstanding balance"),
    "tenure_days": _("Days as a client"),
    "interactions_12m": _("Contacts in 12 months"),
    "max_dpd_12m": _("Worst days past due in 12 months"),
    "utilisation": _("Limit utilisation"),
    "complaints_90d": _("Complaints in 90 days"),
    "nps": _("NPS"),
    "clv": _("Customer lifetime value"),
    "interest_income_12m": _("Interest earned in 12 months"),
    "products": _("Products held"),
}
