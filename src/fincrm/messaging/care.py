"""Care messages that go by themselves: on an occasion's day, the greeting of every client
whose tier's care plan sends it by SMS or WeChat (visits and calls stay tasks for staff); and
the care message a member of staff sends from a care task (:func:`care_send`)."""

from __future__ import annotations

import string
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone, translation

from fincrm.core.policy import policy_active, policy_config

from . import gateways
from .choices import MessageChannel, MessageKind, MessageStatus
from .models import Message
from .protection import LOCAL
from .services import Outline, message_send, messages_send

#: Care plan channels a gateway delivers.
AUTOMATIC = (MessageChannel.SMS, MessageChannel.WECHAT)
#: A day replayed or run ahead (``fincrm daily --as-of``) sends as if at this local hour.
SEND_HOUR = 10


def placeholders(text: str) -> list[str]:
    """The placeholders of a template in the order they appear (each once)."""
    names: list[str] = []
    for _literal, name, _spec, _conversion in string.Formatter().parse(text):
        if name and name not in names:
            names.append(name)
    return names


def care_messages_queue(*, as_of: date | None = None) -> int:
    """Queue the care messages of ``as_of`` (idempotent: one message per client, occasion and
    year; the care task of the occasion, if any, is closed once its message is sent).
    Channels without a gateway are left to the care tasks. Returns how many were queued."""
    from fincrm.customers.models import Contact, Customer
    from fincrm.engagement.care import (
        OCCASION_NAMES,
        _tiers,
        care_occasions,
        care_values,
        fill,
        template_for,
        template_text,
    )
    from fincrm.engagement.choices import TaskKind, TaskStatus
    from fincrm.engagement.models import Task

    today = timezone.localdate()
    as_of = as_of or today
    now = timezone.now() if as_of == today else datetime.combine(as_of, time(SEND_HOUR), LOCAL)
    channels = {c for c in AUTOMATIC if gateways.gateway_url(c)}
    if not channels:
        return 0
    plans = policy_config(policy_active()).care_plans
    tiers = _tiers()
    wanted = []
    for due in care_occasions(as_of, as_of):
        plan = plans[tiers.get(due.customer["pk"], "ordinary")]
        if due.occasion.code in plan.occasions and plan.channel in channels:
            wanted.append((due, plan.channel))
    if not wanted:
        return 0
    customers = Customer.objects.in_bulk([due.customer["pk"] for due, _c in wanted])
    contacts = Contact.objects.in_bulk([d.contact_id for d, _c in wanted if d.contact_id])
    open_tasks = {
        (t.customer_id, t.source_key): t
        for t in Task.objects.filter(
            kind=TaskKind.CARE,
            status=TaskStatus.OPEN,
            customer_id__in=list(customers),
            source_key__in={due.key for due, _c in wanted},
        )
    }
    outlines: dict[str, list[Outline]] = {}
    texts: dict[tuple[str, str], tuple] = {}
    with translation.override("zh-hans"):
        for due, channel in wanted:
            code = due.occasion.code
            if (code, channel) not in texts:  # two queries per occasion, not per client
                texts[(code, channel)] = (
                    template_for(code, language="zh-hans", channel=channel),
                    template_text(code, language="zh-hans", channel=channel),
                )
            template, body = texts[(code, channel)]
            values = {"occasion": str(OCCASION_NAMES[code]), **care_values(due)}
            task = open_tasks.get((due.customer["pk"], due.key))
            drafted = fill(body, occasion=code, language="zh-hans", **care_values(due))
            outlines.setdefault(channel, []).append(
                Outline(
                    customer=customers[due.customer["pk"]],
                    contact=contacts.get(due.contact_id) if due.contact_id else None,
                    text=(task.detail if task else "") or drafted,
                    subject=f"{values['occasion']} · {due.occasion.on:%m-%d}",
                    template=template,
                    template_params={n: str(values.get(n, "")) for n in placeholders(body)},
                    source_key=due.key,
                    task=task,
                )
            )
    last = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for channel, batch in outlines.items():
        messages_send(outlines=batch, channel=channel, kind=MessageKind.CARE, now=now)
    return Message.objects.filter(pk__gt=last, status=MessageStatus.QUEUED).count()


@transaction.atomic
def care_send(*, task, user, channel: str, message: str):
    """Send a care task's message: through the channel's gateway when one is configured
    (queued; once sent it is logged as an interaction and the task closes), else record that
    staff sent it themselves (an interaction now, the task closed:
    ``fincrm.engagement.care.care_log_sent``). Returns the queued ``Message`` or the
    ``Interaction``."""
    from fincrm.engagement.care import care_log_sent
    from fincrm.engagement.choices import InteractionChannel

    channel = channel or task.channel or InteractionChannel.WECHAT
    if channel in MessageChannel.values and gateways.gateway_url(channel):
        return message_send(customer=task.customer, channel=channel, text=message,
                            subject=task.title, kind=MessageKind.CARE, task=task,
                            created_by=user)  # fmt: skip
    return care_log_sent(task=task, user=user, channel=channel, message=message)
