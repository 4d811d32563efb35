"""Bulk import of clients from a CSV or Excel (.xlsx) file.

Why not loop over ``services.customer_create``: one query, one ``full_clean`` and one save per
row cannot reach the import target (1M clients in under a minute). The importer instead
validates a batch of rows in memory, looks up the existing clients and the named owners with
one query each per batch, and writes the batch with ``bulk_create`` / ``bulk_update`` and their
audit history in one transaction. The checks the model would run (codes, choices, lengths, the
identifier-matches-kind constraint) are done here row by row so that every bad row is reported
with its row number instead of failing a whole batch.

Rules:

- Rows are matched on the credit code (companies) or the resident ID number (individuals):
  an existing client is updated with the non-empty cells of its row, a new one is created.
  Re-running a file therefore creates no duplicates; an empty cell never clears a value.
- Bad rows are reported as :class:`RowError` (row as the user sees it in the file, the header
  being row 1) and skipped; the good rows are written. With ``all_or_nothing`` any bad row rolls
  the whole import back.
- The acting user's rights are those of the client form: an account manager imports only their
  own clients, a team lead assigns owners within the teams they lead, an admin anyone; a row
  that matches a client the user may not change is refused without saying whose it is.

No request or view code here: the management command and the upload page both call
:func:`customer_import`.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from itertools import islice
from pathlib import Path
from queue import Full, Queue
from threading import Event, Thread
from typing import IO, Any, NamedTuple

import polars as pl
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, connections, router, transaction
from django.db.models import TextChoices
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from fincrm.accounts.choices import Role
from fincrm.accounts.models import User
from fincrm.core.bulk import deferred_constraints, insert_frame, update_with_history
from fincrm.core.spreadsheet import SafeCsvWriter
from fincrm.core.validators import MSG_BAD_RIC, MSG_BAD_USCC, normalize_ric, normalize_uscc

from . import import_columns as columns_check
from . import search_index
from .choices import (
    CityTier,
    ClientType,
    CustomerKind,
    Industry,
    NeedsLevel,
    RiskAppetite,
    SourceChannel,
)
from .forms import MSG_CITY_PROVINCE_MISMATCH
from .geo import CITY_BY_NAME, PROVINCES, city_tier
from .models import MSG_COMPANY_NEEDS_USCC, MSG_PERSON_NEEDS_RIC, Customer

DEFAULT_BATCH_SIZE = 20_000
#: Roles that may import at all (superusers always may).
IMPORT_ROLES = frozenset({Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.ADMIN})
#: Roles a client may be assigned to (the client form offers the same).
OWNER_ROLES = frozenset({Role.ACCOUNT_MANAGER, Role.TEAM_LEAD})
FORMATS = ("csv", "xlsx")

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


# --- fields and how file headers and cell values name them ----------------------------------

#: Importable fields in the order the preview lists them. ``team`` follows the owner.
FIELDS: tuple[str, ...] = (
    "kind",
    "name",
    "credit_code",
    "id_number",
    "client_type",
    "industry",
    "province",
    "city",
    "city_tier",
    "address",
    "phone",
    "email",
    "registered_capital",
    "annual_revenue",
    "employee_count",
    "needs_level",
    "risk_appetite",
    "source_channel",
    "owner",
    "birthday",
    "founded_on",
)
KEY_FIELDS = ("credit_code", "id_number")
REQUIRED_FOR_NEW = ("name", "client_type", "industry", "province", "city")

# Headers found in real Chinese spreadsheets, on top of each field's name and verbose name in
# every UI language (added in _header_lookup).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "kind": ("主体类型", "客户性质", "客户类别", "企业/个人"),
    "name": ("名称", "客户名称", "企业名称", "公司名称", "单位名称", "姓名", "客户姓名", "户名"),
    "credit_code": ("统一社会信用代码", "社会信用代码", "信用代码", "uscc", "credit code"),
    "id_number": (
        "身份证号",
        "身份证号码",
        "身份证",
        "居民身份证号码",
        "证件号码",
        "id number",
        "id no",
        "ric",
    ),
    "client_type": ("客户类型", "客户分类"),
    "industry": ("行业", "所属行业", "行业门类", "行业分类"),
    "province": ("省份", "省", "所在省份"),
    "city": ("城市", "市", "所在城市"),
    "city_tier": ("城市等级", "城市级别", "城市线级"),
    "address": ("地址", "注册地址", "经营地址", "联系地址"),
    "phone": ("电话", "手机", "手机号", "手机号码", "联系电话", "电话号码", "mobile"),
    "email": ("邮箱", "电子邮箱", "邮件", "email", "mail"),
    "registered_capital": ("注册资本",),
    "annual_revenue": ("年营业收入", "年收入", "营业收入", "年营收", "revenue"),
    "employee_count": ("员工人数", "员工数", "从业人数", "employee count"),
    "needs_level": ("需求层次", "需求等级"),
    "risk_appetite": ("风险偏好",),
    "source_channel": ("来源渠道", "获客渠道", "渠道", "来源", "source"),
    "owner": ("客户经理", "客户经理账号", "归属客户经理", "username", "owner"),
    "birthday": ("生日", "出生日期", "date of birth"),
    "founded_on": ("成立日期", "成立时间", "注册日期", "founded"),
}

# Names that Chinese files use for choice values (GB/T 4754-2017 section names and the usual
# business words), next to the codes and the labels of every UI language.
CHOICE_ALIASES: dict[type[TextChoices], dict[str, tuple[str, ...]]] = {
    CustomerKind: {
        "company": ("企业", "公司", "单位", "法人", "对公"),
        "person": ("个人", "自然人", "对私"),
    },
    Industry: {
        "A": ("农、林、牧、渔业", "农业"),
        "B": ("采矿业",),
        "C": ("制造业",),
        "D": ("电力、热力、燃气及水生产和供应业",),
        "E": ("建筑业",),
        "F": ("批发和零售业", "批发零售业"),
        "G": ("交通运输、仓储和邮政业",),
        "H": ("住宿和餐饮业",),
        "I": ("信息传输、软件和信息技术服务业",),
        "J": ("金融业",),
        "K": ("房地产业",),
        "L": ("租赁和商务服务业",),
        "M": ("科学研究和技术服务业",),
        "N": ("水利、环境和公共设施管理业",),
        "O": ("居民服务、修理和其他服务业",),
        "P": ("教育",),
        "Q": ("卫生和社会工作",),
        "R": ("文化、体育和娱乐业",),
        "S": ("公共管理、社会保障和社会组织",),
        "T": ("国际组织",),
    },
    ClientType: {
        "sme_owner": ("个体工商户", "小微企业主", "中小企业主"),
        "sme": ("中小企业", "小微企业"),
        "large": ("大型企业", "大企业"),
        "institution": ("机构", "机构客户", "事业单位"),
        "hnw": ("高净值个人", "高净值客户"),
    },
    CityTier: {
        "1": ("一线", "一线城市"),
        "new1": ("新一线", "新一线城市"),
        "2": ("二线", "二线城市"),
        "3": ("三线", "三线城市"),
        "4": ("四线及以下", "四线", "四线城市", "五线"),
    },
    NeedsLevel: {
        "basic": ("基础", "基础型"),
        "comprehensive": ("综合", "综合型"),
        "premium": ("高端", "尊享"),
    },
    RiskAppetite: {
        "conservative": ("保守", "保守型"),
        "steady": ("稳健", "稳健型"),
        "aggressive": ("进取", "进取型", "激进"),
    },
    SourceChannel: {
        "referral": ("转介绍", "推荐"),
        "branch": ("网点", "网点到访", "柜台"),
        "online": ("线上", "网络"),
        "partner": ("合作方", "供应链", "核心企业"),
        "event": ("活动",),
        "cold_call": ("电话营销", "外呼"),
    },
}
CHOICE_FIELDS: dict[str, type[TextChoices]] = {
    "kind": CustomerKind,
    "industry": Industry,
    "client_type": ClientType,
    "city_tier": CityTier,
    "needs_level": NeedsLevel,
    "risk_appetite": RiskAppetite,
    "source_channel": SourceChannel,
}
MONEY_FIELDS = ("registered_capital", "annual_revenue")
DATE_FIELDS = ("birthday", "founded_on")
TEXT_FIELDS = ("name", "address", "phone", "email", "province", "city")

_PUNCTUATION = re.compile(r"[\s_\-*·、，,.:：/（）()]+")
_UNIT_SUFFIX = re.compile(r"\s*[（(]\s*(元|人民币元|人民币|cny|rmb)\s*[)）]\s*$", re.IGNORECASE)
_REGION_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")


def _key(text: str) -> str:
    """How headers and choice values are compared: case, spaces and punctuation ignored."""
    return _PUNCTUATION.sub("", _UNIT_SUFFIX.sub("", text).casefold())


def field_label(name: str) -> str:
    if name == "owner":
        return _("Account manager (username)")
    return str(capfirst(Customer._meta.get_field(name).verbose_name))


def field_choices() -> list[tuple[str, str]]:
    """(field, label) for every importable field, for mapping selects."""
    return [(name, field_label(name)) for name in FIELDS]


def _in_every_language(text) -> set[str]:
    found = {str(text)}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.add(str(text))
    return found


def _header_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for name in FIELDS:
        names = {name, *HEADER_ALIASES.get(name, ())}
        names |= _in_every_language(Customer._meta.get_field(name).verbose_name)
        for alias in names:
            lookup.setdefault(_key(alias), name)
    return lookup


def guess_mapping(headers: list[str]) -> list[str | None]:
    """The field each column holds, by its header; ``None`` for columns to ignore."""
    lookup = _header_lookup()
    mapping: list[str | None] = []
    for header in headers:
        name = lookup.get(_key(header or ""))
        mapping.append(name if name not in mapping else None)
    return mapping


def resolve_mapping(
    headers: list[str], overrides: Mapping[str | int, str | None] | None = None
) -> list[str | None]:
    """The guessed mapping with ``overrides`` applied (column header or index → field or None).

    Raises :class:`BadMapping` for an unknown field or column; a field mapped twice or a
    missing key column is reported by :func:`mapping_problems`.
    """
    mapping = guess_mapping(headers)
    for column, name in (overrides or {}).items():
        if isinstance(column, int):
            if not 0 <= column < len(headers):
                raise BadMapping(MSG_UNKNOWN_COLUMN % {"column": column})
            index = column
        elif column in headers:
            index = headers.index(column)
        else:
            raise BadMapping(MSG_UNKNOWN_COLUMN % {"column": column})
        if name and name not in FIELDS:
            raise BadMapping(MSG_UNKNOWN_FIELD % {"field": name})
        mapping[index] = name or None
    return mapping


def mapping_problems(mapping: list[str | None]) -> list[str]:
    """Why this mapping cannot be imported (empty when it can)."""
    problems = []
    mapped = [name for name in mapping if name]
    for name in dict.fromkeys(n for n in mapped if mapped.count(n) > 1):
        problems.append(str(MSG_DUPLICATE_MAPPING % {"field": field_label(name)}))
    if not any(name in KEY_FIELDS for name in mapped):
        problems.append(str(MSG_NO_KEY_COLUMN))
    return problems


# --- reading files ---------------------------------------------------------------------------


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
        headers = [_text(h) for h in headers]

        def rows() -> Iterator[tuple[int, list[Any]]]:
            for number, values in enumerate(cells, start=2):
                if any(v is not None and _text(v) for v in values):
                    yield number, list(values)

        estimated = sheet.max_row - 1 if sheet.max_row else None
        yield Table(headers=headers, rows=rows(), estimated_rows=estimated)
    finally:
        workbook.close()


def preview_rows(table: Table, count: int = 10) -> list[tuple[int, list[str]]]:
    """The first ``count`` rows as text, padded to the header width."""
    width = len(table.headers)
    return [
        (number, [_text(v) for v in (list(cells) + [""] * width)[:width]])
        for number, cells in islice(table.rows, count)
    ]


# --- parsing cells ---------------------------------------------------------------------------


_Invalid = columns_check.Invalid


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return str(value).strip()


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
        raise _Invalid(MSG_BAD_NUMBER) from exc
    if not number.is_finite():
        raise _Invalid(MSG_BAD_NUMBER)
    if number < 0:
        raise _Invalid(MSG_NEGATIVE)
    if number >= _MONEY_LIMIT:
        raise _Invalid(MSG_TOO_LARGE)
    return number.quantize(_CENT, rounding=ROUND_HALF_UP)


def _parse_count(value: Any) -> int:
    number = _parse_money(value)
    if number != number.to_integral_value():
        raise _Invalid(MSG_BAD_WHOLE_NUMBER)
    if number > 2_147_483_647:
        raise _Invalid(MSG_TOO_LARGE)
    return int(number)


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise _Invalid(MSG_BAD_DATE)


def _parse_uscc(value: Any) -> str:
    try:
        return normalize_uscc(_text(value))
    except ValidationError as exc:
        raise _Invalid(MSG_BAD_USCC) from exc


def _parse_ric(value: Any) -> str:
    try:
        return normalize_ric(_text(value))
    except ValidationError as exc:
        raise _Invalid(MSG_BAD_RIC) from exc


def _region(text: str, known: Iterable[str]) -> str:
    """Drop 省/市/自治区 when that leaves a name the product knows (江苏省 → 江苏)."""
    if text in known:
        return text
    for suffix in _REGION_SUFFIXES:
        if text.endswith(suffix) and text[: -len(suffix)] in known:
            return text[: -len(suffix)]
    return text


def _choice_lookup(choices: type[TextChoices]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for value, label in zip(choices.values, choices.labels, strict=True):
        for alias in {value, *_in_every_language(label), *CHOICE_ALIASES[choices].get(value, ())}:
            lookup.setdefault(_key(alias), value)
    return lookup


_KNOWN_PROVINCES = frozenset(PROVINCES)
_MAX_LENGTHS = {name: Customer._meta.get_field(name).max_length for name in TEXT_FIELDS}


class _Parsers:
    """One parser per field; built per import because choice labels depend on translations."""

    def __init__(self) -> None:
        self.choices = {name: _choice_lookup(cls) for name, cls in CHOICE_FIELDS.items()}
        self.by_field: dict[str, Callable[[Any], Any]] = {
            "credit_code": _parse_uscc,
            "id_number": _parse_ric,
            "owner": _text,
            "email": self._email,
            "province": lambda v: self._bounded("province", _region(_text(v), _KNOWN_PROVINCES)),
            "city": lambda v: self._bounded("city", _region(_text(v), CITY_BY_NAME)),
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
        if len(text) > _MAX_LENGTHS[name]:
            raise _Invalid(MSG_TOO_LONG % {"max": _MAX_LENGTHS[name]})
        return text

    def _text_of(self, name: str) -> Callable[[Any], str]:
        return lambda value: self._bounded(name, _text(value))

    def _email(self, value: Any) -> str:
        text = self._bounded("email", _text(value))
        try:
            validate_email(text)
        except ValidationError as exc:
            raise _Invalid(MSG_BAD_EMAIL) from exc
        return text

    def _choice_of(self, name: str) -> Callable[[Any], str]:
        lookup = self.choices[name]
        codes = ", ".join(CHOICE_FIELDS[name].values)

        def parse(value: Any) -> str:
            found = lookup.get(_key(_text(value)))
            if found is None:
                raise _Invalid(MSG_BAD_CHOICE % {"codes": codes})
            return found

        return parse


_COLUMN_TYPES: dict[str, pl.DataType] = {
    "birthday": pl.Date(),
    "founded_on": pl.Date(),
    "employee_count": pl.Int64(),
}
_DEFAULTS = {
    name: Customer._meta.get_field(name).get_default()
    for name in ("needs_level", "risk_appetite", "source_channel")
}


@lru_cache(maxsize=65_536)
def _birth_place_known(prefix: str, year: int) -> bool:
    """Whether the six-digit place code existed in ``year`` (python-stdnum's county table)."""
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError as StdnumError

    try:
        ric.get_birth_place(f"{prefix}{year:04d}01010000")
    except StdnumError:
        return False
    return True


def _existing(column: str, keys: list[str]) -> list[str]:
    """Which of ``keys`` (credit codes or ID numbers) a client in the book already has: one
    query whatever their number (an array on PostgreSQL, a JSON list on SQLite)."""
    if not keys:
        return []
    connection = connections[router.db_for_read(Customer)]
    table = connection.ops.quote_name(Customer._meta.db_table)
    quoted = connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT {quoted} FROM {table} WHERE {quoted} = ANY(%s)", [keys])
        else:
            cursor.execute(
                f"SELECT {quoted} FROM {table} WHERE {quoted} IN (SELECT value FROM json_each(%s))",
                [json.dumps(keys)],
            )
        return [key for (key,) in cursor.fetchall()]


#: The identifier column of each kind of client.
_KEY_COLUMNS = ((CustomerKind.COMPANY, "credit_code"), (CustomerKind.PERSON, "id_number"))


def _book_keys() -> dict[str, pl.Series]:
    """Every credit code and ID number in the book, per column (a bulk load's book is small
    against its file, and locked while it runs)."""
    connection = connections[router.db_for_write(Customer)]
    table = connection.ops.quote_name(Customer._meta.db_table)
    keys = {}
    with connection.cursor() as cursor:
        for _kind, column in _KEY_COLUMNS:
            quoted = connection.ops.quote_name(column)
            cursor.execute(f"SELECT {quoted} FROM {table} WHERE {quoted} IS NOT NULL")
            keys[column] = pl.Series(column, [key for (key,) in cursor.fetchall()], pl.String)
    return keys


#: A file of more rows is read and checked a batch ahead, in a thread.
READ_AHEAD_MIN_ROWS = 50_000
#: Tables whose secondary indexes and foreign keys a bulk load rebuilds after the rows.
_BULK_LOAD_TABLES = ("customers_customer", "customers_historicalcustomer")
#: A bulk load pays from this many rows in the file, when the book (and its history) holds
#: at most a tenth as many rows: rebuilding an index costs about as much as maintaining it
#: for a tenth of its rows. Below, rows are written into the live indexes, and the table
#: stays readable while the import runs.
BULK_LOAD_MIN_ROWS = 100_000


def bulk_load_pays(rows: int) -> bool:
    """Whether an import of ``rows`` rows should rebuild the indexes (PostgreSQL only)."""
    connection = connections[router.db_for_write(Customer)]
    if connection.vendor != "postgresql" or rows < BULK_LOAD_MIN_ROWS:
        return False
    limit = rows // 10 + 1
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in _BULK_LOAD_TABLES:
            # A bounded count: the planner's estimate lags behind a large delete.
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {quote(table)} LIMIT %s) t", [limit]
            )
            if cursor.fetchone()[0] >= limit:
                return False
    return True


