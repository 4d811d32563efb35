"""Cells written to CSV and Excel files that people open in a spreadsheet: text that starts
like a formula (``=HYPERLINK(...)``, ``+1+cmd|...``, ``@SUM(...)``) is written as text, not
run. Every CSV and Excel output of fincrm writes its cells through :func:`safe_cell`."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

from django.utils.functional import Promise

#: A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value``, with text that starts like a formula prefixed by ``'`` (shown as text by
    Excel, LibreOffice and WPS). Numbers, dates and empty cells are written as they are:
    ``-5`` as a number is a number, ``"-5"`` as text is quoted."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, out: IO[str], **kwargs):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
