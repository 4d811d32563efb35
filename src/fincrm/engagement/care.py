"""The care calendar (客户关怀): birthdays, founding anniversaries and Chinese festivals become
care tasks ahead of time, with the message drafted, as each tier's care plan says.

Festival dates come from the ``holidays`` library (China) for the years asked: nothing here
is written per year. Sending a care message is logged as an interaction and closes its task.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import holidays
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from fincrm.core.bulk import insert_rows
from fincrm.core.policy import policy_active, policy_config

from .choices import InteractionChannel, Outcome, TaskKind, TaskStatus
from .models import MessageTemplate, Task
from .services import interaction_log, task_complete

#: The first day of each festival in the library's English names.
FESTIVALS = {
    "New Year's Day": "new_year",
    "Chinese New Year (Spring Festival)": "spring_festival",
    "Dragon Boat Festival": "dragon_boat",
    "Mid-Autumn Festival": "mid_autumn",
    "National Day": "national_day",
}
OCCASION_NAMES = {
    "birthday": _("Birthday"),
    "contact_birthday": _("Contact's birthday"),
    "founding_anniversary": _("Founding anniversary"),
    "new_year": _("New Year"),
    "spring_festival": _("Spring Festival"),
    "dragon_boat": _("Dragon Boat Festival"),
    "mid_autumn": _("Mid-Autumn Festival"),
    "national_day": _("National Day"),
}
DEFAULT_TEXTS = {
    "zh-hans": {
        "birthday": "尊敬的{contact}：值此生日之际，{manager}代表公司祝您生日快乐、"
        "身体健康、万事如意！",
        "contact_birthday": "{contact}您好：祝您生日快乐！感谢您一直以来对我们工作的支持。"
        "——{manager}",
        "founding_anniversary": "热烈祝贺{client}成立{years}周年！感谢多年信任，"
        "愿贵司基业长青。——{manager}",
        "festival": "{contact}您好：{occasion}将至，{manager}谨代表公司祝您和家人节日快乐、"
        "阖家幸福！",
    },
    "en": {
        "birthday": "Dear {contact}, happy birthday from all of us! Warm wishes, {manager}",
        "contact_birthday": "Dear {contact}, happy birthday, and thank you for your support. "
        "{manager}",
        "founding_anniversary": "Congratulations to {client} on {years} years! "
        "With thanks, {manager}",
        "festival": "Dear {contact}, best wishes for the {occasion} to you and your family. "
        "{manager}",
    },
}


@dataclass(frozen=True)
class Occasion:
    code: str
    on: date
    years: int | None = None


def festivals(start: date, end: date) -> list[Occasion]:
    """The festivals (first day) between ``start`` and ``end`` inclusive."""
    calendar = holidays.country_holidays(
        "CN", years=range(start.year, end.year + 1), language="en_US"
    )
    found: dict[tuple[str, int], date] = {}
    for day, names in sorted(calendar.items()):
        for name in names.split("; "):
            code = FESTIVALS.get(name)
            if code and (code, day.year) not in found:
                found[(code, day.year)] = day
    return sorted(
        (Occasion(code, day) for (code, _y), day in found.items() if start <= day <= end),
        key=lambda o: o.on,
    )


def next_anniversary(origin: date, start: date) -> date:
    """The first anniversary of ``origin`` on or after ``start`` (29 Feb → 28 Feb)."""
    for year in (start.year, start.year + 1):
        try:
            day = origin.replace(year=year)
        except ValueError:
            day = date(year, 2, 28)
        if day >= start:
            return day
    raise AssertionError("unreachable")


def _day_filter(field: str, start: date, end: date) -> Q:
    q = Q()
    day = start
    while day <= end:
        q |= Q(**{f"{field}__month": day.month, f"{field}__day": day.day})
        if day.month == 2 and day.day == 28:
            q |= Q(**{f"{field}__month": 2, f"{field}__day": 29})
        day += timedelta(days=1)
    return q


def template_for(occasion: str, *, language: str, channel: str) -> MessageTemplate | None:
    """The active template of an occasion for a channel, else the one for any channel."""
    rows = MessageTemplate.objects.filter(occasion=occasion, language=language, is_active=True)
    return rows.filter(channel=channel).first() or rows.filter(channel="").first()


def template_text(occasion: str, *, language: str, channel: str) -> str:
    """The text with its placeholders: the template table's, else the built-in one."""
    row = template_for(occasion, language=language, channel=channel)
    if row is not None:
        return row.body
    texts = DEFAULT_TEXTS.get(language, DEFAULT_TEXTS["zh-hans"])
    return texts.get(occasion, texts["festival"])


def fill(text: str, *, occasion: str, language: str, **values) -> str:
    """``text`` with its placeholders filled (unknown ones are left as they are)."""
    with translation.override(language):
        values.setdefault("occasion", str(OCCASION_NAMES.get(occasion, occasion)))
    return text.format_map(_Blank(values))


def draft(occasion: str, *, language: str, channel: str, **values) -> str:
    """The care message for an occasion in a language, from the template table or the
    built-in text, with the placeholders filled (unknown ones are left as they are)."""
    text = template_text(occasion, language=language, channel=channel)
    return fill(text, occasion=occasion, language=language, **values)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _tiers() -> dict[int, str]:
    """Each evaluated client's tier, read through the client's ``classification`` (the
    evaluation writes it; engagement, below it, only reads the relation)."""
    from fincrm.customers.models import Customer

    evaluated = Customer.objects.filter(classification__isnull=False)
    return dict(evaluated.values_list("pk", "classification__tier"))


