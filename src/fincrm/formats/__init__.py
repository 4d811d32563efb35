"""Locale formats that keep form inputs in the formats browsers accept.

Django renders a date field's value with the locale's first ``DATE_INPUT_FORMATS`` entry;
for zh-hans that is ``2021/01/31``, which ``<input type="date">`` rejects (it needs
``yyyy-MM-dd``), so the browser posts the field empty and saving an untouched form erased
every date. Each locale here keeps Django's formats and puts the ISO ones first; the others
are still accepted when typed.
"""

ISO_DATE = "%Y-%m-%d"
ISO_DATETIME = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


def iso_first(formats: list[str], *iso: str) -> list[str]:
    """``iso`` then ``formats`` without repeating an entry."""
    return [*iso, *(f for f in formats if f not in iso)]
