"""History retention: old snapshots and assessments move out of the tables every run writes.

Each full run adds a book's worth of snapshots and credit assessments. Left in place, a book
evaluated nightly for a month carries thirty copies of itself in the indexes every insert has
to maintain, and the run slows down with its age (measured: 8.6 s on a fresh 100k book, 10.4 s
after 37 runs). ``history_archive`` keeps the rows of the last ``keep_full_runs`` full runs
(and everything newer) where runs write them, and moves older rows, unchanged and with their
ids, to ``SnapshotArchive`` and ``CreditAssessmentArchive``: every past decision stays
explainable (``customer_snapshot_history``, the tier-migration page, the API read either
table), only the nightly insert path stops paying for them.

Nothing a run reads is moved: a run reads the assessments since the last full run, and the
latest snapshot of every client belongs to the last full run or a later one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from fincrm.core import partitions
from fincrm.risk.models import CreditAssessment, CreditAssessmentArchive, Review

from .choices import RunKind, RunStatus
from .models import EvaluationRun, Snapshot, SnapshotArchive


@dataclass(frozen=True)
class ArchiveResult:
    runs: int
    snapshots: int
    assessments: int


def _columns(model: type[models.Model]) -> list[str]:
    return [connection.ops.quote_name(f.column) for f in model._meta.concrete_fields]


def _copy(
    source: type[models.Model],
    target: type[models.Model],
    where: str,
    params,
    *,
    table: str | None = None,
) -> int:
    """Copy the rows of ``source`` (or of ``table``, one of its partitions) matching
    ``where`` into ``target``."""
    if set(_columns(source)) != set(_columns(target)):
        raise RuntimeError(f"{target.__name__} must have the columns of {source.__name__}")
    columns = ", ".join(_columns(source))
    src = connection.ops.quote_name(table or source._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {target._meta.db_table} ({columns}) SELECT {columns} FROM {src} "
            f"WHERE {where}",
            params,
        )
        return cursor.rowcount


def _move(source: type[models.Model], target: type[models.Model], where: str, params) -> int:
    """Copy the rows of ``source`` matching ``where`` into ``target``, then delete them."""
    moved = _copy(source, target, where, params)
    src = source._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {src} WHERE {where}", params)
        if cursor.rowcount != moved:  # a concurrent writer: refuse rather than lose rows
            raise RuntimeError(f"archived {moved} rows of {src} but deleted {cursor.rowcount}")
    return moved


def archive_cutoff(keep_full_runs: int) -> EvaluationRun | None:
    """The oldest full run whose rows stay in the live tables (None: nothing to archive)."""
    if keep_full_runs < 1:
        raise ValueError("at least the last full run must stay in the live tables")
    runs = EvaluationRun.objects.filter(kind=RunKind.FULL, status=RunStatus.SUCCEEDED).order_by(
        "-started_at", "-id"
    )
    return runs[keep_full_runs - 1 : keep_full_runs].first()


@transaction.atomic
def history_archive(*, keep_full_runs: int | None = None) -> ArchiveResult:
    """Move snapshots and assessments older than the last ``keep_full_runs`` full runs to the
    archive tables, in one transaction (a failure moves nothing)."""
    keep = settings.FINCRM_HISTORY_FULL_RUNS if keep_full_runs is None else keep_full_runs
    oldest_kept = archive_cutoff(keep)
    if oldest_kept is None:
        return ArchiveResult(0, 0, 0)
    cutoff = oldest_kept.started_at
    runs = list(
        EvaluationRun.objects.filter(started_at__lt=cutoff, archived_at__isnull=True)
        .exclude(status=RunStatus.RUNNING)
        .values_list("pk", flat=True)
    )
    # A full run of the whole book has partitions of its own (PostgreSQL): their rows are
    # copied, and the partitions detached and dropped at the end, instead of deleted one by
    # one.
    table, assessed = Snapshot._meta.db_table, CreditAssessment._meta.db_table
    archived = set(runs)
    own = {pk: n for pk, n in partitions.run_partitions(table).items() if pk in archived}
    shared = [pk for pk in runs if pk not in own]
    snapshots = sum(_copy(Snapshot, SnapshotArchive, "TRUE", [], table=n) for n in own.values())
    for start in range(0, len(shared), 500):
        chunk = shared[start : start + 500]
        marks = ", ".join(["%s"] * len(chunk))
        snapshots += _move(Snapshot, SnapshotArchive, f"run_id IN ({marks})", chunk)
    # An assessment a review was decided on stays in the live table, where the review finds
    # it by its id (moved, the review would point nowhere).
    quote, reviews = connection.ops.quote_name, Review._meta.db_table

    def unreviewed(name: str) -> str:
        return f"NOT EXISTS (SELECT 1 FROM {reviews} r WHERE r.assessment_id = {quote(name)}.id)"

    own_assessed = {
        pk: n for pk, n in partitions.run_partitions(assessed).items() if pk in archived
    }
    assessments = sum(
        _copy(CreditAssessment, CreditAssessmentArchive, unreviewed(n), [], table=n)
        for n in own_assessed.values()
    )
    # The rest (event runs', and those from before partitions), outside those partitions.
    where = f"assessed_at < %s AND {unreviewed(assessed)}"
    params = [connection.ops.adapt_datetimefield_value(cutoff)]
    if own_assessed:
        where += f" AND {quote(assessed)}.tableoid::regclass::text <> ALL(%s)"
        params.append(list(own_assessed.values()))
    assessments += _move(CreditAssessment, CreditAssessmentArchive, where, params)
    EvaluationRun.objects.filter(pk__in=runs).update(archived_at=timezone.now())
    if own or own_assessed:
        # The copies' keys are checked now, not at the commit: a detach holds the live table
        # exclusively until then, so it comes last.
        connection.check_constraints()
        for pk in own:
            partitions.detach_partition(table, pk)
        for pk, name in own_assessed.items():
            # The reviewed ones go back into the live table (its default partition now).
            partitions.detach_partition(assessed, pk, keep=f"NOT ({unreviewed(name)})")
    return ArchiveResult(len(runs), snapshots, assessments)
