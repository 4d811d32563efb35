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

import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any

import polars as pl
from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone
from simple_history.utils import get_history_manager_for_model

#: Bound parameters per statement: SQLite allows 32,766, PostgreSQL 65,535.
MAX_PARAMS = 30_000


def _adapter(field: models.Field, connection) -> Callable[[Any], Any] | None:
    """A function preparing one Python value for ``field``'s column (None = as is)."""
    ops = connection.ops
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return _last_value_cached(ops.adapt_datetimefield_value)
    if kind == "DateField":
        return _last_value_cached(ops.adapt_datefield_value)
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: ops.adapt_json_value(value, encoder)
    if isinstance(field, models.DecimalField):
        digits, places = field.max_digits, field.decimal_places
        return lambda value: ops.adapt_decimalfield_value(field.to_python(value), digits, places)
    return None


def json_text(column: str) -> pl.Expr:
    """``column`` (lists, structs, lists of structs) as JSON text, encoded by polars in bulk;
    a null becomes an empty list."""
    value = pl.col(column)
    # {"v":<value>} -> <value>: json_encode works on structs only.
    encoded = pl.struct(value.alias("v")).struct.json_encode().str.slice(5).str.strip_suffix("}")
    return pl.when(value.is_null()).then(pl.lit("[]")).otherwise(encoded).alias(column)


def json_object(**columns: pl.Expr) -> pl.Expr:
    """A JSON object text per row of the keyword columns, leaving out the null ones."""
    encoded = pl.struct([expr.alias(name) for name, expr in columns.items()]).struct.json_encode()
    return encoded.str.replace_all(r'"[A-Za-z0-9_]+":null,?', "").str.replace(r",\}$", "}")


def _column_field(model: type[models.Model], name: str) -> models.Field:
    """``model``'s field ``name``, which must have a column (not a reverse relation)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise ValueError(f"{model.__name__}.{name} has no column")
    return field


def _last_value_cached(adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``adapt`` that reuses its last answer for a repeated value: machine-written rows mostly
    carry the same timestamp or date (a run's ``now``, its ``as_of``)."""
    last: list[Any] = [object(), None]

    def cached(value):
        if value != last[0]:
            last[0], last[1] = value, adapt(value)
        return last[1]

    return cached


def _default(field: models.Field, connection):
    value: Any
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


@dataclass(frozen=True)
class _Plan:
    """The columns of an insert into ``model``: given fields, constants, then defaults."""

    given: list[models.Field]
    shared: tuple  # prepared values of the constants and the defaults, in column order
    columns: list[str]
    adapters: list[Callable[[Any], Any] | None]


def _plan(model, fields, constants, json_text, connection) -> _Plan:
    meta = model._meta
    given = [meta.get_field(name) for name in fields]
    fixed = {meta.get_field(name): value for name, value in (constants or {}).items()}
    named = {f.name for f in given} | {f.name for f in fixed}
    rest = [
        f
        for f in meta.concrete_fields
        if not f.primary_key and f.name not in named and not f.generated
    ]
    shared = tuple(f.get_db_prep_save(v, connection) for f, v in fixed.items())
    shared += tuple(_default(f, connection) for f in rest)
    as_text = {meta.get_field(name).name for name in json_text}
    adapters = [None if f.name in as_text else _adapter(f, connection) for f in given]
    columns = [f.column for f in [*given, *fixed, *rest]]
    return _Plan(given, shared, columns, adapters)


