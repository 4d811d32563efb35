"""The client list filtered by industry and sorted by name, on SQLite: an index on
(industry, name) lets it walk one industry in name order and stop at a page, where it sorted
every client of the industry (a quarter of the book in the demo: 25–35 ms at 100k).
PostgreSQL walks the name index and filters (27 ms p95 at 1M, ``docs/benchmarks.md``): there
the migration adds nothing, and the bulk import has one index fewer to rebuild."""

from django.db import migrations

INDEX = "customers_industry_name_sqlite"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "customers_customer" ("industry", "name")'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [("customers", "0010_sqlite_search_index")]

    operations = [migrations.RunPython(create, drop)]
