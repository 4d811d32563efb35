"""Excel files people read: the filters applied written on top, a bold frozen header,
numbers stored as numbers with a number format (separators; whole numbers without decimals,
others with two; percentages as such) and columns wide enough for their text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

from .spreadsheet import safe_cell, safe_row

WHOLE = "#,##0"
DECIMAL = "#,##0.00"
PERCENT = "0.0%"
DAY = "yyyy-mm-dd"
MINUTE = "yyyy-mm-dd hh:mm"
MAX_WIDTH = 60


def _width(value: Any) -> int:
    """Display width of a cell's text: a Chinese character takes two columns."""
    text = (
        value
        if isinstance(value, str)
        else f"{value:,.2f}"
        if isinstance(value, float)
        else str(value)
    )
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _format(values: list[Any], percent: bool) -> str | None:
    numbers = [
        v for v in values if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)
    ]
    if not numbers:
        if any(isinstance(v, datetime) for v in values):  # a deadline: the day and the time
            return MINUTE
        return DAY if any(isinstance(v, date) for v in values) else None
    if percent:
        return PERCENT
    return WHOLE if all(float(v).is_integer() for v in numbers) else DECIMAL


def workbook(
    *,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    applied: Sequence[tuple[str, str]] = (),
    percent_columns: Iterable[int] = (),
    note: str = "",
) -> bytes:
    """One sheet as .xlsx bytes. ``applied``: (filter, value) pairs written above the table;
    ``percent_columns``: indexes of columns holding fractions (0.25 shown as 25.0%)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\\/?*\[\]:]", " ", str(title))[:31] or "-"  # Excel forbids these
    for name, value in applied:
        sheet.append(safe_row([str(name), str(value)]))
    if applied:
        sheet.append([])
    header_row = len(applied) + 2 if applied else 1
    sheet.append(safe_row(str(h) for h in header))
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = f"A{header_row + 1}"  # a string: sheet.cell() would add a row
    body = [safe_row(row) for row in rows]
    for row in body:
        sheet.append(row)
    percents = set(percent_columns)
    for index, name in enumerate(header):
        column = [row[index] for row in body if index < len(row)]
        letter = get_column_letter(index + 1)
        fmt = _format(column, index in percents)
        if fmt:
            for cell in sheet[letter][header_row:]:
                cell.number_format = fmt
        widest = max([_width(name), *(_width(v) for v in column if v is not None)])
        sheet.column_dimensions[letter].width = min(widest + 2, MAX_WIDTH)
    if note:
        sheet.append([])
        sheet.append([safe_cell(str(note))])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def applied_filters(filterset) -> list[tuple[str, str]]:
    """The filters ``filterset`` applies, as (label, value) pairs in the reader's language:
    a choice by its label, a ticked box as ✓, the sort by its column's name."""
    applied: list[tuple[str, str]] = []
    if filterset is None or not filterset.is_bound or not filterset.is_valid():
        return applied
    for name, value in filterset.form.cleaned_data.items():
        if value in (None, "", False, []):
            continue
        field = filterset.form.fields[name]
        labels = {str(k): v for k, v in getattr(field, "choices", ())}
        values = value if isinstance(value, list) else [value]  # the sort: a list
        shown = ", ".join(str(labels.get(str(v), v)) for v in values)
        applied.append((str(field.label), "✓" if value is True else shown))
    return applied


def local_time(value: datetime | None) -> datetime | None:
    """An aware time as the reader's local wall-clock time without a zone (Excel has none)."""
    from django.utils import timezone

    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


def xlsx_response(content: bytes, *, name: str):
    """``content`` as a download named ``fincrm-<name>-<today>.xlsx``."""
    from django.http import HttpResponse
    from django.utils import timezone

    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="fincrm-{name}-{stamp}.xlsx"'
    return response