def _conflict_suffix(model, connection, conflict, update, ignore_conflicts) -> str:
    meta, quote = model._meta, connection.ops.quote_name
    if conflict and update:
        target = ", ".join(quote(meta.get_field(f).column) for f in conflict)
        assignments = ", ".join(
            f"{quote(meta.get_field(f).column)} = EXCLUDED.{quote(meta.get_field(f).column)}"
            for f in update
        )
        return f" ON CONFLICT ({target}) DO UPDATE SET {assignments}"
    if ignore_conflicts:
        return " ON CONFLICT DO NOTHING"
    return ""


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    constants: Mapping[str, Any] | None = None,
    json_text: Collection[str] = (),
    conflict: Sequence[str] | None = None,
    update: Sequence[str] | None = None,
    ignore_conflicts: bool = False,
    table: str | None = None,
) -> int:
    """Insert ``rows`` (tuples in the order of ``fields``) into ``model``'s table.

    Parameters
    ----------
    fields : field names (or attnames such as ``customer_id``) given by each row.
    constants : field → value shared by every row (prepared once), e.g. a run and its time.
    json_text : JSON fields whose values are already JSON text (encoded in bulk by polars).
    conflict, update : upsert: on a conflict on the ``conflict`` fields, overwrite ``update``.
    ignore_conflicts : skip rows that violate any unique constraint (partial ones included).
    table : write into this table (with the model's columns) instead, e.g. a partition being
        loaded (``core.partitions``).

    Returns the number of rows the database wrote: rows skipped by ``ignore_conflicts`` are
    not counted; an upsert counts inserted and updated rows.
    """
    table = table or model._meta.db_table
    connection = connections[router.db_for_write(model)]
    plan = _plan(model, fields, constants, json_text, connection)
    shared, columns, adapters = plan.shared, plan.columns, plan.adapters
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ".format(quote(table), ", ".join(quote(c) for c in columns))
    suffix = _conflict_suffix(model, connection, conflict, update, ignore_conflicts)
    # Django's SQLite cursor rewrites every ``%s`` into ``?`` with a regex on each call: over
    # statements of 30,000 placeholders that is half a second per 100k rows. Write ``?``
    # directly and call the sqlite3 cursor underneath.
    sqlite = connection.vendor == "sqlite"
    placeholder = "(" + ", ".join(["?" if sqlite else "%s"] * len(columns)) + ")"
    per_statement = max(1, MAX_PARAMS // len(columns))
    indexed = [(i, a) for i, a in enumerate(adapters) if a is not None]

    def adapted(row):
        if indexed:
            row = list(row)  # an adapted copy
            for i, adapt in indexed:
                if row[i] is not None:
                    row[i] = adapt(row[i])
        return (*row, *shared)

    if connection.vendor == "postgresql":
        if not suffix:
            return _copy_in(connection, table, columns, map(adapted, rows))
        return _copy_merge(connection, table, columns, map(adapted, rows), suffix)

    written = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, per_statement)):
            params: list[Any] = []
            for row in batch:
                params.extend(adapted(row))
            statement = sql + ", ".join([placeholder] * len(batch)) + suffix
            if sqlite:
                with connection.wrap_database_errors:
                    raw = cursor.cursor
                    sqlite3.Cursor.execute(raw, statement, params)
            else:
                cursor.execute(statement, params)
            written += cursor.rowcount if cursor.rowcount >= 0 else len(batch)
    return written


def insert_frame(
    model: type[models.Model],
    frame: pl.DataFrame,
    *,
    constants: Mapping[str, Any] | None = None,
    json_text: Collection[str] = (),
    conflict: Sequence[str] | None = None,
    update: Sequence[str] | None = None,
    ignore_conflicts: bool = False,
    progress: Callable[[int], None] | None = None,
    table: str | None = None,
) -> int:
    """``insert_rows`` of a frame whose column names are the fields, in order.

    On PostgreSQL the frame goes to ``COPY … (FORMAT csv)`` as CSV written by polars, in
    slices of ``COPY_SLICE`` rows: no Python object is built per value (a million snapshots
    spent ~10 s in ``write_row`` alone). Numbers, text, booleans, dates and aware datetimes
    are written by polars; the constants and defaults are rendered once by psycopg. A frame
    with a column polars cannot write as the database expects (a float for a decimal, a JSON
    value that is not yet text) takes the row path. ``progress`` is called with the rows sent
    so far.
    """
    connection = connections[router.db_for_write(model)]
    fields = frame.columns
    plan = _plan(model, fields, constants, json_text, connection)
    by_csv = connection.vendor == "postgresql" and all(
        _csv_writable(f, adapt, frame.schema[name])
        for f, adapt, name in zip(plan.given, plan.adapters, fields, strict=True)
    )
    if not by_csv:
        written = 0
        for offset in range(0, frame.height, COPY_SLICE):
            part = frame.slice(offset, COPY_SLICE)
            written += insert_rows(
                model,
                fields,
                part.iter_rows(),
                constants=constants,
                json_text=json_text,
                conflict=conflict,
                update=update,
                ignore_conflicts=ignore_conflicts,
                table=table,
            )
            if progress:
                progress(offset + part.height)
        return written
    texts = _as_csv_fields(connection, plan.shared)
    target = table or model._meta.db_table
    out = frame.select(
        *(
            pl.col(c).dt.convert_time_zone("UTC")
            if isinstance(t, pl.Datetime) and t.time_zone
            else pl.col(c)
            for c, t in frame.schema.items()
        ),
        *(pl.lit(t, dtype=pl.String).alias(f"_const{i}") for i, t in enumerate(texts)),
    )

    def feed(copy) -> int:
        for offset in range(0, out.height, COPY_SLICE):
            part = out.slice(offset, COPY_SLICE)
            copy.write(part.write_csv(include_header=False, null_value="", quote_style="necessary"))
            if progress:
                progress(offset + part.height)
        return out.height

    suffix = _conflict_suffix(model, connection, conflict, update, ignore_conflicts)
    if not suffix:
        return _copy_in(connection, target, plan.columns, feed, csv=True)
    return _copy_merge(connection, target, plan.columns, feed, suffix, csv=True)


