"""Publishing a policy version, and previewing what a draft would change (nothing written)."""

from __future__ import annotations

import polars as pl
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from fincrm.analytics.policy import PolicyConfig, policy_errors
from fincrm.core.policy import policy_active

from ..features import load_features
from ..models import PolicyVersion
from ..risk import latest_grades
from .scoring import score_frame
from .writes import _previous_tiers


@transaction.atomic
def policy_publish(*, config: dict, user=None, note: str = "") -> PolicyVersion:
    """Validate ``config`` and make it the new active version, or change nothing.

    Raises
    ------
    ValidationError
        With one message per problem; the active version stays active.
    """
    errors = policy_errors(config)
    if errors:
        raise ValidationError(errors)
    normalised = PolicyConfig.model_validate(config).model_dump(mode="json")
    policy_active()  # make sure v1 exists so numbering starts from it
    latest = PolicyVersion.objects.select_for_update().aggregate(n=Max("number"))["n"] or 0
    PolicyVersion.objects.filter(is_active=True).update(is_active=False)
    return PolicyVersion.objects.create(
        number=latest + 1, config=normalised, note=note, is_active=True, created_by=user
    )


def policy_preview(*, config: dict) -> dict:
    """How many clients would change tier under ``config`` (nothing is written).

    Returns ``{"errors": [...]}`` for an invalid config, else the migration counts between
    the current classification and the tiers the new policy would give.
    """
    errors = policy_errors(config)
    if errors:
        return {"errors": errors}
    policy = PolicyConfig.model_validate(config)
    features = load_features(as_of=timezone.localdate())
    # The grades of the last assessments, as the next run would use (nothing is re-scored).
    grades = latest_grades(None)
    features = features.drop("credit_grade").join(grades, on="customer_id", how="left")
    scored = score_frame(features, policy).frame.select("customer_id", "tier")
    current = _previous_tiers(None).select("customer_id", "previous_tier")
    joined = scored.join(current, on="customer_id", how="left")
    moved = joined.filter(
        pl.col("previous_tier").is_null() | (pl.col("previous_tier") != pl.col("tier"))
    )
    matrix = joined.group_by("previous_tier", "tier").len().sort("previous_tier", "tier").to_dicts()
    return {
        "errors": [],
        "clients": joined.height,
        "changed": moved.height,
        "by_tier": dict(joined.group_by("tier").len().iter_rows()),
        "matrix": matrix,
    }
