"""An assessment's points and signals: PostgreSQL ``json`` instead of ``jsonb`` (``core.fields.RecordJSONField``).

One ``ALTER TABLE`` per table (a single rewrite), PostgreSQL only: elsewhere the column
type is the same and the change is only in the migration state."""

import fincrm.core.fields
from django.db import migrations

TABLES = {
    "risk_creditassessment": ["points", "signals"],
    "risk_creditassessmentarchive": ["points", "signals"],
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
        ("risk", "0006_history_archive"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(_retype("json"), _retype("jsonb"), elidable=False),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="creditassessment",
                    name="points",
                    field=fincrm.core.fields.RecordJSONField(
                        default=dict, verbose_name="points by characteristic"
                    ),
                ),
                migrations.AlterField(
                    model_name="creditassessment",
                    name="signals",
                    field=fincrm.core.fields.RecordJSONField(default=dict, verbose_name="signals"),
                ),
                migrations.AlterField(
                    model_name="creditassessmentarchive",
                    name="points",
                    field=fincrm.core.fields.RecordJSONField(
                        default=dict, verbose_name="points by characteristic"
                    ),
                ),
                migrations.AlterField(
                    model_name="creditassessmentarchive",
                    name="signals",
                    field=fincrm.core.fields.RecordJSONField(default=dict, verbose_name="signals"),
                ),
            ],
        ),
    ]