@dataclass(frozen=True)
class CareDue:
    """One occasion of one client: ``customer`` holds :data:`CARE_FIELDS` of the client,
    ``key`` names the occasion and year (the care task's and the care message's source)."""

    customer: dict
    occasion: Occasion
    contact_name: str
    contact_id: int | None
    manager: str
    key: str


CARE_FIELDS = ("pk", "name", "kind", "owner_id", "birthday", "founded_on", "owner__first_name",
               "owner__last_name", "owner__username")  # fmt: skip


def care_occasions(start: date, end: date) -> Iterator[CareDue]:
    """Every care occasion between ``start`` and ``end`` of every client with a manager,
    whatever its tier (birthdays of persons and key contacts, founding anniversaries,
    festivals)."""
    from fincrm.customers.models import Contact, Customer

    fields = CARE_FIELDS
    customers = Customer.objects.filter(owner__isnull=False)

    def manager(c) -> str:
        return f"{c['owner__last_name']}{c['owner__first_name']}" or c["owner__username"]

    for c in customers.filter(_day_filter("birthday", start, end)).values(*fields).iterator():
        day = next_anniversary(c["birthday"], start)
        yield CareDue(c, Occasion("birthday", day), c["name"], None, manager(c),
                      f"care:birthday:{day.year}")  # fmt: skip
    for c in customers.filter(_day_filter("founded_on", start, end)).values(*fields).iterator():
        day = next_anniversary(c["founded_on"], start)
        years = day.year - c["founded_on"].year
        if years > 0:
            yield CareDue(c, Occasion("founding_anniversary", day, years), c["name"], None,
                          manager(c), f"care:founded:{day.year}")  # fmt: skip
    contacts = (
        Contact.objects.filter(is_key=True, customer__owner__isnull=False)
        .filter(_day_filter("birthday", start, end))
        .values("pk", "name", "birthday", *[f"customer__{f}" for f in fields])
    )
    for row in contacts.iterator():
        c = {f: row[f"customer__{f}"] for f in fields}
        day = next_anniversary(row["birthday"], start)
        yield CareDue(c, Occasion("contact_birthday", day), row["name"], row["pk"], manager(c),
                      f"care:contact:{row['pk']}:{day.year}")  # fmt: skip
    upcoming = festivals(start, end)
    if upcoming:
        for c in customers.values(*fields).iterator(chunk_size=5_000):
            for occasion in upcoming:
                yield CareDue(c, occasion, c["name"], None, manager(c),
                              f"care:{occasion.code}:{occasion.on.year}")  # fmt: skip


def care_values(due: CareDue) -> dict:
    """The placeholders' values of a care message."""
    return {
        "client": due.customer["name"],
        "contact": due.contact_name,
        "manager": due.manager,
        "years": due.occasion.years or "",
        "date": due.occasion.on.isoformat(),
    }


@transaction.atomic
def care_tasks_plan(*, as_of: date | None = None, horizon_days: int = 30) -> int:
    """Create the care tasks of the next ``horizon_days`` for every client, by its tier's
    care plan (clients not evaluated yet follow the ordinary plan). Idempotent: a client has
    one open task per occasion and year. Returns how many tasks were created."""
    as_of = as_of or timezone.localdate()
    end = as_of + timedelta(days=horizon_days + 60)  # the longest lead time fits
    plans = policy_config(policy_active()).care_plans
    tiers = _tiers()
    rows: list[tuple] = []
    for due in care_occasions(as_of, end):
        customer, occasion = due.customer, due.occasion
        plan = plans[tiers.get(customer["pk"], "ordinary")]
        if occasion.code not in plan.occasions:
            continue
        due_on = occasion.on - timedelta(days=plan.lead_days)
        if not as_of <= due_on <= as_of + timedelta(days=horizon_days):
            continue
        message = draft(occasion.code, language="zh-hans", channel=plan.channel,
                        **care_values(due))  # fmt: skip
        with translation.override("zh-hans"):
            name = str(OCCASION_NAMES[occasion.code])
        title = f"{name} · {occasion.on:%m-%d}" + (" · 🎁" if plan.gift else "")
        rows.append(
            (customer["pk"], customer["owner_id"], TaskKind.CARE, title[:200], message,
             plan.channel, "normal", due_on, TaskStatus.OPEN, due.key[:40], timezone.now())
        )  # fmt: skip
    columns = ("customer_id", "owner_id", "kind", "title", "detail", "channel", "priority",
               "due_on", "status", "source_key", "created_at")  # fmt: skip
    # One care task per client, occasion and year, whether or not the last one is done.
    done = set(
        Task.objects.filter(source_key__startswith="care:", due_on__gte=as_of - timedelta(days=90))
        .values_list("customer_id", "source_key")
        .iterator(chunk_size=10_000)
    )
    rows = [r for r in rows if (r[0], r[9]) not in done]
    return insert_rows(Task, columns, rows, ignore_conflicts=True)


@transaction.atomic
def care_log_sent(*, task: Task, user, channel: str, message: str):
    """Record that staff sent the care message themselves: an interaction now, the task
    closed. Returns the ``Interaction``. (Sending through a gateway is messaging's:
    ``fincrm.messaging.care.care_send``, which comes here when no gateway carries the
    channel.)"""
    interaction = interaction_log(
        customer=task.customer,
        channel=channel or task.channel or InteractionChannel.WECHAT,
        subject=task.title,
        summary=message,
        outcome=Outcome.INFO_SENT,
        created_by=user,
    )
    task_complete(task=task)
    return interaction