def bulk_insert_customers(
    frame: pl.DataFrame, *, now: datetime, user_id, reason: str, locked: bool = False
) -> None:
    """Insert new clients (a frame of Customer columns without id and timestamps; money as
    text) and one "+" history row each, without a model instance per row: ids are drawn from
    the table's sequence first, then both tables are written by ``core.bulk.insert_frame``
    (COPY on PostgreSQL, multi-row INSERTs on SQLite), in the caller's transaction.

    ``locked``: the caller holds the client table exclusively (a bulk load), so no one else
    can draw from its sequence meanwhile: the ids are reserved as one range instead of one
    ``nextval`` each."""
    connection = connections[router.db_for_write(Customer)]
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and locked:
            cursor.execute(
                "SELECT setval(seq, nextval(seq) + %s - 1) FROM "
                "(SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq) s",
                [frame.height, table],
            )
            last = cursor.fetchone()[0]
            ids = list(range(last - frame.height + 1, last + 1))
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, frame.height],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
        else:
            cursor.execute(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
                f"COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 0))",
                [table],
            )
            start = cursor.fetchone()[0] + 1
            ids = list(range(start, start + frame.height))
    frame = frame.with_columns(pl.Series("id", ids, dtype=pl.Int64))
    # SQLite's search index: the batch indexed in one statement, not by a trigger per row.
    with search_index.indexed_after(connection, ids[0], ids[-1]) if ids else nullcontext():
        insert_frame(Customer, frame, constants={"created_at": now, "updated_at": now})
    audit = {
        "created_at": now,
        "history_date": now,
        "history_change_reason": reason,
        "history_type": "+",
        "history_user_id": user_id,
    }
    insert_frame(Customer.history.model, frame, constants=audit)


