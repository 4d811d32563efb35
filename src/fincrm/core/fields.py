"""Model fields of our own."""

from __future__ import annotations

from django.db import models


class RecordJSONField(models.JSONField):
    """JSON kept as written: PostgreSQL ``json`` instead of ``jsonb`` (other databases as
    ``JSONField``).

    For the explanations a run writes a book's worth of at a time and only ever reads back
    whole (a snapshot's reasons, an assessment's points and signals). ``jsonb`` parses each
    document into its binary form on the way in: 4.0 of the 9.3 s that COPY of a million
    snapshots takes. ``json`` only checks the text. Key lookups (``->``, ``->>``) work on
    both; containment, key-existence and equality (hence ``DISTINCT``) need ``jsonb``: use a
    plain ``JSONField`` for data that is searched."""

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def from_db_value(self, value, expression, connection):
        # psycopg decodes ``json`` itself (Django only asks it to pass ``jsonb`` as text).
        if value is not None and not isinstance(value, str):
            return value
        return super().from_db_value(value, expression, connection)


def retype_json_columns(tables: dict[str, list[str]], to: str):
    """A ``RunPython`` function turning the given columns of each table into ``to`` (``json``
    or ``jsonb``) on PostgreSQL, one ``ALTER TABLE`` (one rewrite) per table; nothing
    elsewhere, where ``RecordJSONField`` keeps ``JSONField``'s column type."""

    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        for table, columns in tables.items():
            changes = ", ".join(
                f"ALTER COLUMN {quote(c)} TYPE {to} USING {quote(c)}::{to}" for c in columns
            )
            schema_editor.execute(f"ALTER TABLE {quote(table)} {changes}")

    return apply
