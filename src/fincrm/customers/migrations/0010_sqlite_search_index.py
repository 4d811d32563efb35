"""The client search index on SQLite (FTS5, trigram tokenizer) and the triggers that keep it in
step with clients and contacts: see :mod:`fincrm.customers.search_index`.

PostgreSQL has its own indexes (0005, 0006): there this migration does nothing. A SQLite
without FTS5's trigram tokenizer (before 3.34) gets no index and keeps the scanning search.
"""

from django.db import migrations

from fincrm.customers import search_index


def create(apps, schema_editor):
    search_index.create(schema_editor.connection)


def drop(apps, schema_editor):
    search_index.drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("customers", "0009_contact_history")]

    operations = [migrations.RunPython(create, drop)]
