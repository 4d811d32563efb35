"""Bigram search on PostgreSQL for two-character names.

pg_trgm extracts no trigram from a two-character pattern (``%唐桂%``), so the trigram index
cannot serve it — and most Chinese personal names are two or three characters. An
expression GIN index over the name's character pairs (``fincrm_bigrams``, an immutable SQL
function) serves exactly those searches. SQLite has neither: the migration does nothing there.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION fincrm_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(upper(value), i, 2)), '{}')
    FROM generate_series(1, greatest(char_length(value) - 1, 0)) AS i
$$
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    schema_editor.execute(
        'CREATE INDEX IF NOT EXISTS "customers_name_bigram" ON "customers_customer" '
        'USING gin (fincrm_bigrams("name"))'
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute('DROP INDEX IF EXISTS "customers_name_bigram"')
    schema_editor.execute("DROP FUNCTION IF EXISTS fincrm_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_trigram_search")]

    operations = [migrations.RunPython(create, drop)]
