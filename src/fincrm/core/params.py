"""Numbers a client sends in a query string, read so that a bad one is the client's error
(400), never the server's: a 23-digit id reaches SQLite's driver as an ``OverflowError``."""

from __future__ import annotations

from django.core.exceptions import BadRequest

#: Database ids are positive 64-bit integers.
MAX_ID = 2**63 - 1


def is_id(value) -> bool:
    """``value`` (text or int) is a number a database id can be."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            return False
        value = int(value)
    return isinstance(value, int) and 1 <= value <= MAX_ID


def query_id(query, name: str) -> int | None:
    """``?name=`` as a database id: ``None`` when absent or empty, ``BadRequest`` (400) when
    it is anything but a positive 64-bit integer."""
    raw = query.get(name, "").strip()
    if not raw:
        return None
    if not is_id(raw):
        raise BadRequest(f"{name}: not an id")
    return int(raw)