def _csv_writable(field: models.Field, adapt, dtype: pl.DataType) -> bool:
    """Whether polars writes this column as PostgreSQL's ``COPY`` reads it: values that need
    no adapting, dates and datetimes, and decimals already held as text (or polars decimals)."""
    kind = field.get_internal_type()
    if adapt is None or kind in ("DateField", "DateTimeField"):
        return True
    return kind == "DecimalField" and (dtype == pl.String or isinstance(dtype, pl.Decimal))


#: Rows per CSV slice sent to ``COPY``: bounds the text held in memory at once.
COPY_SLICE = 100_000


def _as_csv_fields(connection, values: Sequence[Any]) -> list[str | None]:
    """Each prepared value as the text PostgreSQL's ``COPY`` reads for it (None: NULL), as
    psycopg dumps it for ``COPY … FROM STDIN`` (JSON wrappers, aware datetimes, booleans)."""
    from psycopg.adapt import PyFormat, Transformer

    transformer = Transformer(connection.connection)
    texts: list[str | None] = []
    for value in values:
        if value is None:
            texts.append(None)
            continue
        dumped = transformer.get_dumper(value, PyFormat.TEXT).dump(value)
        texts.append(None if dumped is None else bytes(dumped).decode())
    return texts


def _copy_in(connection, table: str, columns: list[str], rows, *, csv: bool = False) -> int:
    """PostgreSQL: ``COPY … FROM STDIN``, rows adapted by psycopg in C. A multi-row INSERT
    with 30,000 bound parameters spent seconds per 100k rows in binding alone. ``csv``:
    ``rows`` is a function writing CSV text to the copy and returning its row count."""
    from psycopg.copy import QueuedLibpqWriter

    quote = connection.ops.quote_name
    statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    if csv:
        statement += " WITH (FORMAT csv)"
    written = 0
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        # Sent from a thread: the next slice is written while the server reads this one
        # (1M snapshot rows: 9.5 → 8.7 s).
        cursor.cursor.copy(statement, writer=QueuedLibpqWriter(cursor.cursor)) as copy,
    ):
        if csv:
            return rows(copy)
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def update_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Set ``fields`` of the rows whose primary keys are given: ``rows`` are tuples
    ``(pk, *values)``, the values as the fields hold them (prepared here, per field).

    One ``WITH v AS (VALUES …) UPDATE … FROM v`` per batch (SQLite ≥ 3.33 and PostgreSQL),
    not Django's ``bulk_update``, which sends per field a ``CASE WHEN pk = … THEN …`` with a
    branch per object that the database walks for every row of the batch (quadratic: 7,000
    control proposals of a nightly run took 1.8 s). No history: for derived columns (days
    past due recomputed from the schedule); audited rows go through ``update_with_history``.
    Returns the rows updated."""
    connection = connections[router.db_for_write(model)]
    meta, quote = model._meta, connection.ops.quote_name
    table, pk = quote(meta.db_table), meta.pk
    given = [_column_field(model, name) for name in fields]
    names = ", ".join(["pk", *(f"c{i}" for i in range(len(given)))])
    # PostgreSQL types a VALUES column from its first row: cast each to its column's type.
    # Not on SQLite, where a CAST to a declared type such as "date" has numeric affinity and
    # turns '2026-07-07' into 2026; its columns take the bound values as they are.
    cast = "CAST(v.c{i} AS {type})" if connection.vendor == "postgresql" else "v.c{i}"
    sets = ", ".join(
        f"{quote(f.column)} = " + cast.format(i=i, type=f.db_type(connection))
        for i, f in enumerate(given)
    )
    row = "(" + ", ".join(["%s"] * (len(given) + 1)) + ")"
    per_statement = max(1, MAX_PARAMS // (len(given) + 1))
    updated = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, per_statement)):
            params: list[Any] = []
            for key, *values in batch:
                params.append(key)
                params.extend(
                    f.get_db_prep_save(v, connection) for f, v in zip(given, values, strict=True)
                )
            cursor.execute(
                f"WITH v({names}) AS (VALUES {', '.join([row] * len(batch))}) "
                f"UPDATE {table} SET {sets} FROM v WHERE {table}.{quote(pk.column)} = v.pk",
                params,
            )
            if cursor.rowcount >= 0:
                updated += cursor.rowcount
            else:  # Python's sqlite3 counts no rows for a statement opening with WITH
                cursor.execute("SELECT changes()")
                updated += cursor.fetchone()[0]
    return updated


def update_with_history(
    objs: Sequence[models.Model],
    model: type[models.Model],
    fields: Sequence[str],
    *,
    default_user=None,
    default_change_reason: str | None = None,
) -> int:
    """``simple_history``'s ``bulk_update_with_history`` without Django's quadratic
    ``bulk_update``: the objects' ``fields`` written by ``update_rows``, then one "~" history
    row per object (``record_history``), both in one transaction. The user is
    ``default_user``, else simple_history's default (the request's user); one user and one
    reason for every object. Returns the rows updated."""
    if not objs:
        return 0
    attnames = [_column_field(model, name).attname for name in fields]
    history = get_history_manager_for_model(model).model
    user = default_user or history.get_default_history_user(objs[0])
    return update_rows_with_history(
        model,
        fields,
        [(o.pk, *(getattr(o, a) for a in attnames)) for o in objs],
        user=user,
        reason=default_change_reason,
    )


def update_rows_with_history(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    user=None,
    reason: str | None = None,
) -> int:
    """``update_rows``, then a "~" history row for each updated row, in one transaction."""
    connection = connections[router.db_for_write(model)]
    with transaction.atomic(using=connection.alias, savepoint=False):
        updated = update_rows(model, fields, rows)
        record_history(model, [row[0] for row in rows], user=user, reason=reason)
    return updated


def record_history(
    model: type[models.Model],
    pks: Sequence[Any],
    *,
    history_type: str = "~",
    user=None,
    reason: str | None = None,
) -> int:
    """A ``simple_history`` row for each of ``pks``, copied from the table as it is now: one
    ``INSERT INTO <history> … SELECT … FROM <table> WHERE pk IN (…)`` per batch, no model
    instance per row (``bulk_history_create`` builds two per row: 66,000 reclassified
    facilities took 5 s in Python). Returns the rows written."""
    if not pks or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return 0
    history = get_history_manager_for_model(model).model
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    meta, hist = model._meta, history._meta
    tracked = list(history.tracked_fields)
    targets = [quote(hist.get_field(f.name).column) for f in tracked]
    extra = ("history_date", "history_user", "history_change_reason", "history_type")
    targets += [quote(hist.get_field(name).column) for name in extra]
    sources = [f"{quote(meta.db_table)}.{quote(f.column)}" for f in tracked]
    constants = [
        hist.get_field("history_date").get_db_prep_save(timezone.now(), connection),
        getattr(user, "pk", user),
        reason,
        history_type,
    ]
    per_statement = MAX_PARAMS - len(constants)
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(pks), per_statement):
            batch = list(pks[start : start + per_statement])
            cursor.execute(
                f"INSERT INTO {quote(hist.db_table)} ({', '.join(targets)}) "
                f"SELECT {', '.join(sources)}, %s, %s, %s, %s FROM {quote(meta.db_table)} "
                f"WHERE {quote(meta.db_table)}.{quote(meta.pk.column)} "
                f"IN ({', '.join(['%s'] * len(batch))})",
                [*constants, *batch],
            )
            written += cursor.rowcount
    return written


def _copy_merge(
    connection, table: str, columns: list[str], rows, suffix: str, *, csv: bool = False
) -> int:
    """PostgreSQL upsert or insert-ignore: ``COPY`` into a temporary table, then one
    ``INSERT … SELECT … ON CONFLICT`` into the real one."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    staging = quote(f"_bulk_{table}")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} AS SELECT {names} FROM {quote(table)} WITH NO DATA"
        )
        try:
            _copy_in(connection, f"_bulk_{table}", columns, rows, csv=csv)
            cursor.execute(
                f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM {staging}{suffix}"
            )
            return cursor.rowcount
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {staging}")


