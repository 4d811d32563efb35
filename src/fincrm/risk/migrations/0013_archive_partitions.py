"""The archive tables (``SnapshotArchive``, ``CreditAssessmentArchive``) partitioned on
PostgreSQL like the live ones, so that the archive moves a run's partition under its month by
``DETACH``/``ATTACH`` instead of copying its rows (``core.archive_partitions``).

Each existing archive table becomes the archive's first partition, from ``MINVALUE`` to the
first key after its rows, with its rows, indexes and keys (nothing is copied); the primary
keys become (id, run_id) and (id, assessed_at), as the live tables' did. The snapshots'
archive loses its database key to the run: the live snapshots have none (see
``Snapshot.run``), and attaching a run's partition would validate it over the run's rows. The
ORM's cascade still removes a deleted run's archived snapshots. Both tables in one migration
(here, as the assessments' app is the lower of the two): they move together. Nothing changes
on SQLite."""

from django.db import migrations

from fincrm.core.partitions import merge_partitions, partition_by_range

SNAPSHOTS = "evaluation_snapshotarchive"
RUNS = "evaluation_evaluationrun"


def _run_keys(cursor) -> list[str]:
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'f' "
        "AND confrelid = to_regclass(%s)",
        [SNAPSHOTS, RUNS],
    )
    return [name for (name,) in cursor.fetchall()]


def drop_run_key(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in _run_keys(cursor):
            cursor.execute(f'ALTER TABLE {SNAPSHOTS} DROP CONSTRAINT "{name}"')


def add_run_key(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if not _run_keys(cursor):
            cursor.execute(
                f"ALTER TABLE {SNAPSHOTS} ADD CONSTRAINT evaluation_snapshota_run_id_fk "
                f"FOREIGN KEY (run_id) REFERENCES {RUNS} (id) DEFERRABLE INITIALLY DEFERRED"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0012_alert_snooze"),
        ("evaluation", "0012_part_lease"),
    ]

    operations = [
        migrations.RunPython(drop_run_key, add_run_key, elidable=False),
        migrations.RunPython(
            partition_by_range(
                SNAPSHOTS, "run_id", f"SELECT COALESCE(MAX(run_id), 0) + 1 FROM {SNAPSHOTS}"
            ),
            merge_partitions(SNAPSHOTS, "run_id"),
            elidable=False,
        ),
        migrations.RunPython(
            partition_by_range(
                "risk_creditassessmentarchive",
                "assessed_at",
                "SELECT COALESCE(MAX(assessed_at) + interval '1 microsecond', 'epoch') "
                "FROM risk_creditassessmentarchive",
            ),
            merge_partitions("risk_creditassessmentarchive", "assessed_at"),
            elidable=False,
        ),
    ]
