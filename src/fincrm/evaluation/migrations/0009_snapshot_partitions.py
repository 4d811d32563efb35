"""Snapshots: on PostgreSQL, a table partitioned by run (``core.partitions``).

The existing table becomes the default partition, rows, indexes and keys included (nothing is
copied); from now on a full run of the whole book loads its snapshots into a partition of
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
            partition_by_range("evaluation_snapshot", "run_id"),
            merge_partitions("evaluation_snapshot", "run_id"),
            elidable=False,
        ),
    ]
