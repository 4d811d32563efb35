"""DB → frame: everything the scoring needs about each client, read in bulk.

One aggregated query per source table (customers, facilities, instalments, payments,
applications, interactions, statements), whatever the number of clients; the per-client
arithmetic happens in polars. Queries are written with the ORM (portable between SQLite and
PostgreSQL) and executed on a raw cursor so no model instance is built per row.

One module per layer: :mod:`.frames` (a queryset as a typed frame), :mod:`.reads` (one read
per source table), :mod:`.book` (a run's reads, each once, prefetched in parallel) and
:mod:`.load` (the feature frame built from them). Every name is importable from here.
"""

from fincrm.core.frames import (
    FETCH_CHUNK,
    ID_CHUNK,
    LOCAL_DATE,
    ColumnType,
    client_ids,
    fetch,
    fetch_for,
)
from fincrm.customers.frames import STATEMENT_SCHEMA, statement_rows

from .book import READ_CONNECTIONS, READ_WORK_MEM, BookReads
from .load import changed_customer_ids, latest_statement_ratios, load_features
from .reads import (
    PREDICTION_SCHEMA,
    REPAYMENT_SCHEMA,
    YEAR,
    DaysBetween,
    _read_repayment,
    local_midnight,
)

__all__ = [
    "FETCH_CHUNK",
    "ID_CHUNK",
    "LOCAL_DATE",
    "PREDICTION_SCHEMA",
    "READ_CONNECTIONS",
    "READ_WORK_MEM",
    "REPAYMENT_SCHEMA",
    "STATEMENT_SCHEMA",
    "YEAR",
    "BookReads",
    "ColumnType",
    "DaysBetween",
    "_read_repayment",
    "changed_customer_ids",
    "client_ids",
    "fetch",
    "fetch_for",
    "latest_statement_ratios",
    "load_features",
    "local_midnight",
    "statement_rows",
]
