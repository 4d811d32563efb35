"""PostgreSQL range partitions for the tables a run writes a book of rows into at once.

A full evaluation writes a snapshot per client. Inserted into one big table, each row pays a
trigger call for its client's foreign key (checked at the commit) and an entry in every index
of a table holding several books already. Loaded the way ``pg_restore`` loads a table instead
— ``COPY`` into a table of its own created in the run's transaction, its indexes built once,
its foreign keys validated in one join, then ``ATTACH``\\ ed as the partition of its key — the
same million rows cost about half (measured on a 1M book: 14.7 s → 8.3 s), and leaving the
live table later is a ``DETACH`` instead of a million deletes.

The parent is partitioned by ``RANGE`` of one column (a run id) with a ``DEFAULT`` partition:
every other writer (an event run of one client, the jobs of a partitioned run) inserts into
the parent as before and lands there. ``partition_by_range`` turns an existing table into that
parent in a migration, the old table becoming the partition of the keys used so far, with its
rows, indexes and keys (nothing is copied). SQLite has no partitions: there, nothing here is
called and the table stays one table.

Locks, for whoever runs this next to users: building a partition (``build_partition``: the
table, its rows, keys and indexes) takes nothing from others; attaching it (``Loaded.attach``)
validates its foreign keys, which holds a ``SHARE ROW EXCLUSIVE`` lock on the referenced tables
(their rows can be read, not written) to the commit, and ``ATTACH`` holds the default partition
(a quick scan) ``ACCESS EXCLUSIVE`` to the commit. A run therefore builds its partitions as it
goes and attaches them as its last statements, a second or two before it commits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import DatabaseError, connections, router, transaction

# SQLSTATE of "partition … would overlap partition …" (invalid_object_definition).
_OVERLAP = "42P17"

_INDEX_HEAD = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ ")


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def is_partitioned(table: str, *, using: str = "default") -> bool:
    """Whether ``table`` is a partitioned table (never on SQLite)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.oid = to_regclass(%s)",
            [table],
        )
        return cursor.fetchone() is not None


def _prefix(table: str) -> str:
    return f"{table}_p"


def partition_name(table: str, key: int) -> str:
    return f"{_prefix(table)}{key}"


def run_partitions(table: str, *, using: str = "default") -> dict[int, str]:
    """The partitions of ``table`` loaded for a key (``<table>_p<key>``), by key, in one
    catalog query (empty when the table is not partitioned; the default partition and the
    one of the rows from before partitions are not listed)."""
    if not is_partitioned(table, using=using):
        return {}
    with connections[using].cursor() as cursor:
        names = _partitions(cursor, table)
    prefix = _prefix(table)
    return {
        int(name[len(prefix) :]): name
        for name in names
        if name.startswith(prefix) and name[len(prefix) :].isdigit()
    }


def partition_for(table: str, key: int, *, using: str = "default") -> str | None:
    """The partition of ``table`` holding exactly ``key`` (None: the key's rows are in the
    default partition, or the table is not partitioned)."""
    return run_partitions(table, using=using).get(key)


