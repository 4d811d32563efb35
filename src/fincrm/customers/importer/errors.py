"""What the client import says when it refuses: messages shared with the tests, the
exceptions for a file or mapping that cannot be used, one :class:`RowError` per bad cell (row,
field, reason) and the :class:`ImportResult` with its CSV of errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fincrm.core.spreadsheet import SafeCsvWriter

# --- messages (shared with the tests) -------------------------------------------------------
MSG_BAD_EXTENSION = gettext_lazy("Upload a .csv or .xlsx file.")
MSG_NOT_XLSX = gettext_lazy("This file is not a valid Excel workbook (.xlsx).")
MSG_NOT_CSV = gettext_lazy("This file does not look like a CSV text file.")
MSG_UNREADABLE = gettext_lazy(
    "The file could not be read: save it as CSV (UTF-8 or GB18030) or as an Excel workbook."
)
MSG_EMPTY_FILE = gettext_lazy("The file is empty: the first row must hold the column headers.")
MSG_NO_KEY_COLUMN = gettext_lazy(
    "No column holds the credit code or the resident ID number: map one, rows are matched on it."
)
MSG_DUPLICATE_MAPPING = gettext_lazy("More than one column is mapped to “%(field)s”.")
MSG_UNKNOWN_FIELD = gettext_lazy("“%(field)s” is not a field the import knows.")
MSG_UNKNOWN_COLUMN = gettext_lazy("The file has no column “%(column)s”.")

MSG_REQUIRED = gettext_lazy("Required for a new client.")
MSG_BAD_NUMBER = gettext_lazy("Not a number.")
MSG_BAD_WHOLE_NUMBER = gettext_lazy("Not a whole number.")
MSG_NEGATIVE = gettext_lazy("Must not be negative.")
MSG_TOO_LARGE = gettext_lazy("Too large.")
MSG_BAD_DATE = gettext_lazy("Not a date (write it as YYYY-MM-DD).")
MSG_BAD_CHOICE = gettext_lazy("Unknown value; use a code or a name from: %(codes)s.")
MSG_TOO_LONG = gettext_lazy("Too long (at most %(max)d characters).")
MSG_BAD_EMAIL = gettext_lazy("Not a valid e-mail address.")
MSG_UNKNOWN_OWNER = gettext_lazy("No active account manager or team lead has this username.")
MSG_OWNER_NOT_ALLOWED = gettext_lazy("You may not assign clients to this account manager.")
MSG_DUPLICATE_IN_FILE = gettext_lazy("Duplicate: the same code is already on row %(row)d.")
MSG_NOT_YOURS = gettext_lazy("This client exists and belongs to another manager.")
MSG_NO_IDENTIFIER = gettext_lazy(
    "Give a unified social credit code (company) or a resident ID number (individual)."
)
MSG_BOTH_IDENTIFIERS = gettext_lazy(
    "Both a credit code and an ID number are given: say in a kind column which one this is."
)
MSG_BATCH_REFUSED = gettext_lazy(
    "Not saved: the database refused this batch of rows (%(error)s). Run the import again."
)


class BadFile(ValueError):
    """The file as a whole cannot be imported; ``str(exc)`` is a message for the user."""


class BadMapping(ValueError):
    """The column mapping cannot be used; ``str(exc)`` is a message for the user."""


class RowError(NamedTuple):
    row: int  # as the user sees it in the file; the header is row 1
    field: str  # an importable field name (see FIELDS)
    message: str
    value: str = ""


@dataclass
class ImportResult:
    total_rows: int = 0
    bad_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False
    #: ``all_or_nothing`` was asked and a row was bad: nothing was written.
    aborted: bool = False
    #: ``max_rows`` stopped the run before the end of the file.
    truncated: bool = False

    @property
    def good_rows(self) -> int:
        return self.total_rows - self.bad_rows

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0


def write_errors_csv(
    errors: Iterable[RowError], out: IO[str], *, headers: Mapping[str, str] | None = None
) -> None:
    """All errors as CSV (Excel opens it when ``out`` is encoded as utf-8-sig).

    ``headers`` maps a field to the file's column header, so the user finds the cell.
    """
    from .fields import field_label

    headers = headers or {}
    writer = SafeCsvWriter(out)  # a cell is the uploader's text: never a formula
    writer.writerow([_("Row"), _("Column"), _("Field"), _("Reason"), _("Value")])
    for error in errors:
        label = field_label(error.field) if error.field else ""
        writer.writerow(
            [error.row, headers.get(error.field, ""), label, error.message, error.value]
        )
