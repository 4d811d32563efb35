"""Reads of evaluation results, restricted to what the acting user may see."""

from __future__ import annotations

import polars as pl
from django.db.models import Count, QuerySet, Sum, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from fincrm.analytics.policy import TIERS
from fincrm.analytics.segments import ALL_SEGMENTS
from fincrm.analytics.tiering import REASON_TEXTS, migration_matrix
from fincrm.core.archive_partitions import month_ranges
from fincrm.core.db import reporting
from fincrm.core.permissions import NOTHING, scope
from fincrm.core.policy import segment_names

from .choices import RunKind, RunStatus, Tier
from .features import fetch
from .models import (
    Classification,
    EvaluationRun,
    SegmentSize,
    Snapshot,
    SnapshotArchive,
    TierChange,
)
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
    archived = SnapshotArchive.objects.filter(customer=customer).select_related("run__policy")
    # On PostgreSQL the archive has a partition per run under each month: read month by month,
    # newest first, each query planned over one month's partitions (the first one usually
    # gives enough). Elsewhere, the one table.
    for lower, upper in month_ranges(SnapshotArchive._meta.db_table) or [(None, None)]:
        if len(recent) >= limit:
            break
        rows = archived if lower is None else archived.filter(run_id__gte=lower)
        rows = rows if upper is None else rows.filter(run_id__lt=upper)
        recent += rows[: limit - len(recent)]
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


def _stored_sizes(user) -> tuple[EvaluationRun, QuerySet] | None:
    """The last full run and its ``SegmentSize`` rows the user may see (by the manager and
    team the clients had at the run); None when that run stored none (it predates them, or
    no full run succeeded yet): the caller counts live."""
    run = (
        EvaluationRun.objects.using(reporting())
        .filter(kind=RunKind.FULL, status=RunStatus.SUCCEEDED)
        .order_by("-started_at", "-id")
        .first()
    )
    if run is None:
        return None
    rows = SegmentSize.objects.using(reporting()).filter(run=run)
    if not rows.exists():
        return None
    q = scope(user, "view", owner_field="owner_id", team_field="team_id")
    if q is NOTHING:
        return run, rows.none()
    return run, rows.filter(q) if q else rows


def _tier_order(counts: dict[str, int]) -> dict[str, int]:
    # Best tier first (the codes sort core, key, low, ordinary).
    return {tier: counts[tier] for tier in [*Tier.values, *counts] if tier in counts}


def tier_counts(*, user) -> dict[str, int]:
    stored = _stored_sizes(user)
    if stored is not None:
        rows = stored[1].filter(segment=ALL_SEGMENTS).values("tier").annotate(n=Sum("clients"))
        return _tier_order(dict(rows.values_list("tier", "n")))
    rows = (
        Classification.objects.using(reporting())
        .restrict(user, "view")
        .values("tier")
        .annotate(n=Count("pk"))
        .values_list("tier", "n")
    )
    return _tier_order(dict(rows))


def segment_overview(*, user) -> dict:
    """Rule segments with their sizes, and the clusters of the last full run described:
    counted by the last full run when it stored its counts (``counted_at``: that run), else
    live over the classifications the user may see."""
    names = segment_names()
    sizes = dict.fromkeys(names, 0)
    stored = _stored_sizes(user)
    if stored is not None:
        counted_at, rows = stored
        by_segment = dict(
            rows.values("segment").annotate(n=Sum("clients")).values_list("segment", "n")
        )
        total = by_segment.pop(ALL_SEGMENTS, 0) or 0
        sizes.update(by_segment)
        by_cluster = dict(
            rows.filter(segment=ALL_SEGMENTS, cluster__isnull=False)
            .values("cluster")
            .annotate(n=Sum("clients"))
            .values_list("cluster", "n")
        )
    else:
        counted_at = None
        total, by_cluster = _live_sizes(user, sizes)
    run = (
        EvaluationRun.objects.filter(status=RunStatus.SUCCEEDED, clusters__isnull=False)
        .order_by("-started_at")
        .first()
    )
    clusters = []
    if run is not None:
        for profile in (run.clusters or {}).get("profiles", []):
            clusters.append({**profile, "visible": by_cluster.get(profile.get("cluster"), 0)})
    return {
        "total": total,
        "segments": [
            {"code": code, "name": names.get(code, code), "size": size}
            for code, size in sizes.items()
        ],
        "clusters": clusters,
        "run": run,
        "counted_at": counted_at,
    }


def _live_sizes(user, sizes: dict[str, int]) -> tuple[int, dict]:
    """Count the visible classifications into ``sizes`` (by segment) now; returns the total
    and the counts by cluster."""
    visible = Classification.objects.using(reporting()).restrict(user, "view")
    # Raw JSON text decoded and counted by polars: no Python object per client.
    rows = fetch(
        visible.order_by().annotate(text=Cast("segments", TextField())).values_list("text"),
        {"segments": pl.String},
    )
    codes = (
        rows.select(pl.col("segments").str.json_decode(pl.List(pl.String)))
        .explode("segments")
        .drop_nulls()
        .group_by("segments")
        .len()
    )
    for code, n in codes.iter_rows():
        sizes[code] = n
    by_cluster = dict(
        visible.filter(run__isnull=False)
        .values("cluster")
        .annotate(n=Count("pk"))
        .values_list("cluster", "n")
    )
    return rows.height, by_cluster
