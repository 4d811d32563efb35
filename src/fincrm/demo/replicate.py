"""Grow a demo book by copying it: the way ``fincrm bench`` reaches a million clients.

The detailed generator writes about 200 clients a second (every schedule, payment and
interaction is drawn one by one); a million would take well over an hour. For scale
benchmarks the row counts and the shape of the data matter, not the uniqueness of every
story, so a book of ``n`` clients is copied ``copies − 1`` times with ``INSERT … SELECT``:
new ids (each table's ids shifted by a multiple of its largest id, foreign keys by their
parent's), unique identifiers re-prefixed, everything else as it was. Users, teams,
products and tags are shared. Nothing of the evaluation (runs, snapshots) is copied.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, models, transaction
from django.db.models import Max

from fincrm.customers.models import Contact, Customer, FinancialStatement
from fincrm.engagement.models import Interaction
from fincrm.financing.models import (
    Application,
    ApplicationDocument,
    ApplicationStageChange,
    Facility,
    Installment,
    Payment,
)

#: Parents before children: each copy's foreign keys point at the same copy's parents.
BOOK = (
    Customer,
    Customer.tags.through,
    Contact,
    FinancialStatement,
    Application,
    ApplicationStageChange,
    ApplicationDocument,
    Facility,
    Installment,
    Payment,
    Interaction,
)
#: Unique identifiers of a fixed width, and a position whose character is the same in every
#: generated one (a USCC's registration authority "9", the "1" of a resident ID's birth year
#: 19xx): the copy's letter replaces it, so copies never collide with each other or the
#: original. Hence at most 26 copies.
MARKED = {"credit_code": 1, "id_number": 7}
MAX_COPIES = 27
#: Unique free-width identifiers: the copy number is appended.
SUFFIXED = {"contract_number"}


def _select(model: type[models.Model], copy: int, spans: dict) -> tuple[list[str], list[str]]:
    quote = connection.ops.quote_name
    columns, exprs = [], []
    for field in model._meta.concrete_fields:
        column = quote(field.column)
        if field.primary_key:
            expr = f"{column} + {copy * spans[model]}"
        elif field.is_relation and field.related_model in spans:
            expr = f"{column} + {copy * spans[field.related_model]}"
        elif field.name in MARKED:
            at, letter = MARKED[field.name], chr(ord("A") + copy - 1)
            expr = f"SUBSTR({column}, 1, {at - 1}) || '{letter}' || SUBSTR({column}, {at + 1})"
        elif field.name in SUFFIXED:
            expr = f"{column} || '-{copy}'"
        else:
            expr = column
        columns.append(column)
        exprs.append(expr)
    return columns, exprs


def replicate_book(copies: int, progress: Callable[[str, int], None] | None = None) -> int:
    """Make the book ``copies`` times as large; returns the number of clients after.

    Must run on a book that was never replicated (ids 1…max of each table, no gaps needed).
    """
    if copies < 2:
        return Customer.objects.count()
    if copies > MAX_COPIES:
        raise ValueError(f"at most {MAX_COPIES} copies (one letter per copy)")
    progress = progress or (lambda table, done: None)
    spans = {m: m.objects.aggregate(n=Max("pk"))["n"] or 0 for m in BOOK}
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        for copy in range(1, copies):
            for model in BOOK:
                columns, exprs = _select(model, copy, spans)
                table = quote(model._meta.db_table)
                pk = quote(model._meta.pk.column)
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"SELECT {', '.join(exprs)} FROM {table} WHERE {pk} <= %s",
                    [spans[model]],
                )
                progress(model._meta.db_table, copy)
        if connection.vendor == "postgresql":  # ids were written explicitly: move sequences on
            for model in BOOK:
                table, pk = model._meta.db_table, model._meta.pk.column
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, %s), "
                    f"(SELECT MAX({quote(pk)}) FROM {quote(table)}))",
                    [table, pk],
                )
    return Customer.objects.count()
