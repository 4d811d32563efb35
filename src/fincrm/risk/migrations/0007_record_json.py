"""An assessment's points and signals: PostgreSQL ``json`` instead of ``jsonb`` (``core.fields.RecordJSONField``).

One ``ALTER TABLE`` per table (a single rewrite), PostgreSQL only: elsewhere the column
type is the same and the change is only in the migration state."""

from django.db import migrations

import fincrm.core.fields
from fincrm.core.fields import retype_json_columns

TABLES = {
    "risk_creditassessment": ["points", "signals"],
    "risk_creditassessmentarchive": ["points", "signals"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0006_history_archive"),
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
