"""Archive tables in monthly partitions, into which a run's partition of a live table moves
whole: ``DETACH`` from the live table, ``ATTACH`` under its month — the same relation, no
row copied, no index built, no key validated (PostgreSQL).

Layout. The archive is partitioned by ``RANGE`` of the live table's own partition column (the
run id of snapshots, the assessment time of assessments): a run's partition keeps its bound
(``FROM (k) TO (k + 1)``, or the one instant of its assessments) and the ``CHECK`` proving it
(``core.partitions``), so the archive can take it as it is. Under the archive, one partition a
month, itself partitioned by the same column: its partitions are the runs' tables, and a
``DEFAULT`` one (``<month>_rest``) for the rows still copied (event runs', rows from before
partitions). The first partition of the archive (``<table>_legacy``, ``MINVALUE`` to the
first key after its rows) is the archive table as it was, with its rows
(``partitions.partition_by_range``).

Why months by key ranges and not ``RANGE (created_at)``: a run's snapshots carry no time
constraint (a partitioned run's parts each write their own), and proving one would scan the
rows. A month is therefore the range of keys from the first run archived in it to the first
run of the next: the newest month stays open (``TO (MAXVALUE)``) until a run of a later month
arrives, when it is detached and attached again with its upper bound — its runs' ``CHECK``\\ s
prove the new bound, only its ``_rest`` (a month of event runs) is scanned. Why two levels
and not one partition per run under the archive: a year of nights would be 365 partitions at
one level; a month is also the unit to detach, move to cheaper storage or drop. A reader of
one client's history asks a month at a time (``month_ranges``): a query over the whole
archive would be planned over every run's partition.

Why the live partition's indexes and keys fit: they are created from the live parent's
definitions, which the archive's match (primary key with the partition column, the client's
history index, the run or model index, the client and model foreign keys): ``ATTACH`` adopts
each instead of building or validating one. The archive's key to the run (a foreign key the
live table does not have, for the reason given on ``Snapshot.run``) is dropped on PostgreSQL:
validating it would scan the run's rows (risk migration 0013).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connections

from .partitions import _partition_column, _quote, is_partitioned, partition_for

_RANGE = re.compile(r"FOR VALUES FROM \((.*)\) TO \((.*)\)")
_MONTH = re.compile(r"_m(\d{6})$")


def _ranges(cursor, table: str) -> list[tuple[str, str, str]]:
    """(name, lower, upper) of each range partition of ``table``, the bounds as PostgreSQL
    prints them (literals to use as they are; ``MINVALUE``/``MAXVALUE``)."""
    cursor.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
        [table],
    )
    found = []
    for name, bound in cursor.fetchall():
        match = _RANGE.fullmatch(bound or "")
        if match:
            found.append((name, match[1], match[2]))
    return found


def _value(cursor, literal: str, kind: str) -> Any:
    """The Python value of a bound (None for ``MINVALUE``/``MAXVALUE``)."""
    if literal in ("MINVALUE", "MAXVALUE"):
        return None
    cursor.execute(f"SELECT {literal}::{kind}")
    return cursor.fetchone()[0]


def _column_type(cursor, table: str) -> str:
    cursor.execute(
        "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_partitioned_table p "
        "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
        "WHERE p.partrelid = to_regclass(%s)",
        [table],
    )
    return cursor.fetchone()[0]


def month_partition(table: str, key: Any, month: str, *, using: str = "default") -> str | None:
    """The month partition of the archive ``table`` holding ``key`` (a run id, or its
    assessment time), for a run of ``month`` (``YYYYMM``): the newest month, closed and
    followed by a new one when ``month`` is later; None when ``key`` falls in the archive's
    rows from before months (a partition of the run cannot move there: copy its rows)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        kind = _column_type(cursor, table)
        floor, months = None, []
        for name, lower, upper in _ranges(cursor, table):
            if _MONTH.search(name):
                low = _value(cursor, lower, kind)
                months.append((low, _value(cursor, upper, kind), name, lower))
            elif lower == "MINVALUE":
                floor = _value(cursor, upper, kind)
        months.sort(key=lambda m: m[0])
        if not months:
            if floor is not None and key < floor:
                return None
            return _create_month(
                cursor, connection, table, month, floor if floor is not None else key
            )
        covering = [m for m in months if m[0] <= key and (m[1] is None or key < m[1])]
        if not covering:
            return None  # below the first month: the rows from before
        low, _high, name, _lower = covering[0]
        newest = months[-1]
        if name != newest[2] or month <= name[-6:] or key == low:
            return name
        # A run of a later month: the newest month ends where it starts.
        parent, part = _quote(connection, table), _quote(connection, name)
        cursor.execute(f"ALTER TABLE {parent} DETACH PARTITION {part}")
        cursor.execute(
            f"ALTER TABLE {parent} ATTACH PARTITION {part} FOR VALUES FROM ({newest[3]}) TO (%s)",
            [key],
        )
        return _create_month(cursor, connection, table, month, key)


