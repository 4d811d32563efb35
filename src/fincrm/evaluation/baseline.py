"""The naive way to evaluate a book, kept only as the baseline of ``fincrm bench evaluate``.

One client at a time: its own queries, its own scoring call, its own INSERT and UPDATE. This is
what a per-object ``for customer in Customer.objects.all(): ...`` loop costs; the bulk path in
:mod:`.services` must beat it by a wide margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db import transaction
from django.utils import timezone

from fincrm.analytics.tiering import assign_tiers, score_customers

from .features import load_features
from .models import Classification, EvaluationRun, Snapshot


def evaluate_one_by_one(
    *, run: EvaluationRun, customer_ids: Sequence[int], cutoffs: dict, policy, as_of: date
) -> int:
    for customer_id in customer_ids:
        with transaction.atomic():
            features = load_features(as_of=as_of, customer_ids=[customer_id])
            row = score_customers(features, policy).row(0, named=True)
            tier = assign_tiers([row["value_score"]], cutoffs)[0]
            now = timezone.now()
            Snapshot.objects.create(
                run=run,
                customer_id=customer_id,
                contribution=row["contribution"],
                potential=row["potential"],
                loyalty=row["loyalty"],
                risk=row["risk"],
                value_score=row["value_score"],
                tier=tier,
                grade=row["grade"],
                grade_source="expert",
                size_band=row["size_band"],
                lifecycle=row["lifecycle"],
                reasons=[dict(r) for r in row["reasons"]],
            )
            Classification.objects.update_or_create(
                customer_id=customer_id,
                defaults={
                    "run": run,
                    "tier": tier,
                    "tier_since": now,
                    "value_score": row["value_score"],
                    "grade": row["grade"],
                    "size_band": row["size_band"],
                    "lifecycle": row["lifecycle"],
                    "evaluated_at": now,
                },
            )
    return len(customer_ids)
