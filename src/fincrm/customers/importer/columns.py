"""The client import's checks, column by column over a batch of rows (polars and NumPy).

Checking a million rows one cell at a time in Python costs about a minute before the database
sees a row. Here a batch (tens of thousands of rows) is one frame of text columns and each
check runs once per column: the credit codes' and ID numbers' check digits over a NumPy
matrix of their characters, money and counts with a pattern and integer arithmetic, and the
columns with few distinct values (choices, provinces, cities, dates, owners) through the
importer's own per-cell parser once per *distinct* value. A cell the fast rule does not
recognise (a sign, an exponent, a separator inside a code...) goes through the per-cell parser
too, so every verdict and message is the one :mod:`.checks` gives row by row
— a test imports the same awkward file both ways and compares.

The result of :func:`check_batch` is a frame with, per row: ``_n`` (row number), ``_i`` (index
in the batch), per field its stripped text ``raw_<field>`` (for error reports), parsed value
``<field>`` and error message ``err_<field>``; then ``_kind``, ``_key`` and the identification
and geography errors. The importer turns the rows that need the database's opinion (errors,
existing clients) into its per-row objects and inserts the rest in bulk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

#: Money the fast rule reads: digits (at most 16 before the point, so below the limit) and an
#: optional fraction, once the thousands separators and currency signs are gone.
_MONEY = r"^[0-9]{1,16}(\.[0-9]*)?$"
_NUMBER_NOISE = r"[,，\s¥￥元]"
_COUNT = r"^[0-9]{1,9}$"
#: E-mail addresses that Django's validator certainly accepts (a dot-atom of plain characters
#: at a host name with a letter TLD); anything else is asked of the validator itself.
_PLAIN_EMAIL = (
    r"^[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*@"
    r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = np.array((1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28))
#: int(first 17 digits, base 13) mod 11, digit by digit.
_RIC_WEIGHTS = np.array([pow(13, 16 - i, 11) for i in range(17)])
_USCC_VALUE = np.full(256, -1, dtype=np.int64)
for _value, _char in enumerate(_USCC_ALPHABET):
    _USCC_VALUE[ord(_char)] = _value
_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


class Invalid(Exception):
    """Raised by a per-cell parser; ``args[0]`` is the message."""


def text_frame(
    batch: list[tuple[int, list[Any]]],
    columns: list[tuple[int, str]],
    text: Callable[[Any], str],
    *,
    text_only: bool = False,
) -> pl.DataFrame:
    """The batch's mapped cells as stripped text (``raw_<field>``), empty cells as null.

    ``text_only``: every cell is already a ``str`` (a CSV file), so none is converted.
    """
    data: dict[str, Any] = {"_n": [number for number, _cells in batch]}
    rows = [cells for _number, cells in batch]
    width = max((index for index, _name in columns), default=-1) + 1
    if text_only and rows and min(map(len, rows)) >= width:
        # A CSV's rows all have the header's width: transpose them in one go.
        if min(map(len, rows)) != max(map(len, rows)):
            rows = [cells[:width] for cells in rows]
        transposed = list(zip(*rows, strict=True))
        for index, name in columns:
            data[f"raw_{name}"] = list(transposed[index])
    else:
        for index, name in columns:
            cells = [cells[index] if index < len(cells) else None for cells in rows]
            if not text_only:
                cells = [None if cell is None else text(cell) for cell in cells]
            data[f"raw_{name}"] = cells
    frame = pl.DataFrame(data, schema_overrides={f"raw_{n}": pl.String for _i, n in columns})
    return frame.with_columns(
        pl.col(f"raw_{name}").str.strip_chars().replace("", None) for _i, name in columns
    ).with_row_index("_i")


def by_distinct(
    frame: pl.DataFrame, source: str, parse: Callable[[str], Any], dtype: pl.DataType
) -> tuple[pl.Series, pl.Series]:
    """(values, messages) of ``parse`` applied once per distinct non-null text of ``source``."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for text in frame[source].drop_nulls().unique().to_list():
        try:
            values[text] = parse(text)
        except Invalid as exc:
            errors[text] = str(exc.args[0])
    column = frame[source]
    return (
        column.replace_strict(values, default=None, return_dtype=dtype),
        column.replace_strict(errors, default=None, return_dtype=pl.String),
    )


def _fallback(
    frame: pl.DataFrame, source: str, fast: pl.Series, parse: Callable, dtype: pl.DataType
) -> tuple[pl.Series, pl.Series]:
    """Rows the fast rule did not recognise, parsed cell by cell (distinct values)."""
    rest = frame.select(pl.when(~fast).then(pl.col(source)).alias(source))
    return by_distinct(rest, source, parse, dtype)