def _partitions(cursor, table: str) -> list[str]:
    """The names of every partition of ``table``."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
        [table],
    )
    return [name for (name,) in cursor.fetchall()]


def _detach_and_drop(cursor, connection, table: str, name: str, *, keep: str | None = None):
    """Detach partition ``name`` of ``table`` and drop it; its rows matching the SQL
    condition ``keep`` go back into ``table`` first (into the default partition)."""
    parent, part = _quote(connection, table), _quote(connection, name)
    cursor.execute(f"ALTER TABLE {parent} DETACH PARTITION {part}")
    if keep:
        cursor.execute(f"INSERT INTO {parent} SELECT * FROM {part} WHERE {keep}")
    cursor.execute(f"DROP TABLE {part}")


def instant(at: Any) -> tuple[Any, Any]:
    """The bounds of a range partition holding exactly the instant ``at`` (the one
    ``assessed_at`` of a run's assessments)."""
    return at, at + timedelta(microseconds=1)


def load_or_insert(
    model, key: int | None, write: Callable[..., int], *, bounds: tuple[Any, Any] | None = None
) -> Callable[[], None]:
    """Write a run's rows of ``model`` with ``write(table=None)`` — an ``insert_frame``. With
    ``key`` (a run of the whole book) and a partitioned table (PostgreSQL), into a partition
    of its own (``build_partition``), whose ``attach`` is returned for the caller to call as
    its last step; otherwise into the table, and what is returned does nothing."""
    table, using = model._meta.db_table, router.db_for_write(model)
    if key is not None and is_partitioned(table, using=using):
        loaded = build_partition(
            table, key, lambda part: write(table=part), bounds=bounds, using=using
        )
        return loaded.attach
    write()
    return _attached


def _attached() -> None:
    return None


@dataclass(frozen=True)
class Loaded:
    """A partition filled, keyed and indexed, not yet attached: ``attach()`` validates its
    foreign keys and attaches it, the two steps whose locks last to the commit (see the
    module's note), so a caller with more to write attaches last."""

    table: str
    name: str
    bounds: tuple[Any, Any]
    rows: int
    using: str

    def attach(self) -> None:
        """Attach the partition; when its range overlaps a partition already there (a run
        dated back into the span of the rows from before partitions, e.g. ``--as-of`` or a
        fixed clock), its rows go into the parent instead (routed to the partition holding
        them) and the table is dropped: nothing is lost, only the fast path."""
        connection = connections[self.using]
        parent, part = _quote(connection, self.table), _quote(connection, self.name)
        try:
            with transaction.atomic(using=self.using):
                self._attach(connection, parent, part)
        except DatabaseError as error:
            if getattr(error.__cause__, "sqlstate", None) != _OVERLAP:
                raise
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {parent} SELECT * FROM {part}")
                cursor.execute(f"DROP TABLE {part}")

    def _attach(self, connection, parent: str, part: str) -> None:
        with connection.cursor() as cursor:
            for statement in _structure(cursor, self.table, part, foreign=True):
                cursor.execute(statement)
            column = _quote(connection, _partition_column(cursor, self.table))
            # Proves the bound, so ATTACH need not scan the new partition for it.
            cursor.execute(
                f"ALTER TABLE {part} ADD CHECK ({column} >= %s AND {column} < %s)", self.bounds
            )
            cursor.execute(
                f"ALTER TABLE {parent} ATTACH PARTITION {part} FOR VALUES FROM (%s) TO (%s)",
                self.bounds,
            )


def build_partition(
    table: str,
    key: int,
    write: Callable[[str], int],
    *,
    bounds: tuple[Any, Any] | None = None,
    using: str = "default",
) -> Loaded:
    """Create the partition of ``table`` named for ``key`` (a run id), holding the values
    ``FROM bounds[0] TO bounds[1]`` of the partition column (default: ``key`` itself), let
    ``write(name)`` fill it (``core.bulk.insert_frame(..., table=name)``) and give it the
    parent's keys and indexes, each built once. It locks no one else's table; its rows are
    not in ``table`` until ``attach()`` (foreign keys validated once, then ``ATTACH``). In
    the caller's transaction: a failure leaves no partition and no row."""
    bounds = bounds or (key, key + 1)
    connection = connections[using]
    name = partition_name(table, key)
    parent, part = _quote(connection, table), _quote(connection, name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            # Left by a book emptied and its ids restarted (``flush``): empty, it goes.
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {part})")
            if cursor.fetchone()[0]:
                raise RuntimeError(f"{name} already holds rows: key {key} is taken")
            if name in _partitions(cursor, table):
                _detach_and_drop(cursor, connection, table, name)
            else:
                cursor.execute(f"DROP TABLE {part}")
        cursor.execute(
            f"CREATE TABLE {part} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        # The parent's identity sequence numbers the rows, as an insert into the parent would.
        identities = _identities(cursor, table)
        for column, sequence in identities:
            cursor.execute(
                f"ALTER TABLE {part} ALTER {_quote(connection, column)} "
                f"SET DEFAULT nextval(%s::regclass)",
                [sequence],
            )
    rows = write(name)
    with connection.cursor() as cursor:
        for column, _sequence in identities:
            cursor.execute(f"ALTER TABLE {part} ALTER {_quote(connection, column)} DROP DEFAULT")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for statement in _structure(cursor, table, part, foreign=False):
            cursor.execute(statement)
    return Loaded(table=table, name=name, bounds=tuple(bounds), rows=rows, using=using)


def create_attached(
    table: str, key: int, *, bounds: tuple[Any, Any] | None = None, using: str = "default"
) -> str | None:
    """An empty partition of ``table`` for ``key`` (values ``FROM bounds[0] TO bounds[1]``,
    default: ``key`` itself), created attached, with the parent's keys and indexes: for a run
    whose rows arrive in several transactions (a partitioned run's parts insert into the
    table), so they land in a partition of their own, which the archive detaches, and not in
    the default partition, which every later ``ATTACH`` scans. Returns its name, or None
    where the table is not partitioned. Short: creating it locks the parent, and scans the
    default partition (small: event runs only) for rows of its range."""
    if not is_partitioned(table, using=using):
        return None
    bounds = bounds or (key, key + 1)
    connection = connections[using]
    name = partition_name(table, key)
    part = _quote(connection, name)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {part} PARTITION OF {_quote(connection, table)} "
            "FOR VALUES FROM (%s) TO (%s)",
            bounds,
        )
        # The bound as a constraint of its own, proved on an empty table: detached, the
        # partition still proves it, so the archive attaches it without a scan.
        column = _quote(connection, _partition_column(cursor, table))
        cursor.execute(f"ALTER TABLE {part} ADD CHECK ({column} >= %s AND {column} < %s)", bounds)
    return name


def _partition_column(cursor, table: str) -> str:
    cursor.execute(
        "SELECT a.attname FROM pg_partitioned_table p JOIN pg_attribute a "
        "ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
        "WHERE p.partrelid = to_regclass(%s)",
        [table],
    )
    return cursor.fetchone()[0]


def _structure(cursor, table: str, part: str, *, foreign: bool) -> list[str]:
    """The statements giving ``part`` the parent's primary and unique keys and indexes, or
    (``foreign``) its foreign keys, from the parent's own definitions (so a migration
    changing them changes the next partition too)."""
    kinds = ["f"] if foreign else ["p", "u"]
    cursor.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype = ANY(%s) ORDER BY contype DESC, conname",
        [table, kinds],
    )
    statements = [f"ALTER TABLE {part} ADD {d}" for (d,) in cursor.fetchall()]
    if foreign:
        return statements
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = to_regclass(%s) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "ORDER BY i.indexrelid",
        [table],
    )
    return statements + [
        _INDEX_HEAD.sub(rf"CREATE \1INDEX ON {part} ", d) for (d,) in cursor.fetchall()
    ]


