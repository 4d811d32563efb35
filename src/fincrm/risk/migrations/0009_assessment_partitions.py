"""Credit assessments: on PostgreSQL, a table partitioned by assessment time
(``core.partitions``), as snapshots are by run (``evaluation.0009``).

A full run of the whole book assesses every client at one instant (its start): its rows load
into a partition of their own, holding that instant. The existing table becomes the partition
of everything assessed so far, rows, indexes and keys included (nothing is copied), beside an
empty default partition for the assessments of event runs. The primary key becomes
(id, assessed_at). Nothing changes on SQLite."""

from django.db import migrations

from fincrm.core.partitions import merge_partitions, partition_by_range


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0008_review_assessment_unchecked"),
    ]

    operations = [
        migrations.RunPython(
            partition_by_range(
                "risk_creditassessment",
                "assessed_at",
                "SELECT GREATEST(now(), MAX(assessed_at) + interval '1 microsecond') "
                "FROM risk_creditassessment",
            ),
            merge_partitions("risk_creditassessment", "assessed_at"),
            elidable=False,
        ),
    ]