def money(frame: pl.DataFrame, source: str, parse: Callable) -> tuple[pl.Series, pl.Series]:
    """Amounts as text with two decimals (rounded half up), the importer's rule."""
    cleaned = frame[source].str.replace_all(_NUMBER_NOISE, "")
    fast = cleaned.str.contains(_MONEY).fill_null(False)
    parts = cleaned.str.split_exact(".", 1).struct.unnest()
    whole = parts["field_0"].cast(pl.Int64, strict=False)
    fraction = parts["field_1"].fill_null("").str.pad_end(3, "0")
    cents = (
        whole * 100
        + fraction.str.slice(0, 2).cast(pl.Int64, strict=False)
        + (fraction.str.slice(2, 1).cast(pl.Int64, strict=False) >= 5).cast(pl.Int64)
    )
    text = (cents // 100).cast(pl.String) + "." + (cents % 100).cast(pl.String).str.zfill(2)

    def exact(value: str) -> str:
        return str(parse(value))

    slow_values, slow_errors = _fallback(frame, source, fast, exact, pl.String)
    values = pl.select(pl.when(fast).then(text).otherwise(slow_values)).to_series()
    return values, slow_errors


def iso_date(frame: pl.DataFrame, source: str, parse: Callable) -> tuple[pl.Series, pl.Series]:
    """Dates written YYYY-MM-DD read in bulk; other spellings (and impossible dates, for
    their message) by the per-cell parser."""
    column = frame[source]
    parsed = column.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    fast = (column.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$") & parsed.is_not_null()).fill_null(
        False
    )
    fast = fast & (parsed.dt.year() >= 1).fill_null(False)
    slow_values, slow_errors = _fallback(frame, source, fast, parse, pl.Date)
    values = pl.select(pl.when(fast).then(parsed).otherwise(slow_values)).to_series()
    return values, slow_errors


def count(frame: pl.DataFrame, source: str, parse: Callable) -> tuple[pl.Series, pl.Series]:
    cleaned = frame[source].str.replace_all(_NUMBER_NOISE, "")
    fast = cleaned.str.contains(_COUNT).fill_null(False)
    slow_values, slow_errors = _fallback(frame, source, fast, parse, pl.Int64)
    values = pl.select(
        pl.when(fast).then(cleaned.cast(pl.Int64, strict=False)).otherwise(slow_values)
    ).to_series()
    return values, slow_errors


def email(frame: pl.DataFrame, source: str, parse: Callable, max_length: int):
    column = frame[source]
    fast = (column.str.contains(_PLAIN_EMAIL) & (column.str.len_chars() <= max_length)).fill_null(
        False
    )
    slow_values, slow_errors = _fallback(frame, source, fast, parse, pl.String)
    values = pl.select(pl.when(fast).then(column).otherwise(slow_values)).to_series()
    return values, slow_errors


def bounded_text(frame: pl.DataFrame, source: str, max_length: int, too_long: str):
    column = frame[source]
    bad = column.str.len_chars() > max_length
    values = pl.select(pl.when(bad).then(None).otherwise(column)).to_series()
    errors = pl.select(pl.when(bad).then(pl.lit(too_long))).to_series().cast(pl.String)
    return values, errors


def _char_matrix(codes: pl.Series) -> np.ndarray:
    """Codes of exactly 18 ASCII characters as an (n, 18) matrix of bytes."""
    joined = "".join(codes.to_list()).encode("ascii")
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, 18)


def uscc(frame: pl.DataFrame, source: str, parse: Callable, bad: str):
    """Unified social credit codes: 18 characters, the first 8 digits, the rest from the
    code alphabet, the last a check character (GB 32100-2015)."""
    upper = frame[source].str.to_uppercase()
    shaped = upper.str.contains(r"^[0-9A-Z]{18}$").fill_null(False)
    ok = np.zeros(frame.height, dtype=bool)
    index = np.flatnonzero(shaped.to_numpy())
    if index.size:
        chars = _char_matrix(upper.gather(index))
        values = _USCC_VALUE[chars]
        digits_first = ((chars[:, :8] >= ord("0")) & (chars[:, :8] <= ord("9"))).all(axis=1)
        in_alphabet = (values >= 0).all(axis=1)
        check = (31 - (values[:, :17] * _USCC_WEIGHTS).sum(axis=1)) % 31
        ok[index] = digits_first & in_alphabet & (check == values[:, 17])
    return _verdict(frame, source, upper, shaped, pl.Series(ok), parse, bad)


def ric(frame: pl.DataFrame, source: str, parse: Callable, bad: str, birth_place: Callable):
    """Resident ID numbers: 17 digits and a check character, a real birth date, a place of
    birth that existed in the birth year (``birth_place(prefix, year)``, per distinct pair)."""
    upper = frame[source].str.to_uppercase()
    shaped = upper.str.contains(r"^[0-9]{17}[0-9X]$").fill_null(False)
    ok = np.zeros(frame.height, dtype=bool)
    index = np.flatnonzero(shaped.to_numpy())
    if index.size:
        codes = upper.gather(index)
        chars = _char_matrix(codes).astype(np.int64)
        digits = chars[:, :17] - ord("0")
        checksum = (1 - 2 * ((digits * _RIC_WEIGHTS).sum(axis=1) % 11)) % 11
        last = np.where(chars[:, 17] == ord("X"), 10, chars[:, 17] - ord("0"))
        year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
        month = digits[:, 10:12] @ np.array([10, 1])
        day = digits[:, 12:14] @ np.array([10, 1])
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        month_ok = (month >= 1) & (month <= 12)
        days = np.where(month_ok, _DAYS[np.clip(month, 0, 12)], 0)
        days = np.where(month_ok & (month == 2) & ~leap, 28, days)
        valid = (checksum == last) & month_ok & (day >= 1) & (day <= days) & (year >= 1)
        places = pl.DataFrame({"p": codes.str.slice(0, 6), "y": year})
        known = {
            (p, y): birth_place(p, y)
            for p, y in places.filter(pl.Series(valid)).unique().iter_rows()
        }
        place_ok = np.array([known.get(key, False) for key in places.iter_rows()], dtype=bool)
        ok[index] = valid & place_ok
    return _verdict(frame, source, upper, shaped, pl.Series(ok), parse, bad)


def _verdict(frame, source, upper, shaped, ok, parse, bad):
    slow_values, slow_errors = _fallback(frame, source, shaped, parse, pl.String)
    values = pl.select(
        pl.when(shaped).then(pl.when(ok).then(upper)).otherwise(slow_values)
    ).to_series()
    errors = pl.select(
        pl.when(shaped).then(pl.when(~ok).then(pl.lit(bad))).otherwise(slow_errors)
    ).to_series()
    return values, errors.cast(pl.String)