def detach_partition(
    table: str, key: int, *, keep: str | None = None, using: str = "default"
) -> bool:
    """Detach and drop the partition of ``key`` (its rows must have been copied elsewhere
    first); its rows matching the SQL condition ``keep`` go back into ``table`` first,
    where they land in the default partition. False when ``key`` has none. Holds the parent
    ``ACCESS EXCLUSIVE`` to the commit: call it last."""
    name = partition_for(table, key, using=using)
    if name is None:
        return False
    connection = connections[using]
    with connection.cursor() as cursor:
        _detach_and_drop(cursor, connection, table, name, keep=keep)
    return True


def drop_partitions(table: str, *, using: str = "default") -> int:
    """Detach and drop every partition of ``table`` loaded by a run (the default partition
    and the one of the rows from before partitions stay): for a book being reset, whose
    runs are gone. Returns how many went."""
    names = list(run_partitions(table, using=using).values())
    connection = connections[using]
    with connection.cursor() as cursor:
        for name in names:
            _detach_and_drop(cursor, connection, table, name)
    return len(names)


# --- migrations ----------------------------------------------------------------------------


def _identities(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT a.attname, pg_get_serial_sequence(%s, a.attname) FROM pg_attribute a "
        "WHERE a.attrelid = to_regclass(%s) AND a.attidentity <> ''",
        [table, table],
    )
    return cursor.fetchall()


