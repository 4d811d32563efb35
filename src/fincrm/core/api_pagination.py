"""Cursor (keyset) pagination with a choice of ordering: stable under inserts, constant cost
at any depth (no OFFSET), the cursor opaque to clients."""

import base64
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import IntegerField, Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.errors import HttpError
from ninja.pagination import PaginationBase

from fincrm.core.params import MAX_ID, is_id


def _encode(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, default=str).encode()).decode()


NOT_A_CURSOR = "cursor: not a cursor this API returned"


def _decode(cursor: str) -> dict:
    """The position a cursor names, checked: a JSON object whose ``id`` is a database id
    (``null``, ``1e308``, a 23-digit number or garbage is a 400, never a 500)."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()), parse_constant=_refuse)
    except (ValueError, UnicodeError, RecursionError) as exc:
        raise HttpError(400, NOT_A_CURSOR) from exc
    if (
        not isinstance(data, dict)
        or not is_id(data.get("id"))
        or not isinstance(data.get("o"), str)
    ):
        raise HttpError(400, NOT_A_CURSOR)
    return data


def _refuse(constant: str):
    """``NaN`` and ``Infinity`` are not JSON a cursor of ours contains."""
    raise ValueError(constant)


def _position_value(model, field: str, value):
    """The cursor's value of the ordering field, as this API wrote it (an integer within 64
    bits for an integer field, else text) and as the model field reads it: never ``null``,
    a float or text of the wrong shape."""
    model_field = model._meta.get_field(field)
    if isinstance(model_field, IntegerField):
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_ID:
            raise HttpError(400, NOT_A_CURSOR)
        return value
    if not isinstance(value, str):
        raise HttpError(400, NOT_A_CURSOR)
    try:
        parsed = model_field.to_python(value)
    except (ValidationError, TypeError, ValueError, OverflowError) as exc:
        raise HttpError(400, NOT_A_CURSOR) from exc
    if parsed is None:
        raise HttpError(400, NOT_A_CURSOR)
    return parsed


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

    def paginate_queryset(
        self, queryset: QuerySet, pagination: Input, request: HttpRequest, **params: Any
    ) -> dict:
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
                value = _position_value(queryset.model, field, position.get("v"))
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