# --- the import ------------------------------------------------------------------------------


def may_import(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in IMPORT_ROLES)
    )


@dataclass
class _Row:
    number: int
    values: dict[str, Any]  # parsed non-empty cells by field name
    raw: dict[str, str]  # the cells as text, for error reports
    errors: list[tuple[str, str]] = field(default_factory=list)
    kind: str | None = None
    key: str | None = None  # the credit code or ID number

    @property
    def key_field(self) -> str:
        return "credit_code" if self.kind == CustomerKind.COMPANY else "id_number"


class _Import:
    def __init__(
        self,
        *,
        user,
        mapping: list[str | None],
        filename: str,
        all_or_nothing: bool,
        dry_run: bool,
        batch_size: int,
        on_progress: Callable[[int], None] | None,
    ) -> None:
        self.user = user
        self.columns = [(i, name) for i, name in enumerate(mapping) if name]
        self.all_or_nothing = all_or_nothing
        self.write = not dry_run
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.parsers = _Parsers().by_field
        self.result = ImportResult(dry_run=dry_run)
        #: (kind, key) → first row number of every code met so far (both parsers).
        self.seen: dict[tuple[str, str], int] = {}
        #: A bulk load's codes already in the book, read once (the table is locked).
        self.book_keys: dict[str, pl.Series] | None = None
        self.owners: dict[str, tuple[int, int | None] | None] = {}  # username → (pk, team)
        self.is_admin = user.is_superuser or user.role == Role.ADMIN
        self.lead_teams = user.visible_team_ids()
        self.default_owner = (
            (user.pk, user.team_id) if user.role in OWNER_ROLES and not self.is_admin else None
        )
        self.reason = f"import: {filename}"[:100]
        self.text_only = False
        self.bulk_load = False
        #: Read and check the next batch in a thread while this one is written.
        self.read_ahead = False

    # -- driving --
    def run(
        self, rows: Iterator[tuple[int, list[Any]]], max_rows: int | None = None
    ) -> ImportResult:
        if max_rows is not None:
            self._run(islice(rows, max_rows))
            self.result.truncated = next(rows, None) is not None
        else:
            self._run(rows)
        return self.result

    def _run(self, rows: Iterator[tuple[int, list[Any]]]) -> None:
        if self.write and self.bulk_load:
            # One transaction (each batch a savepoint): the indexes come back with the rows,
            # or nothing changes at all.
            with (
                transaction.atomic(),
                deferred_constraints(
                    _BULK_LOAD_TABLES, indexes=True, using=router.db_for_write(Customer)
                ),
            ):
                self.book_keys = _book_keys()
                self._batches(rows)
                if self.all_or_nothing and self.result.bad_rows:
                    transaction.set_rollback(True)
            if self.all_or_nothing and self.result.bad_rows:
                self.result.aborted = True
                self.result.created = self.result.updated = self.result.unchanged = 0
        elif self.all_or_nothing and self.write:
            with transaction.atomic():
                self._batches(rows)
                if self.result.bad_rows:
                    transaction.set_rollback(True)
            if self.result.bad_rows:
                self.result.aborted = True
                self.result.created = self.result.updated = self.result.unchanged = 0
        else:
            self._batches(rows)

    def _batches(self, rows: Iterator[tuple[int, list[Any]]]) -> None:
        for frame in self._checked(rows):
            self.result.total_rows += frame.height
            writing = self.write and not (self.all_or_nothing and self.result.bad_rows)
            if writing:
                try:
                    with transaction.atomic():
                        self._settle_batch(frame, write=True)
                except DatabaseError as exc:
                    self._refuse_batch(self._rows(frame), exc)
            else:
                self._settle_batch(frame, write=False)
            if self.on_progress:
                self.on_progress(self.result.total_rows)

    def _checked(self, rows: Iterator[tuple[int, list[Any]]]) -> Iterator[pl.DataFrame]:
        """The file's batches, checked. With ``read_ahead`` a thread reads and checks the next
        batch while this one is written: the checks keep a core busy, the writes wait on the
        database. The thread touches no database and speaks the caller's language."""
        if not self.read_ahead:
            while batch := list(islice(rows, self.batch_size)):
                yield self._check(batch)
            return
        queue: Queue = Queue(maxsize=1)
        stop = Event()
        language = translation.get_language()

        def put(item) -> None:
            while not stop.is_set():
                try:
                    queue.put(item, timeout=0.2)
                    return
                except Full:
                    continue

        def produce() -> None:
            try:
                with translation.override(language):
                    while not stop.is_set() and (batch := list(islice(rows, self.batch_size))):
                        put(("batch", self._check(batch)))
                put(("done", None))
            except BaseException as exc:  # handed to the caller's thread, raised there
                put(("error", exc))

        reader = Thread(target=produce, name="import-read-ahead", daemon=True)
        reader.start()
        try:
            while True:
                kind, item = queue.get()
                if kind == "done":
                    return
                if kind == "error":
                    raise item
                yield item
        finally:
            stop.set()
            reader.join()

    # -- a batch, column by column, no database (see import_columns) --
    def _check(self, batch: list[tuple[int, list[Any]]]) -> pl.DataFrame:
        frame = columns_check.text_frame(batch, self.columns, _text, text_only=self.text_only)
        mapped = {name for _index, name in self.columns}
        for name in FIELDS:
            if name in mapped:
                values, errors = self._check_column(frame, name)
            else:
                dtype = _COLUMN_TYPES.get(name, pl.String)
                frame = frame.with_columns(pl.lit(None, pl.String).alias(f"raw_{name}"))
                values = pl.Series(name, [None] * frame.height, dtype=dtype)
                errors = pl.Series([None] * frame.height, dtype=pl.String)
            frame = frame.with_columns(values.alias(name), errors.alias(f"err_{name}"))
        frame = self._identify_batch(frame)
        return self._geography_batch(frame)

    def _check_column(self, frame: pl.DataFrame, name: str) -> tuple[pl.Series, pl.Series]:
        raw, parse = f"raw_{name}", self.parsers[name]
        if name == "credit_code":
            return columns_check.uscc(frame, raw, parse, str(MSG_BAD_USCC))
        if name == "id_number":
            return columns_check.ric(frame, raw, parse, str(MSG_BAD_RIC), _birth_place_known)
        if name in MONEY_FIELDS:
            return columns_check.money(frame, raw, parse)
        if name == "employee_count":
            return columns_check.count(frame, raw, parse)
        if name in DATE_FIELDS:
            return columns_check.iso_date(frame, raw, parse)
        if name == "email":
            return columns_check.email(frame, raw, parse, _MAX_LENGTHS["email"])
        if name in ("name", "address", "phone"):
            too_long = str(MSG_TOO_LONG % {"max": _MAX_LENGTHS[name]})
            return columns_check.bounded_text(frame, raw, _MAX_LENGTHS[name], too_long)
        # Few distinct values: the per-cell parser, once per value.
        return columns_check.by_distinct(frame, raw, parse, _COLUMN_TYPES.get(name, pl.String))

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
            row = _Row(number=0, values={"city": city_name}, raw={})
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

    def _rows(self, frame: pl.DataFrame) -> list[_Row]:
        """The batch's rows as the per-row objects of :meth:`_settle` (values, raw text and the
        errors so far, in the order the row-by-row parse finds them)."""
        names = [name for _index, name in self.columns]
        rows = []
        for record in frame.iter_rows(named=True):
            row = _Row(number=record["_n"], values={}, raw={})
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

    # -- a batch against the database --
    def _settle_batch(self, frame: pl.DataFrame, *, write: bool) -> None:
        """New clients whose rows are clean go in bulk; every other row (an error so far, an
        existing client to update, an owner to refuse, a required value missing) through
        :meth:`_settle`, which reports or updates it."""
        errors = [f"err_{name}" for _index, name in self.columns]
        errors += ["_id_field", "_duplicate", "_geography"]
        known = self._existing_keys(frame)
        self._load_owner_names(frame["owner"].drop_nulls().unique().to_list())
        allowed = {
            name: owner is not None and self._may_assign(*owner)
            for name, owner in self.owners.items()
        }
        owner_ok = pl.col("owner").is_null() | pl.col("owner").replace_strict(
            allowed, default=False, return_dtype=pl.Boolean
        )
        clean = (
            pl.all_horizontal(pl.col(c).is_null() for c in errors)
            & pl.all_horizontal(pl.col(name).is_not_null() for name in REQUIRED_FOR_NEW)
            & owner_ok
            & pl.col("_exists").is_null()
        )
        frame = frame.join(known, on=["_kind", "_key"], how="left", nulls_equal=False)
        frame = frame.with_columns(clean.alias("_clean")).sort("_i")
        new = frame.filter("_clean")
        rest = frame.filter(~pl.col("_clean"))
        if rest.height:
            self._settle(self._rows(rest), write=write)
        if new.height and write:
            self._insert_new(new)
        self.result.created += new.height

    def _existing_keys(self, frame: pl.DataFrame) -> pl.DataFrame:
        """(kind, key) of the batch's rows that match a client already in the book."""
        found: list[dict] = []
        for kind, column in _KEY_COLUMNS:
            keys = frame.filter(pl.col("_kind") == kind)["_key"].drop_nulls()
            if self.book_keys is not None:
                matched = keys.filter(keys.is_in(self.book_keys[column].implode())).to_list()
            else:
                matched = _existing(column, keys.to_list())
            found.extend({"_kind": kind.value, "_key": key} for key in matched)
        schema = {"_kind": pl.String, "_key": pl.String}
        return pl.DataFrame(found, schema=schema).with_columns(_exists=pl.lit(True))

    def _load_owner_names(self, names: list[str]) -> None:
        wanted = set(names) - self.owners.keys()
        if not wanted:
            return
        self.owners.update(dict.fromkeys(wanted))
        found = User.objects.filter(
            username__in=wanted, is_active=True, role__in=OWNER_ROLES
        ).values_list("username", "pk", "team_id")
        for username, pk, team_id in found:
            self.owners[username] = (pk, team_id)

    def _insert_new(self, new: pl.DataFrame) -> None:
        """Write new clients and their audit history ("+", the user, the file) in bulk: COPY
        on PostgreSQL, one multi-row statement per slice on SQLite."""
        now = timezone.now()
        default_pk, default_team = self.default_owner or (None, None)
        owners = {name: owner for name, owner in self.owners.items() if owner is not None}
        tiers = {city: city_tier(city) for city in new["city"].unique().to_list()}
        frame = new.select(
            pl.col("_kind").alias("kind"),
            "name",
            pl.when(pl.col("_kind") == CustomerKind.COMPANY)
            .then("credit_code")
            .alias("credit_code"),
            pl.when(pl.col("_kind") == CustomerKind.PERSON).then("id_number").alias("id_number"),
            pl.col("phone").fill_null(""),
            pl.col("email").fill_null(""),
            "industry",
            "province",
            "city",
            pl.coalesce("city_tier", pl.col("city").replace_strict(tiers, default=None)).alias(
                "city_tier"
            ),
            pl.col("address").fill_null(""),
            "registered_capital",
            "annual_revenue",
            "employee_count",
            "client_type",
            pl.col("needs_level").fill_null(_DEFAULTS["needs_level"]),
            pl.col("risk_appetite").fill_null(_DEFAULTS["risk_appetite"]),
            pl.col("source_channel").fill_null(_DEFAULTS["source_channel"]),
            pl.col("owner")
            .replace_strict(
                {k: v[0] for k, v in owners.items()}, default=None, return_dtype=pl.Int64
            )
            .fill_null(pl.lit(default_pk, pl.Int64))
            .alias("owner_id"),
            pl.when(pl.col("owner").is_null())
            .then(pl.lit(default_team, pl.Int64))
            .otherwise(
                pl.col("owner").replace_strict(
                    {k: v[1] for k, v in owners.items()}, default=None, return_dtype=pl.Int64
                )
            )
            .alias("team_id"),
            "birthday",
            "founded_on",
        )
        bulk_insert_customers(
            frame, now=now, user_id=self.user.pk, reason=self.reason, locked=self.bulk_load
        )

    # -- one row, no database --
    def _parse(self, number: int, cells: list[Any]) -> _Row:
        row = _Row(number=number, values={}, raw={})
        parsers = self.parsers
        for index, name in self.columns:
            raw = cells[index] if index < len(cells) else None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            row.raw[name] = _text(raw)[:80]
            try:
                row.values[name] = parsers[name](raw)
            except _Invalid as exc:
                row.errors.append((name, str(exc.args[0])))
        self._identify(row)
        self._check_geography(row)
        return row

    def _identify(self, row: _Row) -> None:
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
    def _check_geography(row: _Row) -> None:
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

    # -- a batch against the database --
    def _settle(self, rows: list[_Row], *, write: bool) -> None:
        existing = self._existing(rows)
        changeable = self._changeable(existing.values())
        self._load_owners(rows)
        now = timezone.now()
        new: list[Customer] = []
        changed: list[Customer] = []
        changed_fields: set[str] = set()
        unchanged = 0
        for row in rows:
            current = existing.get((row.kind, row.key)) if row.key else None
            if current is not None and current.pk not in changeable:
                row.errors.append((row.key_field, str(MSG_NOT_YOURS)))
                continue
            owner = self._owner(row, is_new=current is None)
            if row.key is not None and current is None:
                failed = {name for name, _message in row.errors}
                row.errors.extend(
                    (name, str(MSG_REQUIRED))
                    for name in REQUIRED_FOR_NEW
                    if name not in row.values and name not in failed
                )
            if row.errors:
                continue
            if current is None:
                new.append(self._build(row, owner))
                continue
            fields = self._apply(current, row, owner)
            if fields:
                current.updated_at = now
                changed.append(current)
                changed_fields |= fields
            else:
                unchanged += 1
        if write and new:
            bulk_create_with_history(
                new, Customer, default_user=self.user, default_change_reason=self.reason
            )
        if write and changed:
            update_with_history(
                changed,
                Customer,
                sorted(changed_fields | {"updated_at"}),
                default_user=self.user,
                default_change_reason=self.reason,
            )
        self.result.created += len(new)
        self.result.updated += len(changed)
        self.result.unchanged += unchanged
        for row in rows:
            if row.errors:
                self._report(row)

    def _existing(self, rows: list[_Row]) -> dict[tuple[str, str], Customer]:
        found: dict[tuple[str, str], Customer] = {}
        for kind, key_field in _KEY_COLUMNS:
            keys = [r.key for r in rows if r.kind == kind and r.key]
            if keys:
                for customer in Customer.objects.filter(**{f"{key_field}__in": keys}):
                    found[(kind, getattr(customer, key_field))] = customer
        return found

    def _changeable(self, customers: Iterable[Customer]) -> set[int]:
        pks = [c.pk for c in customers]
        if not pks or self.is_admin:
            return set(pks)
        restricted = Customer.objects.restrict(self.user, "change").filter(pk__in=pks)
        return set(restricted.values_list("pk", flat=True))

    def _load_owners(self, rows: list[_Row]) -> None:
        self._load_owner_names([r.values["owner"] for r in rows if "owner" in r.values])

    def _owner(self, row: _Row, *, is_new: bool) -> tuple[int, int | None] | None:
        """(owner pk, team pk) to set, ``None`` to leave as is; a refusal is a row error."""
        username = row.values.get("owner")
        if username is None:
            return self.default_owner if is_new else None
        owner = self.owners.get(username)
        if owner is None:
            row.errors.append(("owner", str(MSG_UNKNOWN_OWNER)))
        elif not self._may_assign(*owner):
            row.errors.append(("owner", str(MSG_OWNER_NOT_ALLOWED)))
        return owner

    def _may_assign(self, owner_pk: int, team_id: int | None) -> bool:
        if self.is_admin or owner_pk == self.user.pk:
            return True
        return self.user.role == Role.TEAM_LEAD and team_id in self.lead_teams

    def _build(self, row: _Row, owner: tuple[int, int | None] | None) -> Customer:
        values = dict(row.values)
        values.pop("owner", None)
        values["kind"] = row.kind
        values.setdefault("city_tier", city_tier(values.get("city", "")))
        if owner is not None:
            values["owner_id"], values["team_id"] = owner
        return Customer(**values)

    @staticmethod
    def _apply(customer: Customer, row: _Row, owner: tuple[int, int | None] | None) -> set[str]:
        """Set the row's values on an existing client; the names of the fields that changed."""
        values = {k: v for k, v in row.values.items() if k not in ("owner", "kind")}
        if "city" in values and "city_tier" not in values:
            values["city_tier"] = city_tier(values["city"])
        if owner is not None:
            values["owner_id"], values["team_id"] = owner
        changed = set()
        for attname, value in values.items():
            if getattr(customer, attname) != value:
                setattr(customer, attname, value)
                changed.add(attname.removesuffix("_id"))
        return changed

    def _report(self, row: _Row) -> None:
        self.result.bad_rows += 1
        self.result.errors.extend(
            RowError(row.number, name, message, row.raw.get(name, ""))
            for name, message in row.errors
        )

    def _refuse_batch(self, rows: list[_Row], exc: DatabaseError) -> None:
        """The database refused a batch (say a race on a unique code): none of it was written."""
        message = str(MSG_BATCH_REFUSED % {"error": str(exc)[:120]})
        for row in rows:
            if not row.errors:
                row.errors.append(("", message))
            self._report(row)