def _next_values(cursor, table: str) -> dict[str, int]:
    """Each identity column of ``table`` and the next value its sequence gives."""
    starts = {}
    for column, sequence in _identities(cursor, table):
        cursor.execute(f"SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM {sequence}")
        starts[column] = cursor.fetchone()[0]
    return starts


def _add_identities(cursor, quote, table: str, starts: dict[str, int]) -> None:
    for column, start in starts.items():
        cursor.execute(
            f"ALTER TABLE {quote(table)} ALTER {quote(column)} "
            f"ADD GENERATED BY DEFAULT AS IDENTITY (START WITH {int(start)})"
        )


def _key_columns(definition: str) -> list[str]:
    return [c.strip().strip('"') for c in definition.partition("(")[2].partition(")")[0].split(",")]


def partition_by_range(table: str, column: str, first_new: str) -> Callable:
    """A ``RunPython`` function making ``table`` a parent partitioned by ``RANGE (column)``
    on PostgreSQL. The existing table, renamed ``<table>_legacy``, becomes the partition of
    every key below ``first_new`` (SQL giving the first key not yet used) with its rows,
    indexes and keys (nothing is copied; a primary or unique key gains ``column``, as a key
    of a partitioned table must include it); an empty default partition takes the rest. The
    parent keeps the original index and constraint names. Nothing happens elsewhere.

    Not the old table as the default partition: attaching a partition scans the default
    one, and the old table, emptied by the archive, stays its full size on disk (a 5 GB
    scan, 4.9 s, at every full run on a 1M book)."""

    def apply(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql" or is_partitioned(table, using=connection.alias):
            return
        quote = schema_editor.quote_name
        legacy = f"{table}_legacy"
        with connection.cursor() as cursor:
            cursor.execute(first_new)
            bound = cursor.fetchone()[0]
            indexes, foreign = _indexes_and_foreign_keys(cursor, table)
            starts = _next_values(cursor, table)
            cursor.execute(f"ALTER TABLE {quote(table)} RENAME TO {quote(legacy)}")
            for identity in starts:
                cursor.execute(f"ALTER TABLE {quote(legacy)} ALTER {quote(identity)} DROP IDENTITY")
            keys = _rename_legacy_keys(cursor, quote, legacy, column, indexes)
            cursor.execute(
                f"CREATE TABLE {quote(table)} (LIKE {quote(legacy)} INCLUDING DEFAULTS "
                f"INCLUDING CONSTRAINTS) PARTITION BY RANGE ({quote(column)})"
            )
            _add_identities(cursor, quote, table, starts)
            cursor.execute(
                f"ALTER TABLE {quote(table)} ATTACH PARTITION {quote(legacy)} "
                "FOR VALUES FROM (MINVALUE) TO (%s)",
                [bound],
            )
            _adopt_keys(cursor, quote, table, keys, indexes, foreign)
            cursor.execute(
                f"CREATE TABLE {quote(table + '_default')} PARTITION OF {quote(table)} DEFAULT"
            )

    return apply


def _indexes_and_foreign_keys(cursor, table: str) -> tuple[list[tuple], list[tuple]]:
    """``table``'s indexes as (name, definition, constraint or None, its definition), by
    name, and its foreign keys as (name, definition)."""
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), con.conname, "
        "pg_get_constraintdef(con.oid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid "
        "AND con.conrelid = i.indrelid WHERE i.indrelid = to_regclass(%s) "
        "ORDER BY c.relname",
        [table],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype = 'f'",
        [table],
    )
    return indexes, cursor.fetchall()


