"""Reading an uploaded file into rows: the format checked against the content (never
trusted from the extension), a CSV's encoding (UTF-8 with or without BOM, else GB18030) and
delimiter found, an Excel workbook's first sheet read in read-only mode. Rows come one at a
time with their number as the user sees it in the file, so a million-row file is never held
in memory; nothing here knows what a client is."""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from .errors import (
    MSG_BAD_EXTENSION,
    MSG_EMPTY_FILE,
    MSG_NOT_CSV,
    MSG_NOT_XLSX,
    MSG_UNREADABLE,
    BadFile,
)

FORMATS = ("csv", "xlsx")


def cell_text(value: Any) -> str:
    """A cell as the user reads it: a whole float without ``.0``, a midnight datetime as its
    date, text stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return str(value).strip()


@dataclass
class Table:
    headers: list[str]
    #: (row number as in the file, cells); blank rows are skipped but keep their numbers.
    rows: Iterator[tuple[int, list[Any]]]
    #: For progress bars; may be a little off (blank lines, multi-line cells).
    estimated_rows: int | None
    #: Every cell is a ``str`` (CSV); Excel cells may be numbers and dates.
    text_only: bool = False


def sniff_format(path: Path, filename: str | None = None) -> str:
    """``"csv"`` or ``"xlsx"`` from the extension, checked against the content."""
    extension = Path(filename or path.name).suffix.lower().lstrip(".")
    if extension not in FORMATS:
        raise BadFile(MSG_BAD_EXTENSION)
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
    if extension == "xlsx":
        if not head.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(path):
            raise BadFile(MSG_NOT_XLSX)
        with zipfile.ZipFile(path) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise BadFile(MSG_NOT_XLSX)
        return extension
    binary_magic = (b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\xff\xd8\xff")
    if not head.strip() or b"\x00" in head or head.startswith(binary_magic):
        raise BadFile(MSG_NOT_CSV if head.strip() else MSG_EMPTY_FILE)
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return extension
    raise BadFile(MSG_NOT_CSV)


def _scan_csv(path: Path) -> tuple[str, int]:
    """The encoding (UTF-8 with or without BOM, else GB18030) and the number of lines."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, lines = True, 0
    with open(path, "rb") as fh:
        bom = fh.read(3) == codecs.BOM_UTF8
        fh.seek(0)
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if bom:
        return "utf-8-sig", lines
    return ("utf-8" if utf8 else "gb18030"), lines


def _delimiter(first_line: str) -> str:
    return max((",", "\t", ";"), key=first_line.count)


@contextmanager
def open_table(path: Path | str, *, filename: str | None = None) -> Iterator[Table]:
    """Open a CSV or XLSX file as a :class:`Table` (the format is checked, not trusted)."""
    path = Path(path)
    fmt = sniff_format(path, filename)
    if fmt == "xlsx":
        with _open_xlsx(path) as table:
            yield table
    else:
        with _open_csv(path) as table:
            yield table


@contextmanager
def _open_csv(path: Path) -> Iterator[Table]:
    encoding, lines = _scan_csv(path)
    with open(path, encoding=encoding, newline="", errors="strict") as fh:
        try:
            delimiter = _delimiter(fh.readline())
            fh.seek(0)
            reader = csv.reader(fh, delimiter=delimiter)
            headers = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise BadFile(MSG_UNREADABLE) from exc
        if not headers or not any(h.strip() for h in headers):
            raise BadFile(MSG_EMPTY_FILE)
        headers = [h.strip().lstrip("\ufeff") for h in headers]

        def rows() -> Iterator[tuple[int, list[Any]]]:
            try:
                for number, cells in enumerate(reader, start=2):
                    if "".join(cells).strip():
                        yield number, cells
            except (UnicodeDecodeError, csv.Error) as exc:
                raise BadFile(MSG_UNREADABLE) from exc

        yield Table(headers=headers, rows=rows(), estimated_rows=max(lines - 1, 0), text_only=True)


@contextmanager
def _open_xlsx(path: Path) -> Iterator[Table]:
    import openpyxl  # only the Excel path pays for importing it

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise BadFile(MSG_NOT_XLSX) from exc
    try:
        sheet = workbook.worksheets[0]
        cells = sheet.iter_rows(values_only=True)
        headers = next(cells, None)
        if not headers or all(h is None or not str(h).strip() for h in headers):
            raise BadFile(MSG_EMPTY_FILE)
        headers = [cell_text(h) for h in headers]

        def rows() -> Iterator[tuple[int, list[Any]]]:
            for number, values in enumerate(cells, start=2):
                if any(v is not None and cell_text(v) for v in values):
                    yield number, list(values)

        estimated = sheet.max_row - 1 if sheet.max_row else None
        yield Table(headers=headers, rows=rows(), estimated_rows=estimated)
    finally:
        workbook.close()


def preview_rows(table: Table, count: int = 10) -> list[tuple[int, list[str]]]:
    """The first ``count`` rows as text, padded to the header width."""
    width = len(table.headers)
    return [
        (number, [cell_text(v) for v in (list(cells) + [""] * width)[:width]])
        for number, cells in islice(table.rows, count)
    ]
