"""DB → frame: a queryset's rows as a typed polars frame, streamed, without building models."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Final, Literal

import polars as pl
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

#: SQLite allows 32,766 bound parameters; stay well below for ``IN (...)`` lists.
ID_CHUNK = 10_000

#: Rows per ``fetchmany``: bounds the Python objects alive at once whatever the book size.
FETCH_CHUNK = 100_000

#: Schema marker for a datetime column wanted as the local calendar date (Asia/Shanghai).
LOCAL_DATE: Final = "local_date"

#: A column of a ``fetch`` schema: a polars dtype (class or instance) or ``LOCAL_DATE``.
ColumnType = pl.DataType | type[pl.DataType] | Literal["local_date"]


def fetch(qs: QuerySet, schema: Mapping[str, ColumnType]) -> pl.DataFrame:
    """A ``values_list`` queryset straight into a frame.

    The ORM writes the SQL (portable between SQLite and PostgreSQL); the rows are read raw, in
    chunks, without Django's per-value converters, and typed column by column in polars: dates
    stored as text on SQLite, decimals and aware datetimes on PostgreSQL all end up as the
    schema's dtype. ``LOCAL_DATE`` turns a stored UTC datetime into the local date.
    """
    names = list(schema)
    frames = []
    try:
        sql, params = qs.query.get_compiler(qs.db).as_sql()
    except EmptyResultSet:  # e.g. ``pk__in=[]``: nothing to read
        return _empty(schema)
    connection = connections[qs.db]
    if connection.vendor == "postgresql":
        return _postgres_copy(connection, sql, params, schema)
    if connection.vendor == "sqlite":
        sql = _sqlite_as_text(sql, schema)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_CHUNK):
            frame = pl.DataFrame(
                rows, schema=names, orient="row", strict=False, infer_schema_length=None
            )
            frames.append(_typed(frame, schema))
    return pl.concat(frames) if frames else _empty(schema)


def _postgres_copy(connection, sql: str, params, schema: Mapping[str, ColumnType]) -> pl.DataFrame:
    """PostgreSQL: ``COPY (query) TO STDOUT`` as CSV, parsed by polars.

    Row by row, psycopg builds a ``Decimal`` per money value and an aware ``datetime`` per
    timestamp; COPY hands over text that polars parses in bulk (and in parallel). Timestamps
    are sent as UTC wall time, the format SQLite stores, so ``_typed`` treats both alike.
    """
    names = [f"c{i}" for i in range(len(schema))]
    outer = [
        f"({n} AT TIME ZONE 'UTC')" if t == LOCAL_DATE or isinstance(t, pl.Datetime) else n
        for n, t in zip(names, schema.values(), strict=True)
    ]
    query = connection.ops.compose_sql(sql, params)
    copy = (
        f"COPY (WITH q({', '.join(names)}) AS ({query}) SELECT {', '.join(outer)} FROM q) "
        "TO STDOUT WITH (FORMAT csv)"
    )
    buffer = io.BytesIO()
    with connection.cursor() as cursor, cursor.cursor.copy(copy) as stream:
        for block in stream:
            buffer.write(block)
    if not buffer.getbuffer().nbytes:
        return _empty(schema)
    buffer.seek(0)
    frame = pl.read_csv(
        buffer,
        has_header=False,
        new_columns=list(schema),
        schema_overrides=dict.fromkeys(schema, pl.String),
        infer_schema=False,
    )
    return _typed(frame, schema)


def _sqlite_as_text(sql: str, schema: Mapping[str, ColumnType]) -> str:
    """Read SQLite's date and datetime columns as their stored text.

    Django's SQLite connection parses every value of a column declared ``date`` or
    ``datetime`` with a Python function; a million instalments spend seconds there. Wrapping the
    query in a CTE whose outer select casts those columns hides the declared type, and polars
    parses the text in bulk instead.
    """
    names = [f"c{i}" for i in range(len(schema))]
    outer = [
        f"CAST({n} AS TEXT)" if t in (pl.Date, LOCAL_DATE) or isinstance(t, pl.Datetime) else n
        for n, t in zip(names, schema.values(), strict=True)
    ]
    return f"WITH q({', '.join(names)}) AS ({sql}) SELECT {', '.join(outer)} FROM q"


def _empty(schema: Mapping[str, ColumnType]) -> pl.DataFrame:
    return pl.DataFrame(schema={n: pl.Date if isinstance(t, str) else t for n, t in schema.items()})


def _typed(frame: pl.DataFrame, schema: Mapping[str, ColumnType]) -> pl.DataFrame:
    columns = []
    for name, target in schema.items():
        col, dtype = pl.col(name), frame.schema[name]
        if isinstance(target, str):  # LOCAL_DATE, the one text marker
            col = _utc(col, dtype).dt.convert_time_zone(settings.TIME_ZONE).dt.date()
        elif isinstance(target, pl.Datetime):
            col = _utc(col, dtype)
        elif target == pl.Date and dtype == pl.String:  # SQLite keeps dates as text
            col = col.str.slice(0, 10).str.to_date("%Y-%m-%d")
        elif target == pl.Date and isinstance(dtype, pl.Datetime):
            col = col.dt.date()
        else:
            col = col.cast(target)
        columns.append(col.alias(name))
    return frame.select(columns)


def _utc(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A stored datetime column as aware UTC (SQLite keeps naive UTC text)."""
    if dtype == pl.String:
        return col.str.to_datetime(
            "%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC", strict=False
        )
    if isinstance(dtype, pl.Datetime):
        col = col.dt.cast_time_unit("us")
        return col.dt.replace_time_zone("UTC") if dtype.time_zone is None else col
    return col.cast(pl.Datetime("us", "UTC"))


def client_ids(ids: Sequence[int] | None) -> Sequence[int] | None:
    """The clients of a run: None (the whole book), a ``range`` of ids (one job of a
    partitioned run, read with a range condition) or the given ids, sorted and unique."""
    if ids is None or isinstance(ids, range):
        return ids
    return sorted(set(ids))


def fetch_for(
    qs: QuerySet, field: str, ids: Sequence[int] | None, schema: Mapping[str, ColumnType]
) -> pl.DataFrame:
    """``fetch`` restricted to some client ids (chunked ``IN`` lists, or a range condition
    for a ``range``), or to all clients when ids is None."""
    if ids is None:
        return fetch(qs, schema)
    if isinstance(ids, range) and ids.step == 1:
        return fetch(qs.filter(**{f"{field}__gte": ids.start, f"{field}__lt": ids.stop}), schema)
    frames = [
        fetch(qs.filter(**{f"{field}__in": ids[i : i + ID_CHUNK]}), schema)
        for i in range(0, len(ids), ID_CHUNK)
    ]
    return pl.concat(frames) if frames else _empty(schema)
