"""Snapshots: on PostgreSQL, a table partitioned by run (``core.partitions``).

The existing table becomes the partition of the runs so far, rows, indexes and keys included
(nothing is copied), beside an empty default partition; from now on a full run of the whole book loads its snapshots into a partition of
its own. The primary key becomes (id, run_id), as a key of a partitioned table must include
its partition column; ids stay unique, drawn from one sequence. Nothing changes on SQLite."""

from django.db import migrations

from fincrm.core.partitions import merge_partitions, partition_by_range


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0008_classification_plain_indexes"),
    ]

    operations = [
        migrations.RunPython(
            partition_by_range(
                "evaluation_snapshot",
                "run_id",
                "SELECT COALESCE(MAX(id), 0) + 1 FROM evaluation_evaluationrun",
            ),
            merge_partitions("evaluation_snapshot", "run_id"),
            elidable=False,
        ),
    ]
