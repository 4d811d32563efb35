"""Writing checked rows to the book: new clients in bulk with their audit history, existing
ones updated with the non-empty cells of their row, and the checks only the database can make
(a client that exists and is not the user's, an owner the user may not assign, a value a new
client requires).

Why not ``services.customer_create`` per row: one query, one ``full_clean`` and one save per
row cannot reach the import target (1M clients in under a minute). A batch is settled with one
query for its existing clients and one for its owners; clean new rows are inserted from the
frame without a model instance each (:func:`bulk_insert_customers`), the rest go through
per-row objects. The caller holds the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import datetime

import polars as pl
from django.db import DatabaseError, connections, router
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from fincrm.accounts.choices import Role
from fincrm.accounts.models import User
from fincrm.core import initials as name_initials
from fincrm.core.bulk import insert_frame, update_with_history

from .. import search_index
from ..choices import CustomerKind
from ..geo import city_tier
from ..models import Customer
from .checks import Checker, Row
from .errors import (
    MSG_BATCH_REFUSED,
    MSG_NOT_YOURS,
    MSG_OWNER_NOT_ALLOWED,
    MSG_REQUIRED,
    MSG_UNKNOWN_OWNER,
    ImportResult,
    RowError,
)
from .fields import REQUIRED_FOR_NEW

#: Roles a client may be assigned to (the client form offers the same).
OWNER_ROLES = frozenset({Role.ACCOUNT_MANAGER, Role.TEAM_LEAD})
DEFAULTS = {
    name: Customer._meta.get_field(name).get_default()
    for name in ("needs_level", "risk_appetite", "source_channel")
}


def existing_codes(column: str, keys: list[str]) -> list[str]:
    """Which of ``keys`` (credit codes or ID numbers) a client in the book already has: one
    query whatever their number (an array on PostgreSQL, a JSON list on SQLite)."""
    if not keys:
        return []
    connection = connections[router.db_for_read(Customer)]
    table = connection.ops.quote_name(Customer._meta.db_table)
    quoted = connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT {quoted} FROM {table} WHERE {quoted} = ANY(%s)", [keys])
        else:
            cursor.execute(
                f"SELECT {quoted} FROM {table} WHERE {quoted} IN (SELECT value FROM json_each(%s))",
                [json.dumps(keys)],
            )
        return [key for (key,) in cursor.fetchall()]


#: The identifier column of each kind of client.
KEY_COLUMNS = ((CustomerKind.COMPANY, "credit_code"), (CustomerKind.PERSON, "id_number"))


def book_keys() -> dict[str, pl.Series]:
    """Every credit code and ID number in the book, per column (a bulk load's book is small
    against its file, and locked while it runs)."""
    connection = connections[router.db_for_write(Customer)]
    table = connection.ops.quote_name(Customer._meta.db_table)
    keys = {}
    with connection.cursor() as cursor:
        for _kind, column in KEY_COLUMNS:
            quoted = connection.ops.quote_name(column)
            cursor.execute(f"SELECT {quoted} FROM {table} WHERE {quoted} IS NOT NULL")
            keys[column] = pl.Series(column, [key for (key,) in cursor.fetchall()], pl.String)
    return keys


#: Tables whose secondary indexes and foreign keys a bulk load rebuilds after the rows.
BULK_LOAD_TABLES = ("customers_customer", "customers_historicalcustomer")
#: A bulk load pays from this many rows in the file, when the book (and its history) holds
#: at most a tenth as many rows: rebuilding an index costs about as much as maintaining it
#: for a tenth of its rows. Below, rows are written into the live indexes, and the table
#: stays readable while the import runs.
BULK_LOAD_MIN_ROWS = 100_000


def bulk_load_pays(rows: int) -> bool:
    """Whether an import of ``rows`` rows should rebuild the indexes (PostgreSQL only)."""
    connection = connections[router.db_for_write(Customer)]
    if connection.vendor != "postgresql" or rows < BULK_LOAD_MIN_ROWS:
        return False
    limit = rows // 10 + 1
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in BULK_LOAD_TABLES:
            # A bounded count: the planner's estimate lags behind a large delete.
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {quote(table)} LIMIT %s) t", [limit]
            )
            if cursor.fetchone()[0] >= limit:
                return False
    return True


def bulk_insert_customers(
    frame: pl.DataFrame, *, now: datetime, user_id, reason: str, locked: bool = False
) -> None:
    """Insert new clients (a frame of Customer columns without id and timestamps; money as
    text) and one "+" history row each, without a model instance per row: ids are drawn from
    the table's sequence first, then both tables are written by ``core.bulk.insert_frame``
    (COPY on PostgreSQL, multi-row INSERTs on SQLite), in the caller's transaction.

    ``locked``: the caller holds the client table exclusively (a bulk load), so no one else
    can draw from its sequence meanwhile: the ids are reserved as one range instead of one
    ``nextval`` each."""
    connection = connections[router.db_for_write(Customer)]
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and locked:
            cursor.execute(
                "SELECT setval(seq, nextval(seq) + %s - 1) FROM "
                "(SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq) s",
                [frame.height, table],
            )
            last = cursor.fetchone()[0]
            ids = list(range(last - frame.height + 1, last + 1))
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, frame.height],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
        else:
            cursor.execute(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
                f"COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 0))",
                [table],
            )
            start = cursor.fetchone()[0] + 1
            ids = list(range(start, start + frame.height))
    frame = frame.with_columns(pl.Series("id", ids, dtype=pl.Int64))
    # SQLite's search index: the batch indexed in one statement, not by a trigger per row.
    with search_index.indexed_after(connection, ids[0], ids[-1]) if ids else nullcontext():
        insert_frame(Customer, frame, constants={"created_at": now, "updated_at": now})
    name_initials.refresh_later(ids)  # the search's pinyin initials, queued
    audit = {
        "created_at": now,
        "history_date": now,
        "history_change_reason": reason,
        "history_type": "+",
        "history_user_id": user_id,
    }
    insert_frame(Customer.history.model, frame, constants=audit)


class Writer:
    """Settles the checked batches of one import as ``user``: their rights (own clients, the
    teams a lead leads, everything for an admin), the owners named in the file (read once
    each) and the counts and errors of ``result``."""

    def __init__(self, *, user, result: ImportResult, checker: Checker, reason: str) -> None:
        self.user = user
        self.result = result
        self.checker = checker
        self.reason = reason
        self.owners: dict[str, tuple[int, int | None] | None] = {}  # username → (pk, team)
        self.is_admin = user.is_superuser or user.role == Role.ADMIN
        self.lead_teams = user.visible_team_ids()
        self.default_owner = (
            (user.pk, user.team_id) if user.role in OWNER_ROLES and not self.is_admin else None
        )
        #: A bulk load's codes already in the book, read once (the table is locked).
        self.book_keys: dict[str, pl.Series] | None = None
        self.bulk_load = False

    def settle_batch(self, frame: pl.DataFrame, *, write: bool) -> None:
        """New clients whose rows are clean go in bulk; every other row (an error so far, an
        existing client to update, an owner to refuse, a required value missing) through
        :meth:`_settle`, which reports or updates it."""
        errors = [f"err_{name}" for _index, name in self.checker.columns]
        errors += ["_id_field", "_duplicate", "_geography"]
        known = self._existing_keys(frame)
        self._load_owner_names(frame["owner"].drop_nulls().unique().to_list())
        allowed = {
            name: owner is not None and self._may_assign(*owner)
            for name, owner in self.owners.items()
        }
        owner_ok = pl.col("owner").is_null() | pl.col("owner").replace_strict(
            allowed, default=False, return_dtype=pl.Boolean
        )
        clean = (
            pl.all_horizontal(pl.col(c).is_null() for c in errors)
            & pl.all_horizontal(pl.col(name).is_not_null() for name in REQUIRED_FOR_NEW)
            & owner_ok
            & pl.col("_exists").is_null()
        )
        frame = frame.join(known, on=["_kind", "_key"], how="left", nulls_equal=False)
        frame = frame.with_columns(clean.alias("_clean")).sort("_i")
        new = frame.filter("_clean")
        rest = frame.filter(~pl.col("_clean"))
        if rest.height:
            self._settle(self.checker.rows(rest), write=write)
        if new.height and write:
            self._insert_new(new)
        self.result.created += new.height

    def _existing_keys(self, frame: pl.DataFrame) -> pl.DataFrame:
        """(kind, key) of the batch's rows that match a client already in the book."""
        found: list[dict] = []
        for kind, column in KEY_COLUMNS:
            keys = frame.filter(pl.col("_kind") == kind)["_key"].drop_nulls()
            if self.book_keys is not None:
                matched = keys.filter(keys.is_in(self.book_keys[column].implode())).to_list()
            else:
                matched = existing_codes(column, keys.to_list())
            found.extend({"_kind": kind.value, "_key": key} for key in matched)
        schema = {"_kind": pl.String, "_key": pl.String}
        return pl.DataFrame(found, schema=schema).with_columns(_exists=pl.lit(True))

    def _load_owner_names(self, names: list[str]) -> None:
        wanted = set(names) - self.owners.keys()
        if not wanted:
            return
        self.owners.update(dict.fromkeys(wanted))
        found = User.objects.filter(
            username__in=wanted, is_active=True, role__in=OWNER_ROLES
        ).values_list("username", "pk", "team_id")
        for username, pk, team_id in found:
            self.owners[username] = (pk, team_id)

    def _insert_new(self, new: pl.DataFrame) -> None:
        """Write new clients and their audit history ("+", the user, the file) in bulk: COPY
        on PostgreSQL, one multi-row statement per slice on SQLite."""
        now = timezone.now()
        default_pk, default_team = self.default_owner or (None, None)
        owners = {name: owner for name, owner in self.owners.items() if owner is not None}
        tiers = {city: city_tier(city) for city in new["city"].unique().to_list()}
        frame = new.select(
            pl.col("_kind").alias("kind"),
            "name",
            pl.when(pl.col("_kind") == CustomerKind.COMPANY)
            .then("credit_code")
            .alias("credit_code"),
            pl.when(pl.col("_kind") == CustomerKind.PERSON).then("id_number").alias("id_number"),
            pl.col("phone").fill_null(""),
            pl.col("email").fill_null(""),
            "industry",
            "province",
            "city",
            pl.coalesce("city_tier", pl.col("city").replace_strict(tiers, default=None)).alias(
                "city_tier"
            ),
            pl.col("address").fill_null(""),
            "registered_capital",
            "annual_revenue",
            "employee_count",
            "client_type",
            pl.col("needs_level").fill_null(DEFAULTS["needs_level"]),
            pl.col("risk_appetite").fill_null(DEFAULTS["risk_appetite"]),
            pl.col("source_channel").fill_null(DEFAULTS["source_channel"]),
            pl.col("owner")
            .replace_strict(
                {k: v[0] for k, v in owners.items()}, default=None, return_dtype=pl.Int64
            )
            .fill_null(pl.lit(default_pk, pl.Int64))
            .alias("owner_id"),
            pl.when(pl.col("owner").is_null())
            .then(pl.lit(default_team, pl.Int64))
            .otherwise(
                pl.col("owner").replace_strict(
                    {k: v[1] for k, v in owners.items()}, default=None, return_dtype=pl.Int64
                )
            )
            .alias("team_id"),
            "birthday",
            "founded_on",
        )
        bulk_insert_customers(
            frame, now=now, user_id=self.user.pk, reason=self.reason, locked=self.bulk_load
        )

    # -- a batch against the database --
    def _settle(self, rows: list[Row], *, write: bool) -> None:
        existing = self._existing(rows)
        changeable = self._changeable(existing.values())
        self._load_owners(rows)
        now = timezone.now()
        new: list[Customer] = []
        changed: list[Customer] = []
        changed_fields: set[str] = set()
        unchanged = 0
        for row in rows:
            current = existing.get((row.kind, row.key)) if row.key else None
            if current is not None and current.pk not in changeable:
                row.errors.append((row.key_field, str(MSG_NOT_YOURS)))
                continue
            owner = self._owner(row, is_new=current is None)
            if row.key is not None and current is None:
                failed = {name for name, _message in row.errors}
                row.errors.extend(
                    (name, str(MSG_REQUIRED))
                    for name in REQUIRED_FOR_NEW
                    if name not in row.values and name not in failed
                )
            if row.errors:
                continue
            if current is None:
                new.append(self._build(row, owner))
                continue
            fields = self._apply(current, row, owner)
            if fields:
                current.updated_at = now
                changed.append(current)
                changed_fields |= fields
            else:
                unchanged += 1
        if write and new:
            bulk_create_with_history(
                new, Customer, default_user=self.user, default_change_reason=self.reason
            )
        if write and changed:
            update_with_history(
                changed,
                Customer,
                sorted(changed_fields | {"updated_at"}),
                default_user=self.user,
                default_change_reason=self.reason,
            )
        if write and (new or "name" in changed_fields):  # the search's pinyin initials, queued
            renamed = changed if "name" in changed_fields else []
            name_initials.refresh_later(c.pk for c in [*new, *renamed])
        self.result.created += len(new)
        self.result.updated += len(changed)
        self.result.unchanged += unchanged
        for row in rows:
            if row.errors:
                self._report(row)

    def _existing(self, rows: list[Row]) -> dict[tuple[str, str], Customer]:
        found: dict[tuple[str, str], Customer] = {}
        for kind, key_field in KEY_COLUMNS:
            keys = [r.key for r in rows if r.kind == kind and r.key]
            if keys:
                for customer in Customer.objects.filter(**{f"{key_field}__in": keys}):
                    found[(kind, getattr(customer, key_field))] = customer
        return found

    def _changeable(self, customers: Iterable[Customer]) -> set[int]:
        pks = [c.pk for c in customers]
        if not pks or self.is_admin:
            return set(pks)
        restricted = Customer.objects.restrict(self.user, "change").filter(pk__in=pks)
        return set(restricted.values_list("pk", flat=True))

    def _load_owners(self, rows: list[Row]) -> None:
        self._load_owner_names([r.values["owner"] for r in rows if "owner" in r.values])

    def _owner(self, row: Row, *, is_new: bool) -> tuple[int, int | None] | None:
        """(owner pk, team pk) to set, ``None`` to leave as is; a refusal is a row error."""
        username = row.values.get("owner")
        if username is None:
            return self.default_owner if is_new else None
        owner = self.owners.get(username)
        if owner is None:
            row.errors.append(("owner", str(MSG_UNKNOWN_OWNER)))
        elif not self._may_assign(*owner):
            row.errors.append(("owner", str(MSG_OWNER_NOT_ALLOWED)))
        return owner

    def _may_assign(self, owner_pk: int, team_id: int | None) -> bool:
        if self.is_admin or owner_pk == self.user.pk:
            return True
        return self.user.role == Role.TEAM_LEAD and team_id in self.lead_teams

    def _build(self, row: Row, owner: tuple[int, int | None] | None) -> Customer:
        values = dict(row.values)
        values.pop("owner", None)
        values["kind"] = row.kind
        values.setdefault("city_tier", city_tier(values.get("city", "")))
        if owner is not None:
            values["owner_id"], values["team_id"] = owner
        return Customer(**values)

    @staticmethod
    def _apply(customer: Customer, row: Row, owner: tuple[int, int | None] | None) -> set[str]:
        """Set the row's values on an existing client; the names of the fields that changed."""
        values = {k: v for k, v in row.values.items() if k not in ("owner", "kind")}
        if "city" in values and "city_tier" not in values:
            values["city_tier"] = city_tier(values["city"])
        if owner is not None:
            values["owner_id"], values["team_id"] = owner
        changed = set()
        for attname, value in values.items():
            if getattr(customer, attname) != value:
                setattr(customer, attname, value)
                changed.add(attname.removesuffix("_id"))
        return changed

    def _report(self, row: Row) -> None:
        self.result.bad_rows += 1
        self.result.errors.extend(
            RowError(row.number, name, message, row.raw.get(name, ""))
            for name, message in row.errors
        )

    def refuse_batch(self, rows: list[Row], exc: DatabaseError) -> None:
        """The database refused a batch (say a race on a unique code): none of it was written."""
        message = str(MSG_BATCH_REFUSED % {"error": str(exc)[:120]})
        for row in rows:
            if not row.errors:
                row.errors.append(("", message))
            self._report(row)
