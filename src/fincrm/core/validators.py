"""Validators for Chinese registration numbers, shared by forms, the importer and the API."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

MSG_BAD_USCC = _("Not a valid unified social credit code (18 characters, check digit must match).")
MSG_BAD_RIC = _(
    "Not a valid resident ID number (18 digits with a real birth date, place and check digit)."
)


def normalize_uscc(value: str) -> str:
    """Return the compact, upper-case code or raise ``ValidationError``."""
    try:
        return uscc.validate(str(value).strip().upper())
    except StdnumError as exc:
        raise ValidationError(MSG_BAD_USCC, code="invalid_uscc") from exc


def normalize_ric(value: str) -> str:
    try:
        return ric.validate(str(value).strip().upper())
    except StdnumError as exc:
        raise ValidationError(MSG_BAD_RIC, code="invalid_ric") from exc


def validate_uscc(value: str) -> None:
    normalize_uscc(value)


def validate_ric(value: str) -> None:
    normalize_ric(value)


#: Accepted uploads: extension → the bytes the file must start with.
DOCUMENT_SIGNATURES = {
    ".pdf": (b"%PDF-",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    # Office files: the old compound format and the new zipped one.
    ".doc": (b"\xd0\xcf\x11\xe0",),
    ".xls": (b"\xd0\xcf\x11\xe0",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
}
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def validate_document_file(file) -> None:
    """A PDF, image, Word or Excel file of at most 10 MB whose content is what its name
    says."""
    from pathlib import Path

    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    suffix = Path(file.name or "").suffix.lower()
    if suffix not in DOCUMENT_SIGNATURES:
        raise ValidationError(
            _("Upload a PDF, JPEG, PNG, Word or Excel file (got “%(name)s”).")
            % {"name": file.name},
            code="type",
        )
    if file.size > MAX_DOCUMENT_BYTES:
        raise ValidationError(_("The file is larger than 10 MB."), code="size")
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if not head.startswith(DOCUMENT_SIGNATURES[suffix]):
        raise ValidationError(
            _("The file's content is not a %(type)s.") % {"type": suffix[1:].upper()},
            code="content",
        )
