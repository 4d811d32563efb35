"""Pinyin initials of client names (issue 19, point 4): "zgjs" finds 中国建设银行… in the
search box. ``pypinyin`` reads each Chinese character (polyphones by its phrase dictionary:
重庆 is "cq", 长安 "ca"); letters and digits outside Chinese are kept as they are, lower case.

The initials live in ``core.NameInitials`` (one row per client), written when a client is
saved (a ``post_save`` receiver, connected by ``CoreConfig.ready``), for the importer's
batches by a queued task (:func:`refresh_later`) and for every client by ``fincrm
rebuild-initials``. A lookup is
a range on the indexed column (``initials >= q AND initials < q + U+FFFF``): a prefix match
both SQLite and PostgreSQL answer from a plain B-tree index.

No app is imported here: the client model is found by its label.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.db import transaction
from django_tasks import task

#: Initials kept per name (a name is at most 200 characters; nobody types more than this).
MAX_INITIALS = 100
#: A query of this many to ``MAX_INITIALS`` ASCII letters or digits is looked up as initials.
MIN_QUERY = 2
_BATCH = 2_000


def initials(name: str) -> str:
    """``name``'s pinyin initials: ``"中国建设银行 ABC 3号"`` → ``"zgjsyhabc3h"``."""
    from pypinyin import Style, lazy_pinyin

    parts = lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors="default")
    return "".join(ch for part in parts for ch in part.lower() if ch.isascii() and ch.isalnum())[
        :MAX_INITIALS
    ]


def is_initials_query(query: str) -> bool:
    """A query that may be initials: ASCII letters (and digits), no spaces."""
    return MIN_QUERY <= len(query) <= MAX_INITIALS and query.isascii() and query.isalnum()


def matching(query: str):
    """Ids of the clients whose initials start with ``query`` (a queryset of ids, to filter
    with ``pk__in``); nothing for a query that cannot be initials."""
    model = apps.get_model("core", "NameInitials")
    if not is_initials_query(query):
        return model.objects.none().values("customer_id")
    key = query.lower()
    return model.objects.filter(initials__gte=key, initials__lt=key + "\uffff").values(
        "customer_id"
    )


def write(pairs: Iterable[tuple[int, str]]) -> int:
    """Write the initials of (client id, name) pairs, new or replacing, in multi-row upserts
    (``core.bulk.insert_rows``); returns how many rows were written. The pairs are read
    before anything is sent (PostgreSQL's COPY holds the connection meanwhile)."""
    from .bulk import insert_rows

    model = apps.get_model("core", "NameInitials")
    rows = [(pk, initials(name)) for pk, name in pairs]
    if not rows:
        return 0
    return insert_rows(
        model, ["customer_id", "initials"], rows, conflict=["customer_id"], update=["initials"]
    )


def refresh(customer_ids: Iterable[int] | None = None, *, first: int | None = None,
            last: int | None = None) -> int:  # fmt: skip
    """Write the initials of the given clients (or of ids ``first`` to ``last``; all of them
    when neither is given), ``_BATCH`` clients at a time; returns how many were written."""
    customer = apps.get_model("customers", "Customer")
    rows = customer.objects.order_by("pk").values_list("pk", "name")
    if customer_ids is not None:
        rows = rows.filter(pk__in=list(customer_ids))
    if first is not None and last is not None:
        rows = rows.filter(pk__range=(first, last))
    written, after = 0, 0
    while batch := list(rows.filter(pk__gt=after)[:_BATCH]):
        with transaction.atomic():
            written += write(batch)
        after = batch[-1][0]
    return written


@task()
def refresh_range(first: int, last: int) -> int:
    """The initials of clients ``first`` to ``last``, off the request: the importer queues it
    for each batch it writes (pypinyin reads 7,000-20,000 names a second, too slow for an
    import's million rows a minute)."""
    return refresh(first=first, last=last)


def refresh_later(ids: Iterable[int]) -> None:
    """Queue :func:`refresh_range` over ``ids`` once the current transaction commits."""
    ids = list(ids)
    if ids:
        first, last = min(ids), max(ids)
        transaction.on_commit(lambda: refresh_range.enqueue(first, last))


def customer_saved(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """``post_save`` of a client: its initials written again when its name may have changed
    (a fixture load, ``raw``, is left to :func:`refresh`)."""
    if raw or (update_fields is not None and "name" not in update_fields):
        return
    model = apps.get_model("core", "NameInitials")
    value = initials(instance.name)
    if not model.objects.filter(customer_id=instance.pk).update(initials=value):
        model.objects.create(customer_id=instance.pk, initials=value)
