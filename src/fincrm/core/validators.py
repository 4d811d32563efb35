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
