"""Running an import: the file read in batches, each batch checked (in a thread a batch ahead
for a large file) and settled by the writer, inside the transactions the options ask for.

- ``all_or_nothing``: one transaction; a bad row rolls everything back, and the rest of the
  file is still checked so that every bad row is reported.
- otherwise each batch is its own transaction: bad rows are skipped, the good ones written; a
  batch the database refuses is reported and nothing of it stays.
- ``bulk_load`` (PostgreSQL): one transaction that locks the client table and rebuilds its
  secondary indexes after the rows (:func:`.writer.bulk_load_pays` says when that pays).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import nullcontext
from itertools import islice
from pathlib import Path
from queue import Full, Queue
from threading import Event, Thread
from typing import Any

import polars as pl
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, router, transaction
from django.utils import translation

from fincrm.accounts.choices import Role
from fincrm.core.bulk import deferred_constraints

from ..models import Customer
from .checks import Checker
from .errors import BadMapping, ImportResult
from .fields import mapping_problems, resolve_mapping
from .reader import open_table
from .writer import BULK_LOAD_TABLES, Writer, book_keys, bulk_load_pays

DEFAULT_BATCH_SIZE = 20_000
#: Roles that may import at all (superusers always may).
IMPORT_ROLES = frozenset({Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.ADMIN})
#: A file of more rows is read and checked a batch ahead, in a thread.
READ_AHEAD_MIN_ROWS = 50_000

Rows = Iterator[tuple[int, list[Any]]]


def may_import(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in IMPORT_ROLES)
    )


def customer_import(
    path: Path | str,
    *,
    user,
    mapping: Mapping[str | int, str | None] | None = None,
    filename: str | None = None,
    all_or_nothing: bool = False,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
    max_rows: int | None = None,
    bulk_load: bool | None = None,
) -> ImportResult:
    """Import the clients in a CSV or XLSX file as ``user`` (see :mod:`fincrm.customers.importer`).

    ``bulk_load`` (PostgreSQL): rebuild the client table's secondary indexes after the rows
    instead of maintaining them row by row, in one transaction that locks the table; by
    default only for a file large against the book (:func:`.writer.bulk_load_pays`).

    ``mapping`` overrides the guessed column mapping (header text or column index → field name,
    or ``None`` to ignore the column). ``dry_run`` validates without writing; ``max_rows``
    stops after that many data rows (a preview's quick check); ``on_progress`` is called with
    the number of rows done after each batch. Raises :class:`.BadFile` or :class:`.BadMapping`
    when the file as a whole cannot be imported and ``PermissionDenied`` when the user may not
    import.
    """
    if not may_import(user):
        raise PermissionDenied
    started = time.perf_counter()
    path = Path(path)
    with open_table(path, filename=filename) as table:
        columns = resolve_mapping(table.headers, mapping)
        problems = mapping_problems(columns)
        if problems:
            raise BadMapping(" ".join(problems))
        estimated = table.estimated_rows or 0
        job = Import(
            user=user,
            columns=[(i, name) for i, name in enumerate(columns) if name],
            filename=filename or path.name,
            all_or_nothing=all_or_nothing,
            dry_run=dry_run,
            batch_size=batch_size,
            on_progress=on_progress,
            text_only=table.text_only,
        )
        if bulk_load is None:
            bulk_load = not dry_run and bulk_load_pays(estimated)
        job.writer.bulk_load = bulk_load
        job.read_ahead = estimated > READ_AHEAD_MIN_ROWS
        result = job.run(table.rows, max_rows)
    result.seconds = time.perf_counter() - started
    return result


class Import:
    """One run over one file: the checker, the writer and the transactions around them."""

    def __init__(
        self,
        *,
        user,
        columns: list[tuple[int, str]],
        filename: str,
        all_or_nothing: bool,
        dry_run: bool,
        batch_size: int,
        on_progress: Callable[[int], None] | None,
        text_only: bool = False,
    ) -> None:
        self.all_or_nothing = all_or_nothing
        self.write = not dry_run
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.result = ImportResult(dry_run=dry_run)
        self.checker = Checker(columns=columns, text_only=text_only)
        reason = f"import: {filename}"[:100]
        self.writer = Writer(user=user, result=self.result, checker=self.checker, reason=reason)
        #: Read and check the next batch in a thread while this one is written.
        self.read_ahead = False

    def run(self, rows: Rows, max_rows: int | None = None) -> ImportResult:
        if max_rows is not None:
            self._run(islice(rows, max_rows))
            self.result.truncated = next(rows, None) is not None
        else:
            self._run(rows)
        return self.result

    def _run(self, rows: Rows) -> None:
        bulk_load = self.write and self.writer.bulk_load
        if not (bulk_load or (self.write and self.all_or_nothing)):
            self._batches(rows)  # each batch its own transaction
            return
        # One transaction (each batch a savepoint). A bulk load's indexes come back with the
        # rows, or nothing changes at all.
        deferred = (
            deferred_constraints(
                BULK_LOAD_TABLES, indexes=True, using=router.db_for_write(Customer)
            )
            if bulk_load
            else nullcontext()
        )
        with transaction.atomic(), deferred:
            if bulk_load:
                self.writer.book_keys = book_keys()
            self._batches(rows)
            abort = bool(self.all_or_nothing and self.result.bad_rows)
            if abort:
                transaction.set_rollback(True)
        if abort:
            self.result.aborted = True
            self.result.created = self.result.updated = self.result.unchanged = 0

    def _batches(self, rows: Rows) -> None:
        for frame in self._checked(rows):
            self.result.total_rows += frame.height
            writing = self.write and not (self.all_or_nothing and self.result.bad_rows)
            if writing:
                try:
                    with transaction.atomic():
                        self.writer.settle_batch(frame, write=True)
                except DatabaseError as exc:
                    self.writer.refuse_batch(self.checker.rows(frame), exc)
            else:
                self.writer.settle_batch(frame, write=False)
            if self.on_progress:
                self.on_progress(self.result.total_rows)

    def _checked(self, rows: Rows) -> Iterator[pl.DataFrame]:
        """The file's batches, checked. With ``read_ahead`` a thread reads and checks the next
        batch while this one is written: the checks keep a core busy, the writes wait on the
        database. The thread touches no database and speaks the caller's language."""
        if not self.read_ahead:
            while batch := list(islice(rows, self.batch_size)):
                yield self.checker.check(batch)
            return
        queue: Queue = Queue(maxsize=1)
        stop = Event()
        language = translation.get_language()

        def put(item) -> None:
            while not stop.is_set():
                try:
                    queue.put(item, timeout=0.2)
                    return
                except Full:
                    continue

        def produce() -> None:
            try:
                with translation.override(language):
                    while not stop.is_set() and (batch := list(islice(rows, self.batch_size))):
                        put(("batch", self.checker.check(batch)))
                put(("done", None))
            except BaseException as exc:  # handed to the caller's thread, raised there
                put(("error", exc))

        reader = Thread(target=produce, name="import-read-ahead", daemon=True)
        reader.start()
        try:
            while True:
                kind, item = queue.get()
                if kind == "done":
                    return
                if kind == "error":
                    raise item
                yield item
        finally:
            stop.set()
            reader.join()
