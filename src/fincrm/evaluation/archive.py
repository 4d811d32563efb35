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

On PostgreSQL a full run's rows are a partition of their own (``core.partitions``) and the
archive tables are partitioned by month (``core.archive_partitions``, which says why that
layout): the run's partition is detached from the live table and attached under its month,
the same table, without copying a row (at 100k clients, on a busy machine: 7–10 s a night of
copying became 0.14–0.19 s; ``docs/benchmarks.md``). Everything else — event runs' rows,
the runs from before partitions, and SQLite — is copied and deleted as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from fincrm.core import archive_partitions, partitions
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
        .order_by("pk")
        .values_list("pk", "started_at")
    )
    table, assessed = Snapshot._meta.db_table, CreditAssessment._meta.db_table
    archived = {pk: _month(started) for pk, started in runs}
    evaluated = dict(
        EvaluationRun.objects.filter(pk__in=archived).values_list("pk", "customers_evaluated")
    )
    # A full run of the whole book has partitions of its own (PostgreSQL): they move to the
    # archive whole, at the end (below); those the archive cannot take are copied.
    own = {pk: n for pk, n in partitions.run_partitions(table).items() if pk in archived}
    own_assessed = {
        pk: n for pk, n in partitions.run_partitions(assessed).items() if pk in archived
    }
    whole = own.keys() | own_assessed.keys()
    movable = _open_months([run for i, run in enumerate(runs) if i == 0 or run[0] in whole])
    copied = {pk: n for pk, n in own.items() if movable.get((table, pk)) is None}
    copied_assessed = {
        pk: n for pk, n in own_assessed.items() if movable.get((assessed, pk)) is None
    }
    snapshots = sum(_copy(Snapshot, SnapshotArchive, "TRUE", [], table=n) for n in copied.values())
    shared = [pk for pk in archived if pk not in own]
    for start in range(0, len(shared), 500):
        chunk = shared[start : start + 500]
        marks = ", ".join(["%s"] * len(chunk))
        snapshots += _move(Snapshot, SnapshotArchive, f"run_id IN ({marks})", chunk)
    # An assessment a review was decided on stays in the live table, where the review finds
    # it by its id (moved, the review would point nowhere).
    quote, reviews = connection.ops.quote_name, Review._meta.db_table

    def unreviewed(name: str) -> str:
        return f"NOT EXISTS (SELECT 1 FROM {reviews} r WHERE r.assessment_id = {quote(name)}.id)"

    assessments = sum(
        _copy(CreditAssessment, CreditAssessmentArchive, unreviewed(n), [], table=n)
        for n in copied_assessed.values()
    )
    # The rest (event runs', and those from before partitions), outside those partitions.
    where = f"assessed_at < %s AND {unreviewed(assessed)}"
    params = [connection.ops.adapt_datetimefield_value(cutoff)]
    if own_assessed:
        where += f" AND {quote(assessed)}.tableoid::regclass::text <> ALL(%s)"
        params.append(list(own_assessed.values()))
    assessments += _move(CreditAssessment, CreditAssessmentArchive, where, params)
    EvaluationRun.objects.filter(pk__in=archived).update(archived_at=timezone.now())
    if own or own_assessed:
        # The copies' keys are checked now, not at the commit: a detach holds the live table
        # exclusively until then, so it comes last.
        connection.check_constraints()
        for pk in copied:
            partitions.detach_partition(table, pk)
        for pk, name in copied_assessed.items():
            # The reviewed ones go back into the live table (its default partition now).
            partitions.detach_partition(assessed, pk, keep=f"NOT ({unreviewed(name)})")
        # Counted from the run, not by a scan: a run's partition holds a snapshot and an
        # assessment of each client it evaluated (test_partitions checks it).
        for pk in own.keys() - copied.keys():
            _moved(table, pk, SnapshotArchive, archived[pk])
            snapshots += evaluated[pk]
        for pk, name in own_assessed.items():
            if pk not in copied_assessed:
                keep = _reviewed(name)
                kept = _moved(assessed, pk, CreditAssessmentArchive, archived[pk], keep=keep)
                assessments += evaluated[pk] - kept
    return ArchiveResult(len(runs), snapshots, assessments)


def _reviewed(partition: str) -> str | None:
    """The rows of an assessments' partition a review was decided on, as an SQL condition
    (None: none), found from the reviews' index within the partition's ids (a run's ids are
    one block), not by a join over the partition's rows."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id), max(id) FROM {quote(partition)}")
        low, high = cursor.fetchone()
        cursor.execute(
            f"SELECT DISTINCT assessment_id FROM {Review._meta.db_table} "
            "WHERE assessment_id BETWEEN %s AND %s",
            [low, high],
        )
        ids = [int(row[0]) for row in cursor.fetchall()]
    return f"id IN ({', '.join(map(str, ids))})" if ids else None


def _month(at) -> str:
    return timezone.localtime(at).strftime("%Y%m")


def _open_months(runs: list[tuple[int, object]]) -> dict[tuple[str, int], str | None]:
    """The archive's month of each of ``runs`` (the first run to archive and those with
    partitions of their own), by (live table, run id), created as the runs come in order
    (None: the archive is not partitioned, or the run belongs with its rows from before
    months). Done before any row is copied: once one month exists, the months cover every key
    after the rows from before, so the copies (event runs') land in theirs."""
    months: dict[tuple[str, int], str | None] = {}
    pairs = ((Snapshot, SnapshotArchive), (CreditAssessment, CreditAssessmentArchive))
    for live, archive in pairs:
        target = archive._meta.db_table
        if not partitions.is_partitioned(target):
            continue
        for pk, started in runs:
            key = pk if live is Snapshot else started
            months[live._meta.db_table, pk] = archive_partitions.month_partition(
                target, key, _month(started)
            )
    return months


def _moved(source: str, pk: int, archive: type[models.Model], month: str, **keep) -> int:
    kept = archive_partitions.move_partition(source, pk, archive._meta.db_table, month, **keep)
    if kept is None:  # checked by _open_months before
        raise RuntimeError(f"the partition of run {pk} of {source} could not move")
    return kept