@contextmanager
def deferred_constraints(
    tables: Iterable[str], *, indexes: bool, using: str = "default"
) -> Iterator[None]:
    """PostgreSQL, inside the caller's transaction: take ``tables`` exclusively, drop their
    foreign keys (and with ``indexes`` their non-unique indexes; unique and primary keys stay,
    so keys are still checked as rows arrive), let the caller load rows, then create
    everything again from its own definition — the way ``pg_restore`` loads a table. A
    foreign key comes back validated in one pass instead of a deferred trigger call per row;
    an index is built once instead of maintained row by row. A failure rolls it all back with
    the rows. Elsewhere nothing changes."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    tables = list(tables)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Held to the commit (dropping an index or a key would take it anyway): no one reads
        # a table without its indexes or writes rows the load has not checked.
        for table in tables:
            cursor.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
        dropped_indexes = []
        if indexes:
            cursor.execute(
                """
                SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
                JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisunique
                ORDER BY c.relname
                """,
                [tables],
            )
            dropped_indexes = cursor.fetchall()
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)
            """,
            [tables],
        )
        foreign_keys = cursor.fetchall()
        # A key cannot be dropped while checks deferred to the commit are pending (dropping
        # it alters its parent table too).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, _definition in dropped_indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, definition in dropped_indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
