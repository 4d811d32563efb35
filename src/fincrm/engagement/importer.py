"""Import an interaction export (CSV or XLSX), all or nothing, with an error per bad cell.

Columns (Chinese or English headers): client (credit code, ID number or client name), channel,
time, subject, summary, outcome, next step, direction, contact (name). A client is found only
among the clients the importing user may change; every row is checked before anything is
written, and a file with any bad row writes nothing and lists every problem (row, column, why).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.customers.importer import BadFile, RowError, open_table
from fincrm.customers.models import Contact, Customer

from .choices import Direction, InteractionChannel, Outcome
from .models import Interaction

MAX_ROWS = 100_000
HEADERS = {
    "client": ("client", "customer", "credit code", "客户", "客户名称", "统一社会信用代码",
               "证件号码"),
    "channel": ("channel", "渠道", "方式", "联系方式"),
    "occurred_at": ("time", "when", "date", "时间", "日期", "联系时间"),
    "subject": ("subject", "主题", "事由"),
    "summary": ("summary", "notes", "内容", "摘要", "记录"),
    "outcome": ("outcome", "result", "结果"),
    "next_step": ("next step", "下一步"),
    "direction": ("direction", "方向"),
    "contact": ("contact", "联系人"),
}  # fmt: skip
REQUIRED = ("client", "channel", "occurred_at", "subject")
MSG_MISSING_COLUMNS = _("The file has no column for: %(columns)s.")
MSG_REQUIRED = _("This value is required.")
MSG_UNKNOWN_CLIENT = _("No client you manage has this name, credit code or ID number.")
MSG_AMBIGUOUS_CLIENT = _("Several of your clients have this name: use the credit code.")
MSG_BAD_CHOICE = _("Not one of: %(choices)s.")
MSG_BAD_TIME = _("Not a date or time (use 2026-11-24 or 2026-11-24 14:30).")
MSG_FUTURE = _("This time is in the future.")
MSG_UNKNOWN_CONTACT = _("This client has no contact of this name.")
MSG_TOO_LONG = _("Longer than %(n)s characters.")
MSG_TOO_MANY_ROWS = _("The file has more than %(n)s rows: split it.")
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")


@dataclass
class InteractionImport:
    rows: int = 0
    created: int = 0
    errors: list[RowError] = field(default_factory=list)


def _choices(choices) -> dict[str, str]:
    lookup = {}
    for value, label in zip(choices.values, choices.labels, strict=True):
        from django.utils import translation

        for language in ("en", "zh-hans"):
            with translation.override(language):
                lookup[str(label).strip().lower()] = value
        lookup[value] = value
    return lookup


def _columns(headers: list[str]) -> dict[str, int]:
    index = {}
    for position, header in enumerate(headers):
        key = header.strip().lower()
        for name, aliases in HEADERS.items():
            if key in aliases and name not in index:
                index[name] = position
    return index


def _parse_time(text: str) -> datetime:
    for fmt in TIME_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt in ("%Y-%m-%d", "%Y/%m/%d"):
            parsed = datetime.combine(parsed.date(), time(9))
        return timezone.make_aware(parsed)
    raise ValueError


class _Clients:
    """The user's changeable clients by credit code, ID number and (unique) name."""

    def __init__(self, user):
        self.qs = Customer.objects.restrict(user, "change")

    def find(self, text: str) -> tuple[int | None, Any]:
        match = list(
            self.qs.filter(credit_code=text.upper()).values_list("pk", flat=True)[:1]
        ) or list(self.qs.filter(id_number=text.upper()).values_list("pk", flat=True)[:1])
        if match:
            return match[0], None
        named = list(self.qs.filter(name=text).values_list("pk", flat=True)[:2])
        if len(named) == 1:
            return named[0], None
        return None, MSG_AMBIGUOUS_CLIENT if named else MSG_UNKNOWN_CLIENT


