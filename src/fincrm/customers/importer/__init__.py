"""Bulk import of clients from a CSV or Excel (.xlsx) file.

The package is cut along the way a file travels:

- :mod:`.reader` opens the file (format checked, encoding and delimiter found) and yields its
  rows with their numbers;
- :mod:`.fields` names the importable fields and maps the file's columns to them;
- :mod:`.checks` is the one set of checks: every cell, the identity of every row, duplicates
  and geography, each error as (row, field, reason); :mod:`.columns` runs the same rules over
  a batch column by column;
- :mod:`.writer` settles a checked batch against the book (existing clients, owners and the
  user's rights) and writes it in bulk with its audit history;
- :mod:`.run` drives them inside the transactions the options ask for
  (:func:`customer_import`); :mod:`.errors` holds the messages and the result.

Rules:

- Rows are matched on the credit code (companies) or the resident ID number (individuals):
  an existing client is updated with the non-empty cells of its row, a new one is created.
  Re-running a file therefore creates no duplicates; an empty cell never clears a value.
- Bad rows are reported as :class:`RowError` (row as the user sees it in the file, the header
  being row 1). With ``all_or_nothing`` (the upload page's default) any bad row rolls the whole
  import back and every bad row is still reported; without it they are skipped and the good
  rows written.
- The acting user's rights are those of the client form: an account manager imports only their
  own clients, a team lead assigns owners within the teams they lead, an admin anyone; a row
  that matches a client the user may not change is refused without saying whose it is.

No request or view code here: the management command, the upload page and the background
import task all call :func:`customer_import`.
"""

from fincrm.core.validators import MSG_BAD_RIC, MSG_BAD_USCC

from .errors import (
    MSG_BAD_CHOICE,
    MSG_BAD_DATE,
    MSG_BAD_EMAIL,
    MSG_BAD_EXTENSION,
    MSG_BAD_NUMBER,
    MSG_BAD_WHOLE_NUMBER,
    MSG_BATCH_REFUSED,
    MSG_BOTH_IDENTIFIERS,
    MSG_DUPLICATE_IN_FILE,
    MSG_DUPLICATE_MAPPING,
    MSG_EMPTY_FILE,
    MSG_NEGATIVE,
    MSG_NO_IDENTIFIER,
    MSG_NO_KEY_COLUMN,
    MSG_NOT_CSV,
    MSG_NOT_XLSX,
    MSG_NOT_YOURS,
    MSG_OWNER_NOT_ALLOWED,
    MSG_REQUIRED,
    MSG_TOO_LARGE,
    MSG_TOO_LONG,
    MSG_UNKNOWN_COLUMN,
    MSG_UNKNOWN_FIELD,
    MSG_UNKNOWN_OWNER,
    MSG_UNREADABLE,
    BadFile,
    BadMapping,
    ImportResult,
    RowError,
    write_errors_csv,
)
from .fields import (
    FIELDS,
    HEADER_ALIASES,
    KEY_FIELDS,
    REQUIRED_FOR_NEW,
    column_headers,
    field_choices,
    field_label,
    guess_mapping,
    mapping_problems,
    resolve_mapping,
)
from .reader import FORMATS, Table, open_table, preview_rows, sniff_format
from .run import DEFAULT_BATCH_SIZE, IMPORT_ROLES, customer_import, may_import
from .writer import BULK_LOAD_MIN_ROWS, OWNER_ROLES, bulk_insert_customers, bulk_load_pays

__all__ = [
    "BULK_LOAD_MIN_ROWS",
    "DEFAULT_BATCH_SIZE",
    "FIELDS",
    "FORMATS",
    "HEADER_ALIASES",
    "IMPORT_ROLES",
    "KEY_FIELDS",
    "MSG_BAD_CHOICE",
    "MSG_BAD_DATE",
    "MSG_BAD_EMAIL",
    "MSG_BAD_EXTENSION",
    "MSG_BAD_NUMBER",
    "MSG_BAD_RIC",
    "MSG_BAD_USCC",
    "MSG_BAD_WHOLE_NUMBER",
    "MSG_BATCH_REFUSED",
    "MSG_BOTH_IDENTIFIERS",
    "MSG_DUPLICATE_IN_FILE",
    "MSG_DUPLICATE_MAPPING",
    "MSG_EMPTY_FILE",
    "MSG_NEGATIVE",
    "MSG_NOT_CSV",
    "MSG_NOT_XLSX",
    "MSG_NOT_YOURS",
    "MSG_NO_IDENTIFIER",
    "MSG_NO_KEY_COLUMN",
    "MSG_OWNER_NOT_ALLOWED",
    "MSG_REQUIRED",
    "MSG_TOO_LARGE",
    "MSG_TOO_LONG",
    "MSG_UNKNOWN_COLUMN",
    "MSG_UNKNOWN_FIELD",
    "MSG_UNKNOWN_OWNER",
    "MSG_UNREADABLE",
    "OWNER_ROLES",
    "REQUIRED_FOR_NEW",
    "BadFile",
    "BadMapping",
    "ImportResult",
    "RowError",
    "Table",
    "bulk_insert_customers",
    "bulk_load_pays",
    "column_headers",
    "customer_import",
    "field_choices",
    "field_label",
    "guess_mapping",
    "mapping_problems",
    "may_import",
    "open_table",
    "preview_rows",
    "resolve_mapping",
    "sniff_format",
    "write_errors_csv",
]
