"""Template tags of lending: where an application stands in its pipeline."""

from __future__ import annotations

from django import template

from fincrm.financing.choices import PIPELINE

register = template.Library()


@register.simple_tag
def stage_state(stage, current):
    """done / current / todo for a pipeline step, for the progress bar."""
    if current not in PIPELINE:
        return "todo"
    if stage == current:
        return "current"
    return "done" if PIPELINE.index(stage) < PIPELINE.index(current) else "todo"
