"""The archive by ``DETACH``/``ATTACH`` on PostgreSQL: a full run's partitions move under
their month of the archive, the same tables (``core.archive_partitions``; risk migration
0013)."""

import pytest
from django.db import connection

from fincrm.core import archive_partitions, partitions
from fincrm.evaluation import archive, services
from fincrm.evaluation.choices import RunKind
from fincrm.evaluation.models import EvaluationRun, Snapshot, SnapshotArchive
from fincrm.risk.models import CreditAssessment, CreditAssessmentArchive, Review

from .conftest import AS_OF

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions: PostgreSQL only"),
]

SNAPSHOTS, ASSESSED = Snapshot._meta.db_table, CreditAssessment._meta.db_table
ARCHIVE, ASSESSED_ARCHIVE = SnapshotArchive._meta.db_table, CreditAssessmentArchive._meta.db_table
FIELDS = ("id", "run_id", "customer_id", "created_at", "value_score", "tier", "reasons")


def _oid(table: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)::oid", [table])
        return cursor.fetchone()[0]


def _parent(oid: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = %s", [oid]
        )
        row = cursor.fetchone()
        return row and row[0]


def _bound(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = %s::regclass", [table]
        )
        return cursor.fetchone()[0]


def _month(run) -> str:
    return archive._month(run.started_at)


def _indexes_and_keys(oid: int) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid FROM pg_index WHERE indrelid = %s UNION ALL "
            "SELECT oid FROM pg_constraint WHERE conrelid = %s AND contype IN ('c', 'f')",
            [oid, oid],
        )
        return {row[0] for row in cursor.fetchall()}


def test_the_archive_moves_a_runs_partitions_under_its_month_without_copying(rich_book):
    first = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    firm = rich_book["a_company"]
    event = services.evaluation_run(kind=RunKind.EVENT, customer_ids=[firm.pk], as_of=AS_OF)
    second, third = (services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF) for _ in range(2))
    snapshots = _oid(partitions.partition_for(SNAPSHOTS, first.pk))
    built = _indexes_and_keys(snapshots)
    evented = list(Snapshot.objects.filter(run=event).values(*FIELDS))
    assessments = _oid(partitions.partition_for(ASSESSED, first.pk))
    old = list(Snapshot.objects.filter(run=first).order_by("id").values(*FIELDS))
    old_assessed = list(
        CreditAssessment.objects.filter(assessed_at=first.started_at)
        .order_by("id")
        .values_list("id", "customer_id", "grade", "score")
    )

    result = archive.history_archive(keep_full_runs=2)

    assert (result.runs, result.snapshots) == (2, len(old) + len(evented))
    assert result.assessments == len(old_assessed) + 1
    # Its indexes, keys and bound check adopted, none built or validated anew.
    assert _indexes_and_keys(snapshots) == built
    # The very relations the live tables had, now under the archive's month.
    month = f"{ARCHIVE}_m{_month(first)}"
    assert _parent(snapshots) == month and _parent(_oid(month)) == ARCHIVE
    assert _oid(f"{ARCHIVE}_p{first.pk}") == snapshots
    assert _parent(assessments) == f"{ASSESSED_ARCHIVE}_m{_month(first)}"
    assert (
        _bound(f"{ARCHIVE}_p{first.pk}") == f"FOR VALUES FROM ('{first.pk}') TO ('{first.pk + 1}')"
    )
    assert partitions.partition_for(SNAPSHOTS, first.pk) is None
    assert partitions.partition_for(ASSESSED, first.pk) is None
    # Same ids, same rows, read through the archive's models.
    assert list(SnapshotArchive.objects.filter(run=first).order_by("id").values(*FIELDS)) == old
    # The event run's snapshot was copied, into the month's partition of the other rows.
    assert list(SnapshotArchive.objects.filter(run=event).values(*FIELDS)) == evented
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT run_id FROM {month}_rest")
        assert cursor.fetchall() == [(event.pk,)]
    assert (
        list(
            CreditAssessmentArchive.objects.filter(assessed_at=first.started_at)
            .order_by("id")
            .values_list("id", "customer_id", "grade", "score")
        )
        == old_assessed
    )
    assert set(Snapshot.objects.values_list("run_id", flat=True)) == {second.pk, third.pk}
    # The next night's run moves the same way, into the same month.
    services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    archive.history_archive(keep_full_runs=2)
    assert _parent(_oid(f"{ARCHIVE}_p{second.pk}")) == f"{ARCHIVE}_m{_month(second)}"


