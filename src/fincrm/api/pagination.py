"""Cursor (keyset) pagination with a choice of ordering: stable under inserts, constant cost
at any depth (no OFFSET), the cursor opaque to clients."""

import base64
import json
from typing import Any

from django.db.models import Q, QuerySet
from ninja import Field, Schema
from ninja.errors import HttpError
from ninja.pagination import PaginationBase


def _encode(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, default=str).encode()).decode()


def _decode(cursor: str) -> dict:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeError) as exc:
        raise HttpError(400, "cursor: not a cursor this API returned") from exc
    if not isinstance(data, dict) or "id" not in data or not isinstance(data["id"], int):
        raise HttpError(400, "cursor: not a cursor this API returned")
    return data


class KeysetPagination(PaginationBase):
    """``?ordering=<key>&limit=<n>&cursor=<next from the last page>``.

    ``orderings`` maps the accepted keys (``name``, ``-created_at``…) to non-null model
    fields; the primary key breaks ties, so every row appears exactly once.
    """

    class Input(Schema):
        cursor: str | None = Field(None, max_length=500)
        limit: int = Field(50, ge=1, le=200)
        ordering: str | None = Field(None, max_length=40)

    class Output(Schema):
        next: str | None = None
        results: list[Any]

    items_attribute = "results"

    def __init__(self, *, orderings: tuple[str, ...] = ("id",), default: str = "-id", **kwargs):
        self.orderings = set(orderings)
        self.default = default
        super().__init__(**kwargs)

    def paginate_queryset(self, queryset: QuerySet, pagination: Input, **params) -> dict:
        key = pagination.ordering or self.default
        if key.lstrip("-") not in self.orderings:
            allowed = ", ".join(sorted(self.orderings))
            raise HttpError(400, f"ordering: one of {allowed}, optionally with a leading '-'")
        field, desc = key.lstrip("-"), key.startswith("-")
        sign = "-" if desc else ""
        qs = queryset.order_by(f"{sign}{field}", f"{sign}pk")
        if pagination.cursor:
            position = _decode(pagination.cursor)
            if position.get("o") != key:
                raise HttpError(400, "cursor: it belongs to another ordering")
            after = "lt" if desc else "gt"
            if field == "id":
                qs = qs.filter(**{f"pk__{after}": position["id"]})
            else:
                value = position.get("v")
                qs = qs.filter(
                    Q(**{f"{field}__{after}": value})
                    | Q(**{field: value, f"pk__{after}": position["id"]})
                )
        rows = list(qs[: pagination.limit + 1])
        more = len(rows) > pagination.limit
        rows = rows[: pagination.limit]
        following = None
        if more:
            last = rows[-1]
            following = _encode({"o": key, "id": last.pk, "v": getattr(last, field)})
        return {"next": following, "results": rows}