def import_interactions(
    *, path: Path | str, user, filename: str | None = None
) -> InteractionImport:
    result = InteractionImport()
    choices = {
        "channel": _choices(InteractionChannel),
        "outcome": _choices(Outcome),
        "direction": _choices(Direction),
    }
    clients = _Clients(user)
    limits = {f: Interaction._meta.get_field(f).max_length for f in ("subject", "next_step")}
    good: list[Interaction] = []
    with open_table(path, filename=filename) as table:
        columns = _columns(table.headers)
        missing = [name for name in REQUIRED if name not in columns]
        if missing:
            raise BadFile(MSG_MISSING_COLUMNS % {"columns": ", ".join(missing)})
        for number, cells in table.rows:
            result.rows += 1
            if result.rows > MAX_ROWS:
                raise BadFile(MSG_TOO_MANY_ROWS % {"n": f"{MAX_ROWS:,}"})
            interaction, errors = _parse_row(
                number,
                cells,
                columns=columns,
                clients=clients,
                choices=choices,
                limits=limits,
                user=user,
            )
            if interaction is None:
                result.errors.extend(errors)
                continue
            good.append(interaction)
    if result.errors:
        return result  # all or nothing: the user fixes the file and imports it again
    with transaction.atomic():
        Interaction.objects.bulk_create(good, batch_size=2_000)
    result.created = len(good)
    return result


def _parse_row(
    number: int,
    cells: list,
    *,
    columns: dict[str, int],
    clients: _Clients,
    choices: dict[str, dict[str, str]],
    limits: dict[str, Any],
    user,
) -> tuple[Interaction | None, list[RowError]]:
    """One row: its problems (row, column, why), or the unsaved interaction it records."""

    def cell(name: str) -> str:
        at = columns.get(name)
        return str(cells[at]).strip() if at is not None and at < len(cells) else ""

    errors: list[RowError] = []

    def bad(name: str, message, value: str = "") -> None:
        errors.append(RowError(number, name, str(message), value))

    for name in REQUIRED:
        if not cell(name):
            bad(name, MSG_REQUIRED)
    customer_id, problem = clients.find(cell("client")) if cell("client") else (None, None)
    if problem:
        bad("client", problem, cell("client"))
    values: dict[str, Any] = {}
    for name, lookup in choices.items():
        text = cell(name)
        if text:
            if text.lower() in lookup:
                values[name] = lookup[text.lower()]
            else:
                shown = ", ".join(sorted({v for v in lookup.values()}))
                bad(name, MSG_BAD_CHOICE % {"choices": shown}, text)
    if cell("occurred_at"):
        try:
            values["occurred_at"] = _parse_time(cell("occurred_at"))
        except ValueError:
            bad("occurred_at", MSG_BAD_TIME, cell("occurred_at"))
        else:
            if values["occurred_at"] > timezone.now():
                bad("occurred_at", MSG_FUTURE, cell("occurred_at"))
    for name, limit in limits.items():
        if len(cell(name)) > limit:
            bad(name, MSG_TOO_LONG % {"n": limit})
    contact = None
    if cell("contact") and customer_id:
        contact = Contact.objects.filter(customer_id=customer_id, name=cell("contact")).first()
        if contact is None:
            bad("contact", MSG_UNKNOWN_CONTACT, cell("contact"))
    if errors:
        return None, errors
    interaction = Interaction(
        customer_id=customer_id,
        contact=contact,
        subject=cell("subject"),
        summary=cell("summary"),
        next_step=cell("next_step"),
        created_by=user,
        direction=values.get("direction", Direction.OUTBOUND),
        outcome=values.get("outcome", ""),
        channel=values["channel"],
        occurred_at=values["occurred_at"],
    )
    return interaction, errors


def import_upload(*, upload, user) -> InteractionImport:
    """Import an uploaded file (kept in a temporary file while it is read)."""
    suffix = Path(upload.name).suffix.lower()
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
        handle.flush()
        return import_interactions(path=handle.name, user=user, filename=upload.name)
