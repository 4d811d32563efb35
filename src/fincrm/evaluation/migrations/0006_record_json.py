"""A snapshot's reasons and segments: PostgreSQL ``json`` instead of ``jsonb`` (``core.fields.RecordJSONField``).

One ``ALTER TABLE`` per table (a single rewrite), PostgreSQL only: elsewhere the column
type is the same and the change is only in the migration state."""

import fincrm.core.fields
from django.db import migrations

TABLES = {
    "evaluation_snapshot": ["reasons", "segments"],
    "evaluation_snapshotarchive": ["reasons", "segments"],
}


def _retype(to):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        for table, columns in TABLES.items():
            changes = ", ".join(
                f"ALTER COLUMN {quote(c)} TYPE {to} USING {quote(c)}::{to}" for c in columns
            )
            schema_editor.execute(f"ALTER TABLE {quote(table)} {changes}")

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0005_value_score_sort_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(_retype("json"), _retype("jsonb"), elidable=False),
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
