"""Bulk writes without a model instance per row.

``Model.objects.bulk_create`` builds one instance per row and prepares every value through its
field; at a hundred thousand rows that costs more than the database does. ``insert_rows``
takes plain tuples (from polars) and sends multi-row ``INSERT`` statements, with the values
adapted once per column type and every unlisted column filled from its field's default — the
same SQL on SQLite and PostgreSQL, including ``ON CONFLICT`` upserts and ignores.

Use it for machine-written rows (snapshots, classifications, assessments, plan tasks). Rows
whose changes must be audited go through ``simple_history``'s bulk helpers instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

#: Bound parameters per statement: SQLite allows 32,766, PostgreSQL 65,535.
MAX_PARAMS = 30_000


def _adapter(field: models.Field, connection) -> Callable[[Any], Any] | None:
    """A function preparing one Python value for ``field``'s column (None = as is)."""
    ops = connection.ops
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return ops.adapt_datetimefield_value
    if kind == "DateField":
        return ops.adapt_datefield_value
    if kind == "JSONField":
        return lambda value: field.get_db_prep_save(value, connection)
    if kind == "DecimalField":
        return lambda value: ops.adapt_decimalfield_value(
            field.to_python(value), field.max_digits, field.decimal_places
        )
    return None


def _default(field: models.Field, connection):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        value = timezone.now()
    elif field.has_default():
        value = field.get_default()
    elif field.null:
        value = None
    elif field.blank and field.empty_strings_allowed:
        value = ""
    else:
        raise ValueError(f"{field.model.__name__}.{field.name} has no default: give it a value")
    return field.get_db_prep_save(value, connection)


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    conflict: Sequence[str] | None = None,
    update: Sequence[str] | None = None,
    ignore_conflicts: bool = False,
) -> int:
    """Insert ``rows`` (tuples in the order of ``fields``) into ``model``'s table.

    Parameters
    ----------
    fields : field names (or attnames such as ``customer_id``) given by each row.
    conflict, update : upsert: on a conflict on the ``conflict`` fields, overwrite ``update``.
    ignore_conflicts : skip rows that violate any unique constraint (partial ones included).

    Returns the number of rows sent (not the number inserted when conflicts are ignored).
    """
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    given = [meta.get_field(name) for name in fields]
    given_names = {f.name for f in given}
    rest = [
        f
        for f in meta.concrete_fields
        if not f.primary_key and f.name not in given_names and not f.generated
    ]
    constants = tuple(_default(f, connection) for f in rest)
    adapters = [_adapter(f, connection) for f in given]
    columns = [f.column for f in given] + [f.column for f in rest]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ".format(
        quote(meta.db_table), ", ".join(quote(c) for c in columns)
    )
    suffix = ""
    if conflict and update:
        target = ", ".join(quote(meta.get_field(f).column) for f in conflict)
        assignments = ", ".join(
            f"{quote(meta.get_field(f).column)} = EXCLUDED.{quote(meta.get_field(f).column)}"
            for f in update
        )
        suffix = f" ON CONFLICT ({target}) DO UPDATE SET {assignments}"
    elif ignore_conflicts:
        suffix = " ON CONFLICT DO NOTHING"
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    per_statement = max(1, MAX_PARAMS // len(columns))
    indexed = [(i, a) for i, a in enumerate(adapters) if a is not None]

    sent = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, per_statement)):
            params: list[Any] = []
            for row in batch:
                values = list(row)
                for i, adapt in indexed:
                    if values[i] is not None:
                        values[i] = adapt(values[i])
                params.extend(values)
                params.extend(constants)
            cursor.execute(sql + ", ".join([placeholder] * len(batch)) + suffix, params)
            sent += len(batch)
    return sent