def _create_month(cursor, connection, table: str, month: str, low: Any) -> str:
    name = f"{table}_m{month}"
    column = _quote(connection, _partition_column(cursor, table))
    parent, part = _quote(connection, table), _quote(connection, name)
    cursor.execute(
        f"CREATE TABLE {part} PARTITION OF {parent} FOR VALUES FROM (%s) TO (MAXVALUE) "
        f"PARTITION BY RANGE ({column})",
        [low],
    )
    cursor.execute(f"CREATE TABLE {_quote(connection, name + '_rest')} PARTITION OF {part} DEFAULT")
    return name


def move_partition(
    source: str,
    key: int,
    target: str,
    month: str,
    *,
    keep: str | None = None,
    using: str = "default",
) -> int | None:
    """Move the partition of ``key`` (a run id) from ``source`` to its month of the archive
    ``target`` (``month_partition``), renamed ``<target>_p<key>``: its rows matching the SQL
    condition ``keep`` go back into ``source`` first (into its default partition). Returns
    how many rows went back (the rows moved are not counted: that would be a scan); None
    when ``key`` has no partition in ``source``, or its range belongs to the archive's rows
    from before months (then nothing was done: copy the rows). Holds ``source``
    ``ACCESS EXCLUSIVE`` to the commit: call it last."""
    name = partition_for(source, key, using=using)
    if name is None or not is_partitioned(target, using=using):
        return None
    connection = connections[using]
    with connection.cursor() as cursor:
        lower, upper = next((lo, hi) for n, lo, hi in _ranges(cursor, source) if n == name)
        home = month_partition(
            target, _value(cursor, lower, _column_type(cursor, source)), month, using=using
        )
        if home is None:
            return None
        column = _quote(connection, _partition_column(cursor, source))
        parent, part = _quote(connection, source), _quote(connection, name)
        cursor.execute(f"ALTER TABLE {parent} DETACH PARTITION {part}")
        kept = 0
        if keep:
            cursor.execute(f"INSERT INTO {parent} SELECT * FROM {part} WHERE {keep}")
            kept = cursor.rowcount
            cursor.execute(f"DELETE FROM {part} WHERE {keep}")
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'c'",
            [name],
        )
        if not cursor.fetchone()[0]:
            # A partition created before its bound was also a constraint: proved once here
            # (a scan), as ATTACH would otherwise.
            cursor.execute(
                f"ALTER TABLE {part} ADD CHECK ({column} >= {lower} AND {column} < {upper})"
            )
        moved = f"{target}_p{key}"
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [moved])
        if cursor.fetchone()[0]:
            # Left by a book emptied and its ids restarted: empty, it goes.
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_quote(connection, moved)})")
            if cursor.fetchone()[0]:
                raise RuntimeError(f"{moved} already holds rows: run {key} is taken")
            cursor.execute(f"DROP TABLE {_quote(connection, moved)}")
        cursor.execute(f"ALTER TABLE {part} RENAME TO {_quote(connection, moved)}")
        cursor.execute(
            f"ALTER TABLE {_quote(connection, home)} ATTACH PARTITION "
            f"{_quote(connection, moved)} FOR VALUES FROM ({lower}) TO ({upper})"
        )
        return kept


def month_ranges(table: str, *, using: str = "default") -> list[tuple[int | None, int | None]]:
    """The key ranges of the archive ``table``'s months and of its rows from before months,
    newest first (None: unbounded), for an integer key (a run id); empty when ``table`` is not
    partitioned. One catalog query: a read of one client's history asks each range in turn,
    so that each query is planned over one month's partitions, not a year's (365 partitions
    planned at once cost 76 ms a query)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        found = _ranges(cursor, table)

    def bound(literal: str) -> int | None:
        return None if literal in ("MINVALUE", "MAXVALUE") else int(literal.strip("'"))

    ranges = [(bound(lower), bound(upper)) for _name, lower, upper in found]
    return sorted(ranges, key=lambda r: -1 if r[0] is None else r[0], reverse=True)
