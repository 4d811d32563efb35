"""The tables a run reads, each read once and shared (``BookReads``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date

import polars as pl
from django.db import connections, transaction

from fincrm.core.frames import client_ids, fetch_for
from fincrm.customers.frames import STATEMENT_SCHEMA, statement_rows
from fincrm.customers.models import FinancialStatement

from .reads import (
    _read_customers,
    _read_event_attendance,
    _read_facility_rows,
    _read_facility_totals,
    _read_fees,
    _read_interactions,
    _read_last_applications,
    _read_last_payments,
    _read_legal_disputes,
    _read_predictions,
    _read_repayment,
    _read_satisfaction,
)

#: Connections reading at once when a run prefetches its tables (PostgreSQL only).
READ_CONNECTIONS = 2

#: ``work_mem`` of those readers: the per-client aggregates hash a million groups; at the
#: default 4 MB PostgreSQL spills them (and the instalment join) to disk.
READ_WORK_MEM = "128MB"


class BookReads:
    """The tables a run reads, each read once and shared by the value features, the credit
    features and the writes that compare with what is stored.

    ``get(name)`` returns a read's frame, reading it then unless ``prefetch`` started it
    earlier. On PostgreSQL ``prefetch`` runs the reads on ``READ_CONNECTIONS`` connections
    of their own, all in the snapshot of the run's transaction (``pg_export_snapshot``, as
    ``pg_dump --jobs`` does): the backends and polars' CSV parsing work side by side on two
    cores, and every read sees the book exactly as the run's own connection would.
    """

    def __init__(self, *, as_of: date, customer_ids: Sequence[int] | None):
        self.as_of = as_of
        self.ids = client_ids(customer_ids)
        ids = self.ids
        self.readers: dict[str, Callable[[], pl.DataFrame]] = {
            "repayment": lambda: _read_repayment(as_of, ids),
            "statements": lambda: fetch_for(
                statement_rows(FinancialStatement.objects.order_by()),
                "customer_id",
                ids,
                STATEMENT_SCHEMA,
            ),
            "customers": lambda: _read_customers(ids),
            "facilities": lambda: _read_facility_totals(ids),
            "facility_rows": lambda: _read_facility_rows(as_of, ids),
            "payments": lambda: _read_last_payments(ids),
            "fees": lambda: _read_fees(as_of, ids),
            "applications": lambda: _read_last_applications(ids),
            "interactions": lambda: _read_interactions(as_of, ids),
            "predictions": lambda: _read_predictions(as_of, ids),
            "satisfaction": lambda: _read_satisfaction(as_of, ids),
            "events": lambda: _read_event_attendance(as_of, ids),
            "legal": lambda: _read_legal_disputes(as_of, ids),
        }
        self._frames: dict[str, pl.DataFrame | Future] = {}

    def add(self, name: str, read: Callable[[], pl.DataFrame]) -> None:
        """Another read of the run (e.g. the stored results it compares with), unless one
        of that name is already there."""
        self.readers.setdefault(name, read)

    def get(self, name: str) -> pl.DataFrame:
        value = self._frames.get(name)
        if value is None:
            value = self.readers[name]()
        elif isinstance(value, Future):
            value = value.result()
        self._frames[name] = value
        return value

    @property
    def repayment(self) -> pl.DataFrame:
        """Per client, the year of instalments up to ``as_of`` (``_read_repayment``)."""
        return self.get("repayment")

    @property
    def statements(self) -> pl.DataFrame:
        """Every financial statement of the clients."""
        return self.get("statements")

    def prefetch(self, alias: str = "default") -> None:
        """Start every read on connections of its own, in this transaction's snapshot.

        Only on PostgreSQL, from an outermost transaction that has written nothing yet:
        other connections cannot see uncommitted rows (a run writes after it has read; a
        test that built its book in the same transaction reads on its own connection).
        """
        connection = connections[alias]
        if (
            connection.vendor != "postgresql"
            or not connection.in_atomic_block
            or any(connection.savepoint_ids)  # no snapshot export from a subtransaction
        ):
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT txid_current_if_assigned() IS NULL")
            if not cursor.fetchone()[0]:
                return
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        pool = ThreadPoolExecutor(READ_CONNECTIONS, thread_name_prefix="book-read")
        for name, read in self.readers.items():
            if name not in self._frames:
                self._frames[name] = pool.submit(_in_snapshot, read, snapshot, alias)
        pool.shutdown(wait=False)  # the queued reads still run; the threads end with them


def _in_snapshot(read: Callable[[], pl.DataFrame], snapshot: str, alias: str) -> pl.DataFrame:
    """Run ``read`` on this thread's own connection in the exported ``snapshot``."""
    connection = connections[alias]
    try:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            cursor.execute(f"SET LOCAL work_mem = '{READ_WORK_MEM}'")
            # The reads are plain scans and aggregates: compiling them (JIT with inlining and
            # optimisation, which their cost estimates trigger) took 1.8 s of the 4.9 s of the
            # instalment aggregate at 1M; the eight reads 19.4 s without, 21.0 s with.
            cursor.execute("SET LOCAL jit = off")
            return read()
    finally:
        connection.close()
