"""Reads of evaluation results, restricted to what the acting user may see."""

from __future__ import annotations

import polars as pl
from django.db.models import Count, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from fincrm.analytics.policy import TIERS
from fincrm.analytics.tiering import REASON_TEXTS, migration_matrix
from fincrm.core.db import reporting
from fincrm.core.policy import segment_names

from .choices import RunStatus, Tier
from .features import fetch
from .models import Classification, EvaluationRun, Snapshot, SnapshotArchive, TierChange
from .programmes import customer_strategy

TIER_HISTORY_LIMIT = 20


def reason_text(reason: dict) -> str:
    """One reason of a score in the reader's language ("Interest income of 1,200 CNY ...")."""
    template = REASON_TEXTS.get(reason.get("code", ""))
    if template is None:
        return reason.get("code", "")
    try:
        return _(template).format(value=reason.get("value"))
    except (ValueError, TypeError, KeyError):
        return _(template)


def customer_evaluation(*, customer) -> dict | None:
    """The latest snapshot of a client, its reasons in words, and its tier history."""
    history = customer_snapshot_history(customer=customer)
    if not history:
        return None
    snapshot = history[0]
    names = segment_names()
    return {
        "snapshot": snapshot,
        "sub_scores": [
            (_("Contribution"), snapshot.contribution),
            (_("Potential"), snapshot.potential),
            (_("Loyalty"), snapshot.loyalty),
            (_("Risk (higher is safer)"), snapshot.risk),
        ],
        "reasons": [
            {"text": reason_text(r), "points": r.get("points", 0), "component": r.get("component")}
            for r in snapshot.reasons
        ],
        "segments": [names.get(code, code) for code in snapshot.segments],
        "strategy": customer_strategy(
            customer=customer,
            lifecycle=snapshot.lifecycle,
            segments=snapshot.segments,
            tier=snapshot.tier,
        ),
        "tier_history": list(TierChange.objects.filter(customer=customer)[:TIER_HISTORY_LIMIT]),
        "past": [
            {"snapshot": past, "reasons": [reason_text(r) for r in past.reasons]}
            for past in history[1:]
        ],
    }


def customer_snapshot_history(*, customer, limit: int = TIER_HISTORY_LIMIT) -> list:
    """A client's latest ``limit`` snapshots, newest first, from the live table and then the
    archive: an archived decision is explained exactly like a recent one."""
    recent = list(Snapshot.objects.filter(customer=customer).select_related("run__policy")[:limit])
    if len(recent) < limit:
        recent += SnapshotArchive.objects.filter(customer=customer).select_related("run__policy")[
            : limit - len(recent)
        ]
    return recent


def run_list() -> QuerySet[EvaluationRun]:
    return EvaluationRun.objects.select_related("policy").order_by("-started_at", "-id")


def runs_for_matrix() -> QuerySet[EvaluationRun]:
    return run_list().filter(status=RunStatus.SUCCEEDED)


def tier_migration(*, user, before: EvaluationRun, after: EvaluationRun) -> dict:
    """Counts of clients from each tier in ``before`` to each tier in ``after``.

    Only clients the user may see count; clients not evaluated in ``before`` show as "new".
    """

    def tiers(run: EvaluationRun) -> pl.DataFrame:
        rows = (
            run.snapshot_model.objects.using(reporting())
            .restrict(user, "view")
            .filter(run=run)
            .values_list("customer_id", "tier")
        )
        return pl.DataFrame(
            list(rows.iterator(chunk_size=10_000)),
            schema={"customer_id": pl.Int64, "tier": pl.String},
            orient="row",
        )

    matrix = migration_matrix(tiers(before), tiers(after))
    labels = dict(Tier.choices)
    from_col = matrix.columns[0]
    rows = []
    for row in matrix.iter_rows(named=True):
        source = row[from_col]
        counts = [row.get(t, 0) or 0 for t in TIERS]
        rows.append({"tier": labels.get(source, _("New")), "code": source, "counts": counts})
    return {"columns": [labels[t] for t in TIERS], "rows": rows}


def tier_counts(*, user) -> dict[str, int]:
    rows = (
        Classification.objects.using(reporting())
        .restrict(user, "view")
        .values("tier")
        .annotate(n=Count("pk"))
        .values_list("tier", "n")
    )
    counts = dict(rows)
    # Best tier first (the codes sort core, key, low, ordinary).
    return {tier: counts[tier] for tier in [*Tier.values, *counts] if tier in counts}


def segment_overview(*, user) -> dict:
    """Rule segments with their sizes, and the clusters of the last full run described."""
    names = segment_names()
    visible = Classification.objects.using(reporting()).restrict(user, "view")
    # Raw JSON text decoded and counted by polars: no Python object per client.
    rows = fetch(
        visible.order_by().annotate(text=Cast("segments", TextField())).values_list("text"),
        {"segments": pl.String},
    )
    total = rows.height
    sizes = dict.fromkeys(names, 0)
    codes = (
        rows.select(pl.col("segments").str.json_decode(pl.List(pl.String)))
        .explode("segments")
        .drop_nulls()
        .group_by("segments")
        .len()
    )
    for code, n in codes.iter_rows():
        sizes[code] = n
    run = (
        EvaluationRun.objects.filter(status=RunStatus.SUCCEEDED, clusters__isnull=False)
        .order_by("-started_at")
        .first()
    )
    clusters = []
    if run is not None:
        counts = dict(
            visible.filter(run__isnull=False)
            .values("cluster")
            .annotate(n=Count("pk"))
            .values_list("cluster", "n")
        )
        for profile in (run.clusters or {}).get("profiles", []):
            clusters.append({**profile, "visible": counts.get(profile.get("cluster"), 0)})
    return {
        "total": total,
        "segments": [
            {"code": code, "name": names.get(code, code), "size": size}
            for code, size in sizes.items()
        ],
        "clusters": clusters,
        "run": run,
    }
