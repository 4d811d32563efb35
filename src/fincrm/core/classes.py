"""The classification vocabulary every app speaks: value tiers, lifecycle stages, credit
grades and financing-size bands (DESIGN.md, layer 0).

The evaluation app assigns them; customers filter by them, lending prices and routes by them,
campaigns, surveys and risk name them. They live at the bottom so that no app imports
``evaluation`` to say "core tier" (``evaluation.choices`` re-exports them).
"""

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
    NEW = "new", _("Newly acquired")  # not a bare "New": that is a record's status (新建)
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


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
