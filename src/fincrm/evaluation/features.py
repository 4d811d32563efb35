"""DB → frame: everything the scoring needs about each client, read in bulk.

One aggregated query per source table (customers, facilities, instalments, payments,
applications, interactions, statements), whatever the number of clients; the per-client
arithmetic happens in polars. Queries are written with the ORM (portable between SQLite and
PostgreSQL) and executed on a raw cursor so no model instance is built per row.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from typing import Final, Literal

import polars as pl
from django.apps import apps
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Least, NullIf
from django.utils import timezone

from fincrm.analytics.policy import PolicyConfig, default_policy
from fincrm.analytics.ratios import STATEMENT_LINES, compute_ratios, latest_ratios
from fincrm.analytics.tiering import demand_signal, renewal_counts
from fincrm.customers.models import Customer, FinancialStatement
from fincrm.engagement.models import SUCCESSFUL_OUTCOMES, Interaction
from fincrm.financing.choices import FacilityStatus
from fincrm.financing.models import Application, Facility, Fee, Installment, Payment

#: SQLite allows 32,766 bound parameters; stay well below for ``IN (...)`` lists.
ID_CHUNK = 10_000
YEAR = timedelta(days=365)
PREDICTION_SCHEMA = {
    "customer_id": pl.Int64,
    "days_to_need": pl.Int64,
    "need_confidence": pl.String,
}


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


STATEMENT_SCHEMA = {
    "customer_id": pl.Int64,
    "period_end": pl.Date,
    **dict.fromkeys(STATEMENT_LINES, pl.Float64),
}
REPAYMENT_SCHEMA = {
    "customer_id": pl.Int64,
    "interest_income_12m": pl.Float64,
    "max_dpd_12m": pl.Int64,
    "known_max_dpd_12m": pl.Int64,
    "known_current_dpd": pl.Int64,
}


class DaysBetween(Func):
    """Whole days from ``start`` to ``end`` (two dates): ``end - start`` on PostgreSQL."""

    output_field = IntegerField()

    def __init__(self, end, start):
        super().__init__(end, start)

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ")

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
        )


def _scan_friendly(field: str, connection_alias: str = "default"):
    """``field`` for a range filter that covers a large share of its table.

    SQLite has no statistics on a fresh database and walks the index for any range, fetching
    rows one by one, three times slower than a scan when a year of four is asked for; the
    expression hides the index from SQLite only (PostgreSQL's planner chooses by itself).
    """
    if connections[connection_alias].vendor == "sqlite":
        return Coalesce(F(field), F(field))
    return F(field)


def statement_rows(qs: QuerySet) -> QuerySet:
    """``FinancialStatement`` rows in the columns of ``STATEMENT_SCHEMA``."""
    return qs.values_list("customer_id", "period_end", *STATEMENT_LINES)


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


def _read_repayment(as_of: date, ids) -> pl.DataFrame:
    """Per client, over the instalments due in the year up to and including ``as_of``:

    - ``interest_income_12m``: the interest share of what was paid on each instalment;
    - ``max_dpd_12m``: the most days any of them was (or still is) paid late;
    - ``known_max_dpd_12m``, ``known_current_dpd``: the same as known on ``as_of`` (a payment
      made later had not happened yet), over the instalments due before it, and the arrears
      of those still open then (the scorecard's point-in-time characteristics).

    Aggregated by the database: a million clients' year is 4.4M instalments, which cost more
    to send and parse than to sum where they are.
    """
    due, paid_on, day = F("due_date"), F("paid_off_on"), Value(as_of, output_field=DateField())
    owed = Cast(F("principal_due") + F("interest_due"), FloatField())
    share = Cast(F("amount_paid"), FloatField()) / NullIf(owed, Value(0.0))
    known_paid_on = Case(When(paid_off_on__lte=as_of, then=paid_on), default=day)
    before = Q(due_date__lt=as_of)
    still_open = before & (Q(paid_off_on__isnull=True) | Q(paid_off_on__gt=as_of))
    qs = (
        Installment.objects.order_by()
        .alias(due_scan=_scan_friendly("due_date"))
        .filter(due_scan__gt=as_of - YEAR, due_scan__lte=as_of)
        .values("facility__customer_id")
        .annotate(
            interest=Sum(
                Cast(F("interest_due"), FloatField())
                * Greatest(Least(share, Value(1.0)), Value(0.0))
            ),
            late=Max(Greatest(DaysBetween(Coalesce(paid_on, day), due), Value(0))),
            known_late=Max(Greatest(DaysBetween(known_paid_on, due), Value(0)), filter=before),
            known_dpd=Max(DaysBetween(day, due), filter=still_open),
        )
        .values_list("facility__customer_id", "interest", "late", "known_late", "known_dpd")
    )
    return fetch_for(qs, "facility__customer_id", ids, REPAYMENT_SCHEMA)


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in the local time zone: ranges on stored datetimes by local date."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _days_since(column: str, as_of: date) -> pl.Expr:
    return (pl.lit(as_of) - pl.col(column)).dt.total_days()


def _read_customers(ids) -> pl.DataFrame:
    return fetch_for(
        Customer.objects.order_by("pk").values_list(
            "pk",
            "kind",
            "client_type",
            "needs_level",
            "risk_appetite",
            "city_tier",
            "industry",
            "annual_revenue",
            "founded_on",
            "birthday",
            "owner_id",
        ),
        "pk",
        ids,
        {
            "customer_id": pl.Int64,
            "kind": pl.String,
            "client_type": pl.String,
            "needs_level": pl.String,
            "risk_appetite": pl.String,
            "city_tier": pl.String,
            "industry": pl.String,
            "annual_revenue": pl.Float64,
            "founded_on": pl.Date,
            "birthday": pl.Date,
            "owner_id": pl.Int64,
        },
    )


def _read_facility_totals(ids) -> pl.DataFrame:
    live = Q(status=FacilityStatus.ACTIVE)
    return fetch_for(
        Facility.objects.order_by()
        .values("customer_id")
        .annotate(
            approved_limit=Sum("approved_limit", filter=live),
            balance=Sum("drawn_amount", filter=live),
            facility_count=Count("pk"),
            product_count=Count("product__product_type", distinct=True),
            first_start=Min("start_date"),
            last_start=Max("start_date"),
            current_dpd=Max("days_past_due", filter=live),
        )
        .values_list(
            "customer_id",
            "approved_limit",
            "balance",
            "facility_count",
            "product_count",
            "first_start",
            "last_start",
            "current_dpd",
        ),
        "customer_id",
        ids,
        {
            "customer_id": pl.Int64,
            "approved_limit": pl.Float64,
            "balance": pl.Float64,
            "facility_count": pl.Int64,
            "product_count": pl.Int64,
            "first_start": pl.Date,
            "last_start": pl.Date,
            "current_dpd": pl.Int64,
        },
    )


def _read_facility_rows(as_of: date, ids) -> pl.DataFrame:
    """Facilities started by ``as_of``, one row each (the credit features' exposure)."""
    return fetch_for(
        Facility.objects.order_by()
        .filter(start_date__lte=as_of)
        .values_list(
            "customer_id", "approved_limit", "drawn_amount", "start_date", "maturity_date"
        ),
        "customer_id",
        ids,
        {
            "customer_id": pl.Int64,
            "approved_limit": pl.Float64,
            "drawn_amount": pl.Float64,
            "start_date": pl.Date,
            "maturity_date": pl.Date,
        },
    )


def _read_last_payments(ids) -> pl.DataFrame:
    return fetch_for(
        Payment.objects.order_by()
        .values("facility__customer_id")
        .annotate(last_paid=Max("paid_on"))
        .values_list("facility__customer_id", "last_paid"),
        "facility__customer_id",
        ids,
        {"customer_id": pl.Int64, "last_paid": pl.Date},
    )


def _read_fees(as_of: date, ids) -> pl.DataFrame:
    """Fee income of the year up to ``as_of`` per client: arrangement and service fees and
    penalty interest as recorded (``financing.Fee``; a reversal books its fee back)."""
    return fetch_for(
        Fee.objects.order_by()
        .filter(charged_on__gt=as_of - YEAR, charged_on__lte=as_of)
        .values("facility__customer_id")
        .annotate(fees=Sum(Cast("amount", FloatField())))
        .values_list("facility__customer_id", "fees"),
        "facility__customer_id",
        ids,
        {"customer_id": pl.Int64, "fee_income_12m": pl.Float64},
    )


def _read_last_applications(ids) -> pl.DataFrame:
    return fetch_for(
        Application.objects.order_by()
        .values("customer_id")
        .annotate(last_application=Max("created_at"))
        .values_list("customer_id", "last_application"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64, "last_application": LOCAL_DATE},
    )


def _read_interactions(as_of: date, ids) -> pl.DataFrame:
    # Local date after a year ago, as a range on the stored datetime (no per-row date cast).
    recent = Q(occurred_at__gte=local_midnight(as_of - YEAR + timedelta(days=1)))
    reached = Q(outcome__in=SUCCESSFUL_OUTCOMES)
    return fetch_for(
        Interaction.objects.order_by()
        .values("customer_id")
        .annotate(
            interactions_12m=Count("pk", filter=recent),
            successful_interactions_12m=Count("pk", filter=recent & reached),
            last_successful=Max("occurred_at", filter=reached),
        )
        .values_list(
            "customer_id", "interactions_12m", "successful_interactions_12m", "last_successful"
        ),
        "customer_id",
        ids,
        {
            "customer_id": pl.Int64,
            "interactions_12m": pl.Int64,
            "successful_interactions_12m": pl.Int64,
            "last_successful": LOCAL_DATE,
        },
    )


def _read_predictions(as_of: date, ids) -> pl.DataFrame:
    """customer_id, days_to_need, need_confidence: the latest prediction run's next financing
    need of each client it scored (``fincrm predict``; insights sits above the evaluation,
    so its table is looked up by name, not imported). No row: no prediction yet."""
    if not apps.is_installed("fincrm.insights"):
        return pl.DataFrame(schema=PREDICTION_SCHEMA)
    prediction = apps.get_model("insights", "Prediction")
    rows = fetch_for(
        prediction.objects.order_by().values_list("customer_id", "next_need_on", "need_confidence"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64, "next_need_on": pl.Date, "need_confidence": pl.String},
    )
    return rows.select(
        "customer_id",
        days_to_need=(pl.col("next_need_on") - pl.lit(as_of)).dt.total_days(),
        need_confidence="need_confidence",
    )


def _read_satisfaction(as_of: date, ids) -> pl.DataFrame:
    """customer_id, last_nps (the 0–10 answer of the client's latest survey with one) and
    satisfaction (0–10: the latest survey's NPS answer, else its overall 1–5 rating rescaled,
    ``(rating − 1) / 4 · 10``), by ``as_of``."""
    from fincrm.analytics.surveys import CSAT_SCALE
    from fincrm.surveys.models import Response

    rows = fetch_for(
        Response.objects.order_by()
        .filter(Q(nps_score__isnull=False) | Q(rating__isnull=False))
        .filter(submitted_at__lt=local_midnight(as_of + timedelta(days=1)))
        .values_list("customer_id", "submitted_at", "nps_score", "rating"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64, "submitted_at": pl.Datetime("us", "UTC"),
         "nps": pl.Float64, "rating": pl.Float64},
    )  # fmt: skip
    scaled = (pl.col("rating").clip(1, CSAT_SCALE) - 1) / (CSAT_SCALE - 1) * 10
    return (
        rows.sort("submitted_at")
        .group_by("customer_id")
        .agg(
            last_nps=pl.col("nps").drop_nulls().last(),
            satisfaction=pl.coalesce("nps", scaled).last(),
        )
    )


def _read_event_attendance(as_of: date, ids) -> pl.DataFrame:
    """customer_id, event_attendance: of the events the client was invited to that started in
    the 12 months up to ``as_of``, the share it was checked in at. No row: never invited."""
    from fincrm.events.models import Invitee

    window = Q(event__starts_at__gte=local_midnight(as_of - YEAR + timedelta(days=1))) & Q(
        event__starts_at__lt=local_midnight(as_of + timedelta(days=1))
    )
    rows = fetch_for(
        Invitee.objects.order_by()
        .filter(window)
        .values("customer_id")
        .annotate(invited=Count("pk"), attended=Count("pk", filter=Q(checked_in_at__isnull=False)))
        .values_list("customer_id", "invited", "attended"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64, "invited": pl.Int64, "attended": pl.Int64},
    )
    return rows.select(
        "customer_id", event_attendance=pl.col("attended") / pl.col("invited").cast(pl.Float64)
    )


def _read_legal_disputes(as_of: date, ids) -> pl.DataFrame:
    """customer_id, open_legal_disputes: legal findings (checks.choices.LEGAL) open on
    ``as_of`` of every client with a completed external check by then (0 when none was
    found). No row: never checked, so unknown."""
    from fincrm.checks.selectors import legal_dispute_counts

    checked_qs, open_qs = legal_dispute_counts(as_of)
    checked = fetch_for(checked_qs, "customer_id", ids, {"customer_id": pl.Int64})
    counts = fetch_for(open_qs, "customer_id", ids, {"customer_id": pl.Int64, "n": pl.Int64})
    return (
        checked.unique()
        .join(counts, on="customer_id", how="left")
        .select("customer_id", open_legal_disputes=pl.col("n").fill_null(0).cast(pl.Float64))
    )


def load_features(
    *,
    as_of: date,
    customer_ids: Sequence[int] | None = None,
    reads: BookReads | None = None,
    policy: PolicyConfig | None = None,
) -> pl.DataFrame:
    """One row per client with the input columns of ``fincrm.analytics.tiering``.

    Parameters
    ----------
    as_of : date
        The evaluation date; windows ("last 12 months") end on it.
    customer_ids : sequence of int, optional
        Restrict to these clients (incremental and single-client runs); None = all.
    policy : PolicyConfig, optional
        The renewal window and demand horizon (default: the shipped policy's).
    """
    reads = reads or BookReads(as_of=as_of, customer_ids=customer_ids)
    customers = reads.get("customers")
    facilities = reads.get("facilities")
    repayment = reads.repayment.select("customer_id", "interest_income_12m", "max_dpd_12m")
    payments = reads.get("payments")
    fees = reads.get("fees")
    applications = reads.get("applications")
    interactions = reads.get("interactions")
    ratios = latest_statement_ratios(reads.statements)
    policy = policy or default_policy()
    renewals = renewal_counts(
        reads.get("facility_rows"),
        before_days=policy.loyalty.renewal_before_days,
        after_days=policy.loyalty.renewal_after_days,
    )
    liabilities = (
        reads.statements.filter(pl.col("period_end") <= as_of)
        .sort("period_end")
        .group_by("customer_id")
        .agg(total_liabilities=pl.col("total_liabilities").last())
    )

    frame = (
        customers.join(facilities, on="customer_id", how="left")
        .join(repayment, on="customer_id", how="left")
        .join(payments, on="customer_id", how="left")
        .join(fees, on="customer_id", how="left")
        .join(applications, on="customer_id", how="left")
        .join(interactions, on="customer_id", how="left")
        .join(ratios, on="customer_id", how="left")
        .join(renewals, on="customer_id", how="left")
        .join(liabilities, on="customer_id", how="left")
        .join(
            reads.get("predictions").with_columns(predicted=pl.lit(True)),
            on="customer_id",
            how="left",
        )
        .join(reads.get("satisfaction"), on="customer_id", how="left")
        .join(reads.get("events"), on="customer_id", how="left")
        .join(reads.get("legal"), on="customer_id", how="left")
    )
    from .knowledge_reads import read_knowledge_reads, with_knowledge_reads  # issue 24.8

    reads.add("knowledge", lambda: read_knowledge_reads(as_of, reads.ids))
    frame = with_knowledge_reads(frame, reads.get("knowledge"))
    from .referrals import read_referrals, with_referrals  # (its own module: issue 21.5)

    reads.add("referrals", lambda: read_referrals(as_of, reads.ids))
    frame = with_referrals(frame, reads.get("referrals"))
    last_transaction = pl.max_horizontal("last_paid", "last_start")
    return frame.with_columns(
        tenure_days=_days_since("first_start", as_of).fill_null(0).clip(0),
        interest_income_12m=pl.col("interest_income_12m").fill_null(0.0),
        fee_income_12m=pl.col("fee_income_12m").fill_null(0.0),
        balance=pl.col("balance").fill_null(0.0),
        approved_limit=pl.col("approved_limit").fill_null(0.0),
        revenue=pl.coalesce("statement_revenue", "annual_revenue"),
        # The latest prediction run's next need (null: the client was never predicted).
        predicted_demand=pl.when(pl.col("predicted")).then(
            demand_signal(
                pl.col("days_to_need"),
                pl.col("need_confidence"),
                horizon_days=policy.potential.demand_horizon_days,
            )
        ),
        renewals=pl.col("renewals").fill_null(0),
        product_count=pl.col("product_count").fill_null(0),
        # Our exposure over the client's borrowing everywhere (latest statement's
        # liabilities); unknown without one.
        share_of_wallet=pl.when(pl.col("total_liabilities") > 0).then(
            (pl.col("balance").fill_null(0.0) / pl.col("total_liabilities")).clip(0, 1)
        ),
        last_nps=pl.col("last_nps"),
        satisfaction=pl.col("satisfaction"),
        interactions_12m=pl.col("interactions_12m").fill_null(0),
        successful_interactions_12m=pl.col("successful_interactions_12m").fill_null(0),
        max_dpd_12m=pl.max_horizontal(
            pl.col("max_dpd_12m").fill_null(0), pl.col("current_dpd").fill_null(0)
        ),
        current_dpd=pl.col("current_dpd").fill_null(0),
        open_warnings=pl.lit(0, dtype=pl.Int64),
        credit_grade=pl.lit(None, dtype=pl.String),
        days_since_last_application=_days_since("last_application", as_of),
        days_since_last_transaction=(pl.lit(as_of) - last_transaction).dt.total_days(),
        days_since_successful_contact=_days_since("last_successful", as_of),
        has_facility=pl.col("facility_count").fill_null(0) > 0,
        company_age_years=_days_since("founded_on", as_of) / 365.25,
        age_years=_days_since("birthday", as_of) / 365.25,
    )


def latest_statement_ratios(statements: pl.DataFrame) -> pl.DataFrame:
    """Latest revenue, growth and balance-sheet ratios per client (analytics.ratios)."""
    schema = {
        "customer_id": pl.Int64,
        "statement_revenue": pl.Float64,
        "revenue_growth": pl.Float64,
        "debt_to_asset": pl.Float64,
        "current_ratio": pl.Float64,
    }
    if statements.is_empty():
        return pl.DataFrame(schema=schema)
    ratios = latest_ratios(compute_ratios(statements))
    revenue = (
        statements.sort("period_end")
        .group_by("customer_id")
        .agg(statement_revenue=pl.col("revenue").last())
    )
    return (
        ratios.select("customer_id", "revenue_growth", "debt_to_asset", "current_ratio")
        .join(revenue, on="customer_id", how="left")
        .select(list(schema))
    )


def changed_customer_ids(*, since: datetime) -> list[int]:
    """Clients whose own data or whose financing, payments or contacts changed since a time."""
    sources: Iterable[QuerySet] = (
        Customer.objects.filter(updated_at__gte=since).values_list("pk", flat=True),
        Application.objects.filter(stage_changed_at__gte=since).values_list(
            "customer_id", flat=True
        ),
        Payment.objects.filter(recorded_at__gte=since).values_list(
            "facility__customer_id", flat=True
        ),
        Interaction.objects.filter(occurred_at__gte=since).values_list("customer_id", flat=True),
        FinancialStatement.objects.filter(updated_at__gte=since).values_list(
            "customer_id", flat=True
        ),
        Facility.objects.filter(updated_at__gte=since).values_list("customer_id", flat=True),
    )
    changed: set[int] = set()
    for qs in sources:
        changed.update(qs.order_by().distinct())
    return sorted(changed)
