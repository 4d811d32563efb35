"""Snapshots and assessments partitioned by run on PostgreSQL (``core.partitions``;
migrations evaluation 0009, risk 0009)."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from fincrm.core import partitions
from fincrm.evaluation import archive, services
from fincrm.evaluation.choices import RunKind
from fincrm.evaluation.models import Snapshot, SnapshotArchive
from fincrm.evaluation.selectors import customer_snapshot_history
from fincrm.risk.models import CreditAssessment, CreditAssessmentArchive

from .conftest import AS_OF

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions: PostgreSQL only"),
]

TABLE = Snapshot._meta.db_table
FIELDS = ("id", "run_id", "customer_id", "created_at", "value_score", "tier", "reasons")


def _rows_of(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
        return cursor.fetchone()[0]


def _exists(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        return cursor.fetchone()[0]


def test_a_full_run_of_the_book_loads_a_partition_of_its_own(rich_book):
    firm = rich_book["a_company"]
    full = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    event = services.evaluation_run(kind=RunKind.EVENT, customer_ids=[firm.pk], as_of=AS_OF)

    own = partitions.partition_for(TABLE, full.pk)
    assert own == f"{TABLE}_p{full.pk}"
    assert _rows_of(own) == full.customers_evaluated == Snapshot.objects.filter(run=full).count()
    # The event run's one snapshot is in the default partition, read through the same table.
    assert partitions.partition_for(TABLE, event.pk) is None
    assert _rows_of(f"{TABLE}_default") == 1
    ids = list(Snapshot.objects.values_list("id", flat=True))
    assert len(ids) == len(set(ids)) == full.customers_evaluated + 1
    assert max(Snapshot.objects.filter(run=event).values_list("id", flat=True)) == max(ids)
    history = customer_snapshot_history(customer=firm)
    assert [s.run_id for s in history] == [event.pk, full.pk]


def test_a_partition_naming_a_client_that_does_not_exist_is_refused_whole(rich_book):
    run = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    before = Snapshot.objects.count()
    real = Snapshot.objects.filter(run=run).values(*FIELDS[1:-1], "reasons").first()

    def write(name):
        with connection.cursor() as cursor:
            for customer in (real["customer_id"], 987_654_321):
                cursor.execute(
                    f"INSERT INTO {name} (run_id, customer_id, created_at, contribution, "
                    "potential, loyalty, risk, value_score, tier, grade, grade_source, "
                    "size_band, lifecycle, segments, reasons) VALUES "
                    "(%s, %s, %s, 0, 0, 0, 0, 0, 'low', 'B', 'expert', 'none', 'new', "
                    "'[]', '[]')",
                    [run.pk + 1, customer, real["created_at"]],
                )
        return 2

    with pytest.raises(IntegrityError), transaction.atomic():
        partitions.build_partition(TABLE, run.pk + 1, write).attach()
    assert not _exists(f"{TABLE}_p{run.pk + 1}")
    assert Snapshot.objects.count() == before


def test_archiving_a_run_with_its_own_partition_detaches_it(rich_book):
    first, second, third = (
        services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF) for _ in range(3)
    )
    old = list(Snapshot.objects.filter(run=first).order_by("id").values(*FIELDS))

    result = archive.history_archive(keep_full_runs=2)

    assert result.snapshots == len(old) > 0
    assert list(SnapshotArchive.objects.order_by("id").values(*FIELDS)) == old
    assert not _exists(f"{TABLE}_p{first.pk}")
    assert partitions.partition_for(TABLE, second.pk) and partitions.partition_for(TABLE, third.pk)
    assert set(Snapshot.objects.values_list("run_id", flat=True)) == {second.pk, third.pk}


@pytest.mark.django_db(transaction=True)
def test_the_migration_goes_back_to_one_table_and_forward_again_keeping_every_row(rich_book):
    full = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    services.evaluation_run(kind=RunKind.EVENT, customer_ids=[rich_book["a_company"].pk])
    rows = list(Snapshot.objects.order_by("id").values(*FIELDS))
    try:
        call_command("migrate", "evaluation", "0008", verbosity=0)
        assert not partitions.is_partitioned(TABLE)
        assert list(Snapshot.objects.order_by("id").values(*FIELDS)) == rows
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'p'",
                [TABLE],
            )
            assert cursor.fetchone()[0] == "PRIMARY KEY (id)"
        # New rows continue the ids, with or without partitions.
        firm = rich_book["a_company"]
        event = services.evaluation_run(kind=RunKind.EVENT, customer_ids=[firm.pk])
        rows += list(Snapshot.objects.filter(run=event).values(*FIELDS))
        assert rows[-1]["id"] > rows[-2]["id"]
    finally:  # every app: going back unapplied risk 0013 (the archives; after evaluation 0012)
        call_command("migrate", verbosity=0)
    assert partitions.is_partitioned(TABLE)
    assert partitions.partition_for(TABLE, full.pk) is None  # merged into the old table
    assert list(Snapshot.objects.order_by("id").values(*FIELDS)) == rows
    again = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    assert partitions.partition_for(TABLE, again.pk)
    assert min(Snapshot.objects.filter(run=again).values_list("id", flat=True)) > rows[-1]["id"]


ASSESSED = CreditAssessment._meta.db_table


def test_a_full_run_assesses_the_book_into_a_partition_of_its_own(rich_book):
    full = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    firm = rich_book["a_company"]
    event = services.evaluation_run(kind=RunKind.EVENT, customer_ids=[firm.pk], as_of=AS_OF)

    own = partitions.partition_for(ASSESSED, full.pk)
    assert own == f"{ASSESSED}_p{full.pk}"
    assert _rows_of(own) == full.customers_evaluated
    assessed = CreditAssessment.objects.filter(assessed_at=full.started_at)
    assert set(assessed.values_list("customer_id", flat=True)) == set(_book_ids())
    assert partitions.partition_for(ASSESSED, event.pk) is None
    assert _rows_of(f"{ASSESSED}_default") == 1
    latest = firm.credit_assessments.first()  # newest first, across partitions
    assert latest.assessed_at == event.started_at


def _book_ids():
    from fincrm.customers.models import Customer

    return list(Customer.objects.values_list("pk", flat=True))


def test_archiving_keeps_an_assessment_a_review_points_at_even_from_a_full_runs_partition(
    rich_book,
):
    from fincrm.risk.models import Review

    first = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    review = Review.objects.filter(status="scheduled").order_by("pk").first()
    based_on = CreditAssessment.objects.filter(
        customer=review.customer, assessed_at=first.started_at
    ).get()
    review.assessment = based_on
    review.save(update_fields=["assessment"])
    services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    old = CreditAssessment.objects.filter(assessed_at=first.started_at).count()

    result = archive.history_archive(keep_full_runs=1)

    assert result.assessments == old - 1
    assert not _exists(f"{ASSESSED}_p{first.pk}")
    review.refresh_from_db()
    assert review.assessment == based_on  # same id, score and time, now in the default
    assert CreditAssessment.objects.get(pk=based_on.pk).score == based_on.score
    assert not CreditAssessmentArchive.objects.filter(pk=based_on.pk).exists()
    assert CreditAssessmentArchive.objects.count() == old - 1


def test_a_leftover_empty_partition_of_a_reused_run_id_is_replaced_a_full_one_refused(rich_book):
    run = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    rows = Snapshot.objects.filter(run=run)
    sample = rows.values(*FIELDS[1:-1], "reasons").first()

    def write(name):
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {name} (run_id, customer_id, created_at, contribution, "
                "potential, loyalty, risk, value_score, tier, grade, grade_source, "
                "size_band, lifecycle, segments, reasons) VALUES "
                "(%s, %s, %s, 0, 0, 0, 0, 0, 'low', 'B', 'expert', 'none', 'new', '[]', '[]')",
                [run.pk, sample["customer_id"], sample["created_at"]],
            )
        return 1

    with pytest.raises(RuntimeError, match="already holds rows"):
        partitions.build_partition(TABLE, run.pk, write)
    rows._raw_delete(rows.db)  # as a flush leaves it: an attached, empty partition
    loaded = partitions.build_partition(TABLE, run.pk, write)
    loaded.attach()
    assert loaded.rows == 1
    assert rows.count() == 1 and _rows_of(f"{TABLE}_p{run.pk}") == 1


def test_dropping_the_runs_partitions_leaves_the_default_and_the_old_rows(rich_book):
    """What ``demo.generator.reset_book`` does after deleting the runs."""
    runs = [services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF) for _ in range(2)]
    event = services.evaluation_run(kind=RunKind.EVENT, customer_ids=[rich_book["a_company"].pk])

    assert partitions.drop_partitions(TABLE) == 2
    assert partitions.drop_partitions(ASSESSED) == 2
    for run in runs:
        assert not _exists(f"{TABLE}_p{run.pk}") and not _exists(f"{ASSESSED}_p{run.pk}")
    assert list(Snapshot.objects.values_list("run_id", flat=True)) == [event.pk]
    assert _exists(f"{TABLE}_legacy") and _exists(f"{ASSESSED}_legacy")
    assert partitions.drop_partitions(TABLE) == 0


def test_a_partitioned_runs_parts_write_into_partitions_of_the_run(rich_book):
    run = services.evaluation_run_partitioned(part_size=2, as_of=AS_OF)
    for part in run.parts.order_by("first_id"):
        services.evaluation_part_run(part.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.parts.count() > 1

    snapshots = partitions.partition_for(TABLE, run.pk)
    assessments = partitions.partition_for(CreditAssessment._meta.db_table, run.pk)
    assert snapshots and assessments  # created attached by the coordinator
    assert (
        _rows_of(snapshots) == Snapshot.objects.filter(run=run).count() == run.customers_evaluated
    )
    assert _rows_of(assessments) == CreditAssessment.objects.filter(
        assessed_at=run.started_at
    ).count() == run.customers_evaluated  # fmt: skip
    assert _rows_of(f"{TABLE}_default") == 0
    assert _rows_of(f"{CreditAssessment._meta.db_table}_default") == 0
    # The archive detaches them like a full run's.
    for _ in range(2):
        services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    archive.history_archive(keep_full_runs=2)
    assert partitions.partition_for(TABLE, run.pk) is None
    assert SnapshotArchive.objects.filter(run_id=run.pk).count() == run.customers_evaluated