def customer_import(
    path: Path | str,
    *,
    user,
    mapping: Mapping[str | int, str | None] | None = None,
    filename: str | None = None,
    all_or_nothing: bool = False,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
    max_rows: int | None = None,
    bulk_load: bool | None = None,
) -> ImportResult:
    """Import the clients in a CSV or XLSX file as ``user`` (see the module docstring).

    ``bulk_load`` (PostgreSQL): rebuild the client table's secondary indexes after the rows
    instead of maintaining them row by row, in one transaction that locks the table; by
    default only for a file large against the book (:func:`bulk_load_pays`).

    ``mapping`` overrides the guessed column mapping (header text or column index → field name,
    or ``None`` to ignore the column). ``dry_run`` validates without writing; ``max_rows``
    stops after that many data rows (a preview's quick check). Raises
    :class:`BadFile` or :class:`BadMapping` when the file as a whole cannot be imported and
    ``PermissionDenied`` when the user may not import.
    """
    if not may_import(user):
        raise PermissionDenied
    started = time.perf_counter()
    path = Path(path)
    with open_table(path, filename=filename) as table:
        columns = resolve_mapping(table.headers, mapping)
        problems = mapping_problems(columns)
        if problems:
            raise BadMapping(" ".join(problems))
        job = _Import(
            user=user,
            mapping=columns,
            filename=filename or path.name,
            all_or_nothing=all_or_nothing,
            dry_run=dry_run,
            batch_size=batch_size,
            on_progress=on_progress,
        )
        job.text_only = table.text_only
        if bulk_load is None:
            bulk_load = not dry_run and bulk_load_pays(table.estimated_rows or 0)
        job.bulk_load = bulk_load
        job.read_ahead = (table.estimated_rows or 0) > READ_AHEAD_MIN_ROWS
        result = job.run(table.rows, max_rows)
    result.seconds = time.perf_counter() - started
    return result


def write_errors_csv(
    errors: Iterable[RowError], out: IO[str], *, headers: Mapping[str, str] | None = None
) -> None:
    """All errors as CSV (Excel opens it when ``out`` is encoded as utf-8-sig).

    ``headers`` maps a field to the file's column header, so the user finds the cell.
    """
    headers = headers or {}
    writer = SafeCsvWriter(out)  # a cell is the uploader's text: never a formula
    writer.writerow([_("Row"), _("Column"), _("Field"), _("Reason"), _("Value")])
    for error in errors:
        label = field_label(error.field) if error.field else ""
        writer.writerow(
            [error.row, headers.get(error.field, ""), label, error.message, error.value]
        )


def column_headers(headers: list[str], mapping: list[str | None]) -> dict[str, str]:
    """Field → the header of the column it is read from."""
    return {name: header for header, name in zip(headers, mapping, strict=False) if name}
