"""Trigram search on PostgreSQL: the list's "name contains" uses a GIN index (pg_trgm).

Django writes ``name__icontains`` as ``UPPER("name"::text) LIKE UPPER(%s)``; the index is on
that very expression, so the planner can use it for any substring. SQLite has no such index:
there the migration does nothing (its search scans, which is fine for a desk-top demo).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {
    "customers_name_trgm": ("customers_customer", 'UPPER("name"::text)'),
    "contacts_name_trgm": ("customers_contact", 'UPPER("name"::text)'),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, expression) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ({expression} gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_list_sort_indexes")]

    operations = [TrigramExtension(), migrations.RunPython(create, drop)]