def test_a_reviewed_assessment_stays_live_when_its_runs_partition_moves(rich_book):
    first = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    review = Review.objects.order_by("pk").first()
    based_on = CreditAssessment.objects.get(customer=review.customer, assessed_at=first.started_at)
    review.assessment = based_on
    review.save(update_fields=["assessment"])
    services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    total = CreditAssessment.objects.filter(assessed_at=first.started_at).count()

    result = archive.history_archive(keep_full_runs=1)

    assert result.assessments == total - 1
    assert (
        _parent(_oid(f"{ASSESSED_ARCHIVE}_p{first.pk}")) == f"{ASSESSED_ARCHIVE}_m{_month(first)}"
    )
    assert CreditAssessment.objects.get(pk=based_on.pk).score == based_on.score
    assert not CreditAssessmentArchive.objects.filter(pk=based_on.pk).exists()
    assert CreditAssessmentArchive.objects.count() == total - 1


def test_a_failure_in_the_middle_leaves_every_partition_where_it_was(rich_book, monkeypatch):
    first, *_ = (services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF) for _ in range(2))
    live = _oid(partitions.partition_for(SNAPSHOTS, first.pk))
    real_move = archive_partitions.move_partition
    moved = []

    def move_then_fail(*args, **kwargs):
        moved.append(real_move(*args, **kwargs))
        raise RuntimeError("disk full")

    monkeypatch.setattr(archive_partitions, "move_partition", move_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        archive.history_archive(keep_full_runs=1)

    assert moved == [0]  # the snapshots had moved when it failed
    assert _parent(live) == SNAPSHOTS
    assert partitions.partition_for(ASSESSED, first.pk)
    assert _oid(f"{ARCHIVE}_m{_month(first)}") is None
    assert not SnapshotArchive.objects.exists() and not CreditAssessmentArchive.objects.exists()
    assert not EvaluationRun.objects.filter(archived_at__isnull=False).exists()


def test_a_run_of_a_later_month_closes_the_newest_month_and_opens_its_own(rich_book):
    first = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    november = archive_partitions.month_partition(ARCHIVE, first.pk, "209911")
    assert november == f"{ARCHIVE}_m209911"
    assert _bound(november).endswith("TO (MAXVALUE)")
    # Later runs of the same month stay in it; a run of December starts December.
    assert archive_partitions.month_partition(ARCHIVE, first.pk + 3, "209911") == november
    december = archive_partitions.month_partition(ARCHIVE, first.pk + 5, "209912")
    assert december == f"{ARCHIVE}_m209912"
    assert _bound(november).endswith(f"TO ('{first.pk + 5}')")
    assert _bound(december) == f"FOR VALUES FROM ('{first.pk + 5}') TO (MAXVALUE)"
    assert archive_partitions.month_partition(ARCHIVE, first.pk + 4, "209912") == november
    # Keys below the months belong with the archive's rows from before.
    assert archive_partitions.month_partition(ARCHIVE, 0, "209912") is None


def test_a_leftover_archive_table_of_a_reused_run_id_goes_if_empty_and_stops_it_if_not(
    rich_book,
):
    first, second, _ = (services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF) for _ in range(3))
    with connection.cursor() as cursor:  # as a book emptied and its ids restarted leaves them
        cursor.execute(f"CREATE TABLE {ARCHIVE}_p{first.pk} (LIKE {ARCHIVE})")
        cursor.execute(f"CREATE TABLE {ARCHIVE}_p{second.pk} AS SELECT 1 AS x")

    archive.history_archive(keep_full_runs=2)
    assert _parent(_oid(f"{ARCHIVE}_p{first.pk}")) == f"{ARCHIVE}_m{_month(first)}"
    with pytest.raises(RuntimeError, match="already holds rows"):
        archive.history_archive(keep_full_runs=1)
    assert partitions.partition_for(SNAPSHOTS, second.pk)
