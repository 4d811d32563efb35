"""A snapshot's reasons and segments: PostgreSQL ``json`` instead of ``jsonb`` (``core.fields.RecordJSONField``).

One ``ALTER TABLE`` per table (a single rewrite), PostgreSQL only: elsewhere the column
type is the same and the change is only in the migration state."""

from django.db import migrations

import fincrm.core.fields
from fincrm.core.fields import retype_json_columns

TABLES = {
    "evaluation_snapshot": ["reasons", "segments"],
    "evaluation_snapshotarchive": ["reasons", "segments"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0005_value_score_sort_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(
                    retype_json_columns(TABLES, "json"),
                    retype_json_columns(TABLES, "jsonb"),
                    elidable=False,
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="snapshot",
                    name="reasons",
                    field=fincrm.core.fields.RecordJSONField(default=list, verbose_name="reasons"),
                ),
                migrations.AlterField(
                    model_name="snapshot",
                    name="segments",
                    field=fincrm.core.fields.RecordJSONField(default=list, verbose_name="segments"),
                ),
                migrations.AlterField(
                    model_name="snapshotarchive",
                    name="reasons",
                    field=fincrm.core.fields.RecordJSONField(default=list, verbose_name="reasons"),
                ),
                migrations.AlterField(
                    model_name="snapshotarchive",
                    name="segments",
                    field=fincrm.core.fields.RecordJSONField(default=list, verbose_name="segments"),
                ),
            ],
        ),
    ]