def _rename_legacy_keys(
    cursor, quote, legacy: str, column: str, indexes: list[tuple]
) -> list[tuple[str, str]]:
    """Give the old table's indexes and primary/unique keys a ``_l`` suffix, a key gaining
    ``column`` when it lacks it; returns the keys as (original name, definition) for the
    parent."""
    keys = []
    # Index names are per schema: the old table's get a suffix, the parent takes the
    # original ones.
    for name, _definition, con, condef in indexes:
        if con:
            if column not in _key_columns(condef):
                head, _p, rest = condef.partition("(")
                cols, _c, tail = rest.partition(")")
                condef = f"{head}({cols}, {quote(column)}){tail}"
            cursor.execute(f"ALTER TABLE {quote(legacy)} DROP CONSTRAINT {quote(con)}")
            cursor.execute(
                f"ALTER TABLE {quote(legacy)} ADD CONSTRAINT {quote(con + '_l')} {condef}"
            )
            keys.append((con, condef))
        else:
            cursor.execute(f"ALTER INDEX {quote(name)} RENAME TO {quote(name + '_l')}")
    return keys


def _adopt_keys(
    cursor, quote, table: str, keys: list[tuple[str, str]], indexes: list[tuple],
    foreign: list[tuple],
) -> None:  # fmt: skip
    """Create the keys, the other indexes and the foreign keys on the partitioned parent under
    their original names: each adopts the old table's own instead of building or validating
    another."""
    for con, condef in keys:
        cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(con)} {condef}")
    for name, definition, con, _condef in indexes:
        if not con:
            cursor.execute(
                _INDEX_HEAD.sub(rf"CREATE \1INDEX {quote(name)} ON {quote(table)} ", definition)
            )
    for name, definition in foreign:
        cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


def merge_partitions(table: str, column: str) -> Callable:
    """The reverse of ``partition_by_range``: one plain table again, holding every
    partition's rows, with its original key, index names and identity (PostgreSQL only)."""

    def apply(apps, schema_editor):
        connection = schema_editor.connection
        if not is_partitioned(table, using=connection.alias):
            return
        quote = schema_editor.quote_name
        legacy = f"{table}_legacy"
        with connection.cursor() as cursor:
            parts = _partitions(cursor, table)
            starts = _next_values(cursor, table)
            for name in parts:
                cursor.execute(f"ALTER TABLE {quote(table)} DETACH PARTITION {quote(name)}")
            for name in parts:
                if name != legacy:
                    cursor.execute(f"INSERT INTO {quote(legacy)} SELECT * FROM {quote(name)}")
                    cursor.execute(f"DROP TABLE {quote(name)}")
            # The copies' key checks, now: the table cannot be altered while they are pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"DROP TABLE {quote(table)}")
            cursor.execute(f"ALTER TABLE {quote(legacy)} RENAME TO {quote(table)}")
            cursor.execute(
                "SELECT c.relname, con.conname, pg_get_constraintdef(con.oid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid "
                "AND con.conrelid = i.indrelid WHERE i.indrelid = to_regclass(%s)",
                [table],
            )
            for name, con, condef in cursor.fetchall():
                if con and con.endswith("_l"):
                    cols = _key_columns(condef)
                    if len(cols) > 1 and cols[-1] == column:
                        head, _p, rest = condef.partition("(")
                        kept = ", ".join(quote(c) for c in cols[:-1])
                        condef = f"{head}({kept}){rest.partition(')')[2]}"
                    cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(con)}")
                    cursor.execute(
                        f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(con[:-2])} {condef}"
                    )
                elif name.endswith("_l"):
                    cursor.execute(f"ALTER INDEX {quote(name)} RENAME TO {quote(name[:-2])}")
            _add_identities(cursor, quote, table, starts)

    return apply
