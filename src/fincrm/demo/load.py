"""Write polars frames straight into a model's table: ``COPY … FROM STDIN`` (CSV written by
polars) on PostgreSQL, one prepared ``INSERT`` run by ``executemany`` on SQLite.

``core.bulk.insert_rows`` adapts every value through its field in Python; the demo book's
frames are already in the database's terms (numbers rounded to cents, naive UTC times), so
here a whole frame is encoded in one go. Columns whose name starts with ``_`` are the
generator's working columns and are left out; model fields the frame lacks get their default.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum

import polars as pl
from django.db import connections, models, router
from django.utils import timezone


def _defaults(model: type[models.Model], given: set[str]) -> list[tuple[str, object]]:
    """(column, value) for each concrete field not in ``given`` (and not the primary key)."""
    now = timezone.now().astimezone(UTC).replace(tzinfo=None, microsecond=0)
    out = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in given or field.generated:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        elif field.has_default():
            value = field.get_default()
            if isinstance(field, models.JSONField):
                value = json.dumps(value)
            elif isinstance(value, datetime):
                value = value.astimezone(UTC).replace(tzinfo=None, microsecond=0)
            elif isinstance(value, Decimal):
                value = float(value)
            elif isinstance(value, Enum):
                value = value.value
        elif field.null:
            value = None
        elif field.blank and field.empty_strings_allowed:
            value = ""
        else:
            raise ValueError(f"{model.__name__}.{field.name} has no default: give it a value")
        out.append((field.column, value))
    return out


def write(model: type[models.Model], frame: pl.DataFrame) -> int:
    """Insert every row of ``frame`` (columns named by field attname) into ``model``'s table."""
    frame = frame.select(c for c in frame.columns if not c.startswith("_"))
    if frame.is_empty():
        return 0
    meta = model._meta
    columns = [meta.get_field(c).column if c != "id" else meta.pk.column for c in frame.columns]
    defaults = _defaults(model, set(frame.columns))
    frame = frame.with_columns(pl.lit(v).alias(c) for c, v in defaults)
    columns += [c for c, _v in defaults]
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    table = quote(meta.db_table)
    if connection.vendor == "postgresql":
        data = frame.write_csv(
            include_header=False,
            null_value="",
            float_precision=2,
            datetime_format="%Y-%m-%d %H:%M:%S+00",
            date_format="%Y-%m-%d",
        )
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)") as copy,
        ):
            copy.write(data)
        return frame.height
    frame = frame.with_columns(
        pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M:%S"),
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
    )
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['?'] * len(columns))})"
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.cursor.executemany(sql, frame.iter_rows())
    return frame.height
