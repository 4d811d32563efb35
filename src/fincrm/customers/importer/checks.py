"""One set of checks for the client import: every cell parsed and validated, every row
identified (company or individual, by its credit code or ID number), duplicates in the file
and a city in another province caught; each error is (field, reason) on its row.

Two ways to run the same rules. :meth:`Checker.parse` checks one row, cell by cell: it is the
reference. :meth:`Checker.check` checks a batch column by column over a polars frame
(:mod:`.columns`), falling back to the per-cell parsers for any value its fast rules do not
recognise, and gives every row the same verdict (a test compares them on awkward files).
:meth:`Checker.rows` turns a checked batch back into per-row objects for the writer. Nothing
here touches the database; what needs it (an existing client, an owner) is the writer's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import polars as pl
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import TextChoices

from fincrm.core.validators import MSG_BAD_RIC, MSG_BAD_USCC, normalize_ric, normalize_uscc

from ..choices import CustomerKind
from ..forms import MSG_CITY_PROVINCE_MISMATCH
from ..geo import CITY_BY_NAME, PROVINCES
from ..models import MSG_COMPANY_NEEDS_USCC, MSG_PERSON_NEEDS_RIC, Customer
from . import columns
from .errors import (
    MSG_BAD_CHOICE,
    MSG_BAD_DATE,
    MSG_BAD_EMAIL,
    MSG_BAD_NUMBER,
    MSG_BAD_WHOLE_NUMBER,
    MSG_BOTH_IDENTIFIERS,
    MSG_DUPLICATE_IN_FILE,
    MSG_NEGATIVE,
    MSG_NO_IDENTIFIER,
    MSG_TOO_LARGE,
    MSG_TOO_LONG,
)
from .fields import (
    CHOICE_ALIASES,
    CHOICE_FIELDS,
    DATE_FIELDS,
    FIELDS,
    MONEY_FIELDS,
    TEXT_FIELDS,
    in_every_language,
    match_key,
)
from .reader import cell_text

Invalid = columns.Invalid
REGION_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")

# --- cells -----------------------------------------------------------------------------------

_NUMBER_NOISE = re.compile(r"[,，\s¥￥元]")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
_MONEY_LIMIT = Decimal(10) ** (Customer._meta.get_field("annual_revenue").max_digits - 2)
_CENT = Decimal("0.01")


def _parse_money(value: Any) -> Decimal:
    try:
        number = Decimal(str(value)) if isinstance(value, int | float | Decimal) else None
        if number is None:
            number = Decimal(_NUMBER_NOISE.sub("", str(value)))
    except InvalidOperation as exc:
        raise Invalid(MSG_BAD_NUMBER) from exc
    if not number.is_finite():
        raise Invalid(MSG_BAD_NUMBER)
    if number < 0:
        raise Invalid(MSG_NEGATIVE)
    if number >= _MONEY_LIMIT:
        raise Invalid(MSG_TOO_LARGE)
    return number.quantize(_CENT, rounding=ROUND_HALF_UP)


def _parse_count(value: Any) -> int:
    number = _parse_money(value)
    if number != number.to_integral_value():
        raise Invalid(MSG_BAD_WHOLE_NUMBER)
    if number > 2_147_483_647:
        raise Invalid(MSG_TOO_LARGE)
    return int(number)


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise Invalid(MSG_BAD_DATE)


def _parse_uscc(value: Any) -> str:
    try:
        return normalize_uscc(cell_text(value))
    except ValidationError as exc:
        raise Invalid(MSG_BAD_USCC) from exc


def _parse_ric(value: Any) -> str:
    try:
        return normalize_ric(cell_text(value))
    except ValidationError as exc:
        raise Invalid(MSG_BAD_RIC) from exc


def _region(text: str, known: Iterable[str]) -> str:
    """Drop 省/市/自治区 when that leaves a name the product knows (江苏省 → 江苏)."""
    if text in known:
        return text
    for suffix in REGION_SUFFIXES:
        if text.endswith(suffix) and text[: -len(suffix)] in known:
            return text[: -len(suffix)]
    return text


def _choice_lookup(choices: type[TextChoices]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for value, label in zip(choices.values, choices.labels, strict=True):
        for alias in {value, *in_every_language(label), *CHOICE_ALIASES[choices].get(value, ())}:
            lookup.setdefault(match_key(alias), value)
    return lookup


_KNOWN_PROVINCES = frozenset(PROVINCES)
MAX_LENGTHS = {name: Customer._meta.get_field(name).max_length for name in TEXT_FIELDS}


class Parsers:
    """One parser per field; built per import because choice labels depend on translations."""

    def __init__(self) -> None:
        self.choices = {name: _choice_lookup(cls) for name, cls in CHOICE_FIELDS.items()}
        self.by_field: dict[str, Callable[[Any], Any]] = {
            "credit_code": _parse_uscc,
            "id_number": _parse_ric,
            "owner": cell_text,
            "email": self._email,
            "province": lambda v: self._bounded(
                "province", _region(cell_text(v), _KNOWN_PROVINCES)
            ),
            "city": lambda v: self._bounded("city", _region(cell_text(v), CITY_BY_NAME)),
            "employee_count": _parse_count,
        }
        for name in MONEY_FIELDS:
            self.by_field[name] = _parse_money
        for name in DATE_FIELDS:
            self.by_field[name] = _parse_date
        for name in ("name", "address", "phone"):
            self.by_field[name] = self._text_of(name)
        for name in CHOICE_FIELDS:
            self.by_field[name] = self._choice_of(name)

    @staticmethod
    def _bounded(name: str, text: str) -> str:
        if len(text) > MAX_LENGTHS[name]:
            raise Invalid(MSG_TOO_LONG % {"max": MAX_LENGTHS[name]})
        return text

    def _text_of(self, name: str) -> Callable[[Any], str]:
        return lambda value: self._bounded(name, cell_text(value))

    def _email(self, value: Any) -> str:
        text = self._bounded("email", cell_text(value))
        try:
            validate_email(text)
        except ValidationError as exc:
            raise Invalid(MSG_BAD_EMAIL) from exc
        return text

    def _choice_of(self, name: str) -> Callable[[Any], str]:
        lookup = self.choices[name]
        codes = ", ".join(CHOICE_FIELDS[name].values)

        def parse(value: Any) -> str:
            found = lookup.get(match_key(cell_text(value)))
            if found is None:
                raise Invalid(MSG_BAD_CHOICE % {"codes": codes})
            return found

        return parse


COLUMN_TYPES: dict[str, pl.DataType] = {
    "birthday": pl.Date(),
    "founded_on": pl.Date(),
    "employee_count": pl.Int64(),
}


@lru_cache(maxsize=65_536)
def birth_place_known(prefix: str, year: int) -> bool:
    """Whether the six-digit place code existed in ``year`` (python-stdnum's county table)."""
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError as StdnumError

    try:
        ric.get_birth_place(f"{prefix}{year:04d}01010000")
    except StdnumError:
        return False
    return True


@dataclass
class Row:
    number: int
    values: dict[str, Any]  # parsed non-empty cells by field name
    raw: dict[str, str]  # the cells as text, for error reports
    errors: list[tuple[str, str]] = field(default_factory=list)
    kind: str | None = None
    key: str | None = None  # the credit code or ID number

    @property
    def key_field(self) -> str:
        return "credit_code" if self.kind == CustomerKind.COMPANY else "id_number"


class Checker:
    """The checks of one import: the mapped columns, the parsers (built per import because
    choice labels depend on the language) and every code met so far in the file."""

    def __init__(self, *, columns: list[tuple[int, str]], text_only: bool = False) -> None:
        self.columns = columns
        #: Every cell is a ``str`` (CSV); Excel cells may be numbers and dates.
        self.text_only = text_only
        self.parsers = Parsers().by_field
        #: (kind, key) → first row number of every code met so far (both ways of checking).
        self.seen: dict[tuple[str, str], int] = {}

    # -- one row, no database --
    def parse(self, number: int, cells: list[Any]) -> Row:
        row = Row(number=number, values={}, raw={})
        parsers = self.parsers
        for index, name in self.columns:
            raw = cells[index] if index < len(cells) else None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            row.raw[name] = cell_text(raw)[:80]
            try:
                row.values[name] = parsers[name](raw)
            except Invalid as exc:
                row.errors.append((name, str(exc.args[0])))
        self._identify(row)
        self._check_geography(row)
        return row

    def _identify(self, row: Row) -> None:
        """Derive the kind from the identifier (or check it against an explicit kind)."""
        values = row.values
        failed = {name for name, _message in row.errors}
        has_uscc = "credit_code" in values or "credit_code" in failed
        has_ric = "id_number" in values or "id_number" in failed
        kind = values.get("kind")
        if kind is None and "kind" in failed:
            return
        if kind == CustomerKind.COMPANY and (not has_uscc or has_ric):
            row.errors.append(("credit_code", str(MSG_COMPANY_NEEDS_USCC)))
            return
        if kind == CustomerKind.PERSON and (not has_ric or has_uscc):
            row.errors.append(("id_number", str(MSG_PERSON_NEEDS_RIC)))
            return
        if kind is None:
            if has_uscc and has_ric:
                row.errors.append(("kind", str(MSG_BOTH_IDENTIFIERS)))
                return
            if not (has_uscc or has_ric):
                row.errors.append(("credit_code", str(MSG_NO_IDENTIFIER)))
                return
            kind = CustomerKind.COMPANY if has_uscc else CustomerKind.PERSON
        row.kind = kind
        row.key = values.get(row.key_field)
        if row.key is None:
            return  # the code itself was bad, already reported
        first = self.seen.setdefault((kind, row.key), row.number)
        if first != row.number:
            row.errors.append((row.key_field, str(MSG_DUPLICATE_IN_FILE % {"row": first})))

    @staticmethod
    def _check_geography(row: Row) -> None:
        city = CITY_BY_NAME.get(row.values.get("city", ""))
        if city is None:
            return
        given = row.values.get("province")
        if given is None:
            row.values["province"] = city.province
        elif given != city.province:
            message = MSG_CITY_PROVINCE_MISMATCH % {
                "city": city.name,
                "province": city.province,
                "given": given,
            }
            row.errors.append(("city", str(message)))

    # -- a batch, column by column (see .columns) --
    def check(self, batch: list[tuple[int, list[Any]]]) -> pl.DataFrame:
        frame = columns.text_frame(batch, self.columns, cell_text, text_only=self.text_only)
        mapped = {name for _index, name in self.columns}
        for name in FIELDS:
            if name in mapped:
                values, errors = self._check_column(frame, name)
            else:
                dtype = COLUMN_TYPES.get(name, pl.String)
                frame = frame.with_columns(pl.lit(None, pl.String).alias(f"raw_{name}"))
                values = pl.Series(name, [None] * frame.height, dtype=dtype)
                errors = pl.Series([None] * frame.height, dtype=pl.String)
            frame = frame.with_columns(values.alias(name), errors.alias(f"err_{name}"))
        frame = self._identify_batch(frame)
        return self._geography_batch(frame)

    def _check_column(self, frame: pl.DataFrame, name: str) -> tuple[pl.Series, pl.Series]:
        raw, parse = f"raw_{name}", self.parsers[name]
        if name == "credit_code":
            return columns.uscc(frame, raw, parse, str(MSG_BAD_USCC))
        if name == "id_number":
            return columns.ric(frame, raw, parse, str(MSG_BAD_RIC), birth_place_known)
        if name in MONEY_FIELDS:
            return columns.money(frame, raw, parse)
        if name == "employee_count":
            return columns.count(frame, raw, parse)
        if name in DATE_FIELDS:
            return columns.iso_date(frame, raw, parse)
        if name == "email":
            return columns.email(frame, raw, parse, MAX_LENGTHS["email"])
        if name in ("name", "address", "phone"):
            too_long = str(MSG_TOO_LONG % {"max": MAX_LENGTHS[name]})
            return columns.bounded_text(frame, raw, MAX_LENGTHS[name], too_long)
        # Few distinct values: the per-cell parser, once per value.
        return columns.by_distinct(frame, raw, parse, COLUMN_TYPES.get(name, pl.String))

    def _identify_batch(self, frame: pl.DataFrame) -> pl.DataFrame:
        """:meth:`_identify` over the batch: the kind, the key, and the one error it finds."""
        has_uscc = pl.col("raw_credit_code").is_not_null()
        has_ric = pl.col("raw_id_number").is_not_null()
        kind = pl.col("kind")
        undecided = kind.is_null() & pl.col("err_kind").is_not_null()
        company = kind == CustomerKind.COMPANY
        person = kind == CustomerKind.PERSON
        rules = (
            (company & (~has_uscc | has_ric), "credit_code", MSG_COMPANY_NEEDS_USCC),
            (person & (~has_ric | has_uscc), "id_number", MSG_PERSON_NEEDS_RIC),
            (kind.is_null() & has_uscc & has_ric, "kind", MSG_BOTH_IDENTIFIERS),
            (kind.is_null() & ~has_uscc & ~has_ric, "credit_code", MSG_NO_IDENTIFIER),
        )
        field_expr = pl.when(undecided).then(pl.lit(None, pl.String))
        message_expr = pl.when(undecided).then(pl.lit(None, pl.String))
        for condition, name, message in rules:
            field_expr = field_expr.when(condition).then(pl.lit(name))
            message_expr = message_expr.when(condition).then(pl.lit(str(message)))
        frame = frame.with_columns(
            field_expr.otherwise(None).alias("_id_field"),
            message_expr.otherwise(None).alias("_id_error"),
        )
        resolved = (
            pl.when(undecided | pl.col("_id_field").is_not_null())
            .then(pl.lit(None, pl.String))
            .otherwise(
                pl.coalesce(
                    kind,
                    pl.when(has_uscc)
                    .then(pl.lit(CustomerKind.COMPANY.value))
                    .otherwise(pl.lit(CustomerKind.PERSON.value)),
                )
            )
        )
        frame = frame.with_columns(resolved.alias("_kind")).with_columns(
            pl.when(pl.col("_kind") == CustomerKind.COMPANY)
            .then(pl.col("credit_code"))
            .when(pl.col("_kind") == CustomerKind.PERSON)
            .then(pl.col("id_number"))
            .alias("_key")
        )
        return self._duplicates(frame)

    def _duplicates(self, frame: pl.DataFrame) -> pl.DataFrame:
        """A code already on an earlier row of the file (this batch or an earlier one)."""
        keyed = frame.filter(pl.col("_key").is_not_null()).select("_kind", "_key", "_n").sort("_n")
        # A dict, not a join against every code seen so far: a join rehashes the whole
        # file's codes on each batch (quadratic in the file).
        remember = self.seen.setdefault
        keys = zip(keyed["_kind"].to_list(), keyed["_key"].to_list(), strict=True)
        firsts = [remember(key, n) for key, n in zip(keys, keyed["_n"].to_list(), strict=True)]
        firsts = keyed.select("_n", pl.Series("_first", firsts, dtype=pl.Int64))
        frame = frame.join(firsts, on="_n", how="left")
        first = pl.col("_first")
        before, _row, after = str(MSG_DUPLICATE_IN_FILE).partition("%(row)d")
        duplicate = (
            pl.when(first.is_not_null() & (first != pl.col("_n")))
            .then(pl.concat_str(pl.lit(before), first.cast(pl.String), pl.lit(after)))
            .otherwise(pl.lit(None, pl.String))
        )
        return frame.with_columns(duplicate.alias("_duplicate")).drop("_first").sort("_i")

    def _geography_batch(self, frame: pl.DataFrame) -> pl.DataFrame:
        """:meth:`_check_geography` once per distinct (city, province)."""
        pairs = frame.select("city", "province").unique().drop_nulls("city")
        provinces, errors = {}, {}
        for city_name, given in pairs.iter_rows():
            row = Row(number=0, values={"city": city_name}, raw={})
            if given is not None:
                row.values["province"] = given
            self._check_geography(row)
            provinces[(city_name, given)] = row.values.get("province")
            errors[(city_name, given)] = row.errors[0][1] if row.errors else None
        keys = list(zip(frame["city"].to_list(), frame["province"].to_list(), strict=True))
        return frame.with_columns(
            pl.Series("province", [provinces.get(k, k[1]) for k in keys], dtype=pl.String),
            pl.Series("_geography", [errors.get(k) for k in keys], dtype=pl.String),
        )

    def rows(self, frame: pl.DataFrame) -> list[Row]:
        """The batch's rows as the per-row objects of the writer (values, raw text and the
        errors so far, in the order the row-by-row parse finds them)."""
        names = [name for _index, name in self.columns]
        rows = []
        for record in frame.iter_rows(named=True):
            row = Row(number=record["_n"], values={}, raw={})
            for name in names:
                raw = record[f"raw_{name}"]
                if raw is None:
                    continue
                row.raw[name] = raw[:80]
                if record[f"err_{name}"] is not None:
                    row.errors.append((name, record[f"err_{name}"]))
                elif name in MONEY_FIELDS:
                    row.values[name] = Decimal(record[name])
                else:
                    row.values[name] = record[name]
            if record["_id_field"] is not None:
                row.errors.append((record["_id_field"], record["_id_error"]))
            row.kind, row.key = record["_kind"], record["_key"]
            if record["_duplicate"] is not None:
                row.errors.append((row.key_field, record["_duplicate"]))
            if record["city"] is not None and "city" in row.values:
                if record["province"] is not None:
                    row.values["province"] = record["province"]
                if record["_geography"] is not None:
                    row.errors.append(("city", record["_geography"]))
            rows.append(row)
        return rows
