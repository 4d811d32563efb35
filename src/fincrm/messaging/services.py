"""Writes of the messaging layer: queue a message under the rules, deliver it with retries,
record what the gateway and the client said (delivery reports, opt-outs)."""

from __future__ import annotations

import logging
import mimetypes
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from fincrm.core.policy import policy_active, policy_config

from . import gateways
from .choices import (
    ConsentSource,
    ConsentStatus,
    MessageChannel,
    MessageKind,
    MessageStatus,
)
from .models import Consent, Message
from .protection import Standing, refusal, send_after

if TYPE_CHECKING:
    from fincrm.customers.models import Contact, Customer
    from fincrm.engagement.models import MessageTemplate, Task

log = logging.getLogger(__name__)

MSG_NO_GATEWAY = _("No gateway is configured for this channel.")
MSG_UNSUBSCRIBE = _("To stop these e-mails: %(link)s")
MSG_SMS_REPLY = _("SMS reply")
#: Appended to marketing SMS, as Chinese carriers require of them.
SMS_OPT_OUT_HINT = "拒收请回复TD"
#: An SMS reply that is one of these (any case, spaces ignored) opts the sender out of SMS.
STOP_WORDS = frozenset({"TD", "T", "N", "退订", "退", "取消"})
#: Attempts before a message is marked failed; the back-off doubles from one minute.
MAX_ATTEMPTS = 6
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=2)
#: A message taken by a worker is not taken by another for this long (the worker's lease).
LEASE = timedelta(minutes=5)
UNSUBSCRIBE_SALT = "fincrm.messaging.unsubscribe"

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def mainland_mobile(number: str | None) -> str:
    """``+86 138-0013-8000`` → ``13800138000``; empty when it is not a mainland mobile."""
    digits = re.sub(r"[\s\-()]", "", number or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == 11 + len(prefix):
            digits = digits[len(prefix) :]
    return digits if _MOBILE.match(digits) else ""


def _enqueue(ids: list[int], run_after: datetime | None = None) -> None:
    from .tasks import deliver_messages

    task = deliver_messages.using(run_after=run_after) if run_after else deliver_messages
    for start in range(0, len(ids), 100):
        task.enqueue(ids[start : start + 100])


RELATIONS = ("customer", "contact", "template", "task", "interaction", "created_by")


@dataclass
class Outline:
    """One message of :func:`messages_send`: to whom, what, and what it is for."""

    customer: Customer
    text: str
    contact: Contact | None = None
    subject: str = ""
    template: MessageTemplate | None = None
    template_params: dict | None = None
    source_key: str = ""
    task: Task | None = None
    #: The storage name of a file an e-mail carries (a value-added report).
    attachment: str = ""


@transaction.atomic
def message_send(
    *,
    customer,
    channel: str,
    text: str,
    contact=None,
    subject: str = "",
    kind: str = MessageKind.OTHER,
    template=None,
    template_params: dict | None = None,
    source_key: str = "",
    task=None,
    attachment: str = "",
    urgent: bool = False,
    marketing: bool = False,
    created_by=None,
    now: datetime | None = None,
) -> Message:
    """Queue a message to a client (or one of its contacts) on ``channel``, if the rules let
    it go; a background task sends it (``fincrm db_worker``) and logs it as an interaction.

    The rules: the client's opt-out, the frequency cap of its tier, no marketing in
    collections or with an open complaint (:func:`fincrm.messaging.protection.refusal`); an
    SMS or WeChat message that is not urgent waits for the end of the quiet hours. A message
    the rules keep back is recorded as ``blocked`` with the reason. ``urgent`` is for
    collections and security. ``source_key`` makes it idempotent (one message per client and
    key); ``task`` is closed once it is sent; ``attachment`` names a file in the storage that an
    e-mail carries. ``now`` is the moment the rules see (a daily job
    replaying another day passes that day's clock); the delay they impose runs from the real
    clock. Returns the message."""
    outline = Outline(customer=customer, text=text, contact=contact, subject=subject,
                      template=template, template_params=template_params,
                      source_key=source_key, task=task, attachment=attachment)  # fmt: skip
    (message,) = messages_send(outlines=[outline], channel=channel, kind=kind, urgent=urgent,
                               marketing=marketing, created_by=created_by, now=now)  # fmt: skip
    return message


def _in_chunks(ids: list[int], size: int = 5_000):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _standings(ids: list[int], *, channel: str, now: datetime, rules, marketing: bool) -> dict:
    """What the rules need of many clients on one channel, in a few queries per 5,000."""
    # The tier (evaluation) and the arrears (financing) are read through the client's
    # relations: both apps sit above messaging, which must not import them.
    from fincrm.customers.models import Customer
    from fincrm.service.choices import TicketKind
    from fincrm.service.models import Ticket

    tiers: dict[int, str] = {}
    opted: set[int] = set()
    sent: Counter[int] = Counter()
    collections: set[int] = set()
    complaints: set[int] = set()
    live = (MessageStatus.QUEUED, MessageStatus.SENT, MessageStatus.DELIVERED)
    for chunk in _in_chunks(ids):
        tiers.update(Customer.objects.filter(pk__in=chunk, classification__isnull=False)
                     .values_list("pk", "classification__tier"))  # fmt: skip
        opted.update(Consent.objects.filter(customer_id__in=chunk, channel=channel,
                                            status=ConsentStatus.OPTED_OUT)
                     .values_list("customer_id", flat=True))  # fmt: skip
        window = Message.objects.filter(
            customer_id__in=chunk, channel=channel, urgent=False, status__in=live,
            created_at__gt=now - timedelta(days=rules.cap_window_days), created_at__lte=now,
        )  # fmt: skip
        sent.update(dict(window.values_list("customer_id").annotate(n=Count("pk"))))
        if marketing:
            collections.update(Customer.objects.filter(pk__in=chunk,
                                                       facilities__days_past_due__gt=0)
                               .values_list("pk", flat=True))  # fmt: skip
            complaints.update(Ticket.objects.filter(customer_id__in=chunk,
                                                    kind=TicketKind.COMPLAINT).open()
                              .values_list("customer_id", flat=True))  # fmt: skip
    return {
        pk: {
            "tier": tiers.get(pk) or "ordinary",
            "opted_out": pk in opted,
            "sent_in_window": sent[pk],
            "in_collections": pk in collections,
            "open_complaint": pk in complaints,
        }
        for pk in ids
    }


def _addresses(outlines: list[Outline], channel: str) -> list[tuple[str, Contact | None]]:
    """Each outline's address and the contact it belongs to: the contact named, else the
    client itself (a person's mobile or e-mail), else its key contacts, then the others (the
    clients' contacts read once for all)."""
    from fincrm.customers.models import Contact

    def address_of(obj) -> str:
        if channel == MessageChannel.SMS:
            return mainland_mobile(obj.phone)
        if channel == MessageChannel.EMAIL:
            return obj.email or ""
        return getattr(obj, "wechat_id", "") or ""

    lacking = [o.customer.pk for o in outlines if o.contact is None and not address_of(o.customer)]
    contacts: dict[int, list] = {}
    for chunk in _in_chunks(lacking):
        for person in Contact.objects.filter(customer_id__in=chunk).order_by("-is_key", "pk"):
            contacts.setdefault(person.customer_id, []).append(person)
    found: list[tuple[str, Contact | None]] = []
    for o in outlines:
        if o.contact is not None:
            found.append((address_of(o.contact), o.contact))
        elif address_of(o.customer):
            found.append((address_of(o.customer), None))
        else:
            person = next((p for p in contacts.get(o.customer.pk, ()) if address_of(p)), None)
            found.append((address_of(person), person) if person else ("", None))
    return found


def refusals_by_channel(
    *,
    customers: list,
    channels: list[str],
    marketing: bool = False,
    urgent: bool = False,
    now: datetime | None = None,
) -> dict[int, dict[str, str | None]]:
    """For each client and channel, why the rules would keep a message back (a
    :class:`~fincrm.messaging.choices.BlockReason`) or None when it may go: the same
    addresses and standings :func:`messages_send` reads, in bulk, so a caller can choose a
    channel per client before it sends (a campaign's fallback). Quiet hours are not a
    refusal: they delay a message, they do not forbid it."""
    now = now or timezone.now()
    rules = policy_config(policy_active()).messaging
    ids = sorted({c.pk for c in customers})
    outlines = [Outline(customer=c, text="") for c in customers]
    found: dict[int, dict[str, str | None]] = {pk: {} for pk in ids}
    for channel in channels:
        standings = _standings(ids, channel=channel, now=now, rules=rules, marketing=marketing)
        for outline, (address, _contact) in zip(
            outlines, _addresses(outlines, channel), strict=True
        ):
            pk = outline.customer.pk
            standing = Standing(has_address=bool(address), **standings[pk])
            found[pk][channel] = refusal(standing, rules=rules, channel=channel,
                                         marketing=marketing, urgent=urgent)  # fmt: skip
    return found


@transaction.atomic
def messages_send(
    *,
    outlines: list[Outline],
    channel: str,
    kind: str = MessageKind.OTHER,
    urgent: bool = False,
    marketing: bool = False,
    created_by=None,
    now: datetime | None = None,
) -> list[Message]:
    """:func:`message_send` for many clients at once (a daily job's greetings, a campaign):
    the same rules, read in bulk and written with one insert per thousand messages. Returns
    the messages in the order of ``outlines`` (an existing one for a source key already
    used)."""
    real_now = timezone.now()
    now = now or real_now
    rules = policy_config(policy_active()).messaging
    ids = sorted({o.customer.pk for o in outlines})
    keys = {o.source_key[:60] for o in outlines if o.source_key}
    existing: dict[tuple[int, str], Message] = {}
    if keys:
        for chunk in _in_chunks(ids):
            for m in Message.objects.filter(customer_id__in=chunk, source_key__in=keys):
                existing[(m.customer_id, m.source_key)] = m
    standings = _standings(ids, channel=channel, now=now, rules=rules, marketing=marketing)
    delay = send_after(now, rules=rules, channel=channel, urgent=urgent) - now
    has_gateway = channel == MessageChannel.EMAIL or bool(gateways.gateway_url(channel))
    result: list[Message] = []
    new: list[Message] = []
    for outline, (address, contact) in zip(outlines, _addresses(outlines, channel), strict=True):
        key = (outline.customer.pk, outline.source_key[:60])
        if outline.source_key and key in existing:
            result.append(existing[key])
            continue
        text = outline.text
        if marketing and channel == MessageChannel.SMS and SMS_OPT_OUT_HINT not in text:
            text = f"{text} {SMS_OPT_OUT_HINT}"
        message = Message(
            customer=outline.customer, contact=contact, channel=channel, address=address,
            subject=outline.subject[:200], text=text, template=outline.template,
            provider_template=getattr(outline.template, "provider_code", "") or "",
            template_params=outline.template_params or {}, kind=kind, marketing=marketing,
            urgent=urgent, source_key=outline.source_key[:60], task=outline.task,
            attachment=outline.attachment, created_by=created_by, created_at=now,
        )  # fmt: skip
        standing = Standing(has_address=bool(address), **standings[outline.customer.pk])
        reason = refusal(standing, rules=rules, channel=channel, marketing=marketing,
                         urgent=urgent)  # fmt: skip
        if reason is not None:
            message.status, message.reason = MessageStatus.BLOCKED, reason
        elif not has_gateway:
            message.status, message.reason = MessageStatus.FAILED, str(MSG_NO_GATEWAY)
        else:
            message.next_attempt_at = real_now + delay
            if not urgent:  # the next one to this client counts this one
                standings[outline.customer.pk]["sent_in_window"] += 1
        if outline.source_key:
            existing[key] = message
        new.append(message)
        result.append(message)
    for message in new:
        # Field checks only: the related rows are the caller's own objects (a query each
        # otherwise), the source key's uniqueness was checked above.
        message.full_clean(exclude=RELATIONS, validate_unique=False, validate_constraints=False)
    Message.objects.bulk_create(new, batch_size=1_000)
    for message in new:
        log.info("message %s to %s: %s %s", message.pk, message.address_masked,
                 message.status, message.reason)  # fmt: skip
    queued = [m.pk for m in new if m.status == MessageStatus.QUEUED]
    if queued:  # tasks of a hundred messages, at the end of the quiet hours if need be
        when = real_now + delay if delay > timedelta(0) else None
        transaction.on_commit(lambda: _enqueue(queued, when))
    return result


def backoff(attempts: int) -> timedelta:
    """After the n-th failed attempt: 1, 2, 4 … minutes, at most two hours."""
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def unsubscribe_url(customer_id: int, channel: str = MessageChannel.EMAIL) -> str:
    token = signing.dumps({"c": customer_id, "ch": channel}, salt=UNSUBSCRIBE_SALT)
    path = reverse("messaging:unsubscribe", args=[token])
    return settings.FINCRM_BASE_URL.rstrip("/") + path


def unsubscribe_token_read(token: str) -> tuple[int, str] | None:
    """The client and channel an unsubscribe link names, or None when it was tampered with."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return int(data["c"]), str(data["ch"])


def _outgoing(message: Message) -> gateways.Outgoing:
    text, headers = message.text, None
    attachments: tuple[tuple[str, bytes, str], ...] = ()
    if message.channel == MessageChannel.EMAIL:
        if message.attachment:
            with message.attachment.open("rb") as file:
                name = message.attachment.name.rsplit("/", 1)[-1]
                attachments = ((name, file.read(), mimetypes.guess_type(name)[0] or ""),)
        link = unsubscribe_url(message.customer_id)
        text = f"{text}\n\n--\n{MSG_UNSUBSCRIBE % {'link': link}}"
        headers = {
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return gateways.Outgoing(
        id=str(message.pk),
        to=message.address,
        text=text,
        subject=message.subject or message.get_kind_display(),
        template_code=message.provider_template,
        params=message.template_params or None,
        headers=headers,
        attachments=attachments,
    )


def _claim(message_id: int) -> Message | None:
    """Take a queued message that is due, for one attempt: its next attempt moves a lease
    ahead so no other worker takes it meanwhile (the gateway is called outside any
    transaction, so no row stays locked while a provider answers)."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=MessageStatus.QUEUED, next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return None
        message.attempts += 1
        message.next_attempt_at = now + LEASE
        message.save(update_fields=["attempts", "next_attempt_at"])
    return message


def message_attempt(message_id: int) -> Message | None:
    """One attempt at a queued message that is due (None when nothing was due): sent and
    logged as an interaction, or retried later with back-off, or failed with the gateway's
    reason once the attempts are spent or the failure is not worth retrying."""
    message = _claim(message_id)
    if message is None:
        return None
    gateway = gateways.gateway_for(message.channel)
    if gateway is None:
        result = gateways.Result(False, reason=str(MSG_NO_GATEWAY))
    else:
        result = gateway.send(_outgoing(message))
    return _record(message, result)


@transaction.atomic
def _record(message: Message, result: gateways.Result) -> Message:
    from fincrm.engagement.choices import Outcome, TaskStatus
    from fincrm.engagement.services import interaction_log, task_complete

    now = timezone.now()
    if result.ok:
        message.status, message.sent_at, message.reason = MessageStatus.SENT, now, ""
        message.provider_id = result.provider_id[:100]
        message.next_attempt_at = None
        message.interaction = interaction_log(
            customer=message.customer,
            contact=message.contact,
            channel=message.channel,
            subject=(message.subject or message.get_kind_display())[:200],
            summary=message.text,
            outcome=Outcome.INFO_SENT,
            created_by=message.created_by,
            occurred_at=now,
        )
        if message.task is not None and message.task.status == TaskStatus.OPEN:
            task_complete(task=message.task)
    elif result.retry and message.attempts < MAX_ATTEMPTS:
        rules = policy_config(policy_active()).messaging
        message.reason = result.reason[:300]
        message.next_attempt_at = send_after(
            now + backoff(message.attempts),
            rules=rules,
            channel=message.channel,
            urgent=message.urgent,
        )
        pk, when = message.pk, message.next_attempt_at
        transaction.on_commit(lambda: _enqueue([pk], when))
    else:
        message.status, message.reason = MessageStatus.FAILED, result.reason[:300]
        message.next_attempt_at = None
    message.save()
    log.info(
        "message %s to %s (attempt %s): %s %s",
        message.pk,
        message.address_masked,
        message.attempts,
        message.status,
        message.reason,
    )
    return message


def messages_deliver_due(limit: int = 500) -> int:
    """Attempt every queued message that is due, oldest first (a sweeper for messages whose
    task was lost). Returns how many were attempted."""
    due = list(
        Message.objects.filter(status=MessageStatus.QUEUED, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(message_attempt(pk) is not None for pk in due)


@transaction.atomic
def message_delivery_report(*, message: Message, delivered: bool, reason: str = "") -> Message:
    """What the gateway reported later: delivered to the handset, or not (and why)."""
    if message.status in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED):
        if delivered:
            message.status, message.delivered_at = MessageStatus.DELIVERED, timezone.now()
        else:
            message.status, message.reason = MessageStatus.FAILED, reason[:300]
        message.save(update_fields=["status", "delivered_at", "reason"])
    return message


@transaction.atomic
def consent_set(
    *, customer, channel: str, status: str, source: str, note: str = "", now=None
) -> Consent:
    """Record a client's consent or opt-out on a channel (the latest word counts)."""
    consent, _created = Consent.objects.update_or_create(
        customer=customer,
        channel=channel,
        defaults={
            "status": status,
            "source": source,
            "note": note[:200],
            "changed_at": now or timezone.now(),
        },
    )
    return consent


def sms_reply_receive(*, phone: str, text: str, now: datetime | None = None) -> int:
    """An SMS reply from ``phone``: logged as an inbound SMS on the timeline of every client
    with that mobile (its own or a contact's), which is how a campaign counts its replies; a
    stop word (退订, TD …) also opts them out of SMS. Returns how many clients opted out."""
    from fincrm.customers.models import Contact, Customer
    from fincrm.engagement.services import interaction_log

    word = re.sub(r"\s+", "", text or "").upper()
    number = mainland_mobile(phone)
    if not number:
        return 0
    own = Customer.objects.filter(phone=number).values_list("pk", flat=True)
    senders: dict[int, object] = dict.fromkeys(own)
    for contact in Contact.objects.filter(phone=number).order_by("pk"):
        senders.setdefault(contact.customer_id, contact)
    with translation.override("zh-hans"):
        subject = str(MSG_SMS_REPLY)
    for customer in Customer.objects.filter(pk__in=senders):
        interaction_log(customer=customer, contact=senders[customer.pk],
                        channel=MessageChannel.SMS, direction="in", subject=subject,
                        summary=(text or "")[:2000], created_by=None,
                        occurred_at=now)  # fmt: skip
        if word in STOP_WORDS:
            consent_set(
                customer=customer,
                channel=MessageChannel.SMS,
                status=ConsentStatus.OPTED_OUT,
                source=ConsentSource.SMS_REPLY,
                note=text[:200],
            )
    return len(senders) if word in STOP_WORDS else 0


def inbound_token() -> str:
    """The secret path segment of the inbound URL gateways post replies and delivery reports
    to (derived from the site's secret key: shown to administrators on the outbox page)."""
    from django.utils.crypto import salted_hmac

    return salted_hmac("fincrm.messaging.inbound", "v1").hexdigest()[:32]


def inbound_receive(payload) -> dict[str, int]:
    """What a gateway pushes back, in its own format: replies (a stop word opts the sender
    out) and delivery reports. Understood: the generic ``{"from", "text"}`` and ``{"id",
    "status": "delivered"|"failed", "reason"}``; Tencent Cloud's reply (``mobile``, ``text``)
    and status callbacks (``sid``, ``report_status``, ``errmsg``); Alibaba Cloud's HTTP
    pushes of replies (``phone_number``, ``content``) and reports (``out_id``, ``success``,
    ``err_code``, ``err_msg``). Returns how many opt-outs and reports were taken."""
    items = payload if isinstance(payload, list) else [payload]
    counts = {"opted_out": 0, "reports": 0}
    for item in items:
        if not isinstance(item, dict):
            continue
        sender = item.get("from") or item.get("mobile") or item.get("phone_number")
        text = item.get("text") if "text" in item else item.get("content")
        if sender and text is not None and not item.get("report_status"):
            counts["opted_out"] += sms_reply_receive(phone=str(sender), text=str(text))
            continue
        message = None
        if item.get("id") or item.get("out_id"):
            pk = str(item.get("id") or item.get("out_id"))
            message = Message.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
        elif item.get("sid") or item.get("biz_id"):
            provider_id = str(item.get("sid") or item.get("biz_id"))
            message = Message.objects.filter(provider_id=provider_id).first()
        if message is None:
            continue
        if "report_status" in item:
            delivered = item["report_status"] == "SUCCESS"
            reason = f"{item.get('description', '')} {item.get('errmsg', '')}".strip()
        elif "success" in item:
            delivered = bool(item["success"])
            reason = f"{item.get('err_code', '')}: {item.get('err_msg', '')}"
        else:
            delivered = item.get("status") == "delivered"
            reason = str(item.get("reason", ""))
        message_delivery_report(message=message, delivered=delivered, reason=reason)
        counts["reports"] += 1
    return counts


def staff_notify(*, user, subject: str, text: str) -> list[str]:
    """Tell a member of staff (an alert digest): by e-mail through ``FINCRM_EMAIL_URL`` when
    they have an address, and as a WeCom application message when the WeChat gateway is
    WeCom (their WeCom user id being their login name). Staff messages are not client
    messages: no consent or caps, no outbox row. Sent at once (callers are background tasks).
    Returns the channels it went on."""
    went: list[str] = []
    outgoing = gateways.Outgoing(id=f"staff-{user.pk}", to="", text=text, subject=subject)
    if user.email:
        # gateway_for gives e-mail a gateway always (None is for other channels only).
        email = cast(gateways.Gateway, gateways.gateway_for(MessageChannel.EMAIL))
        result = email.send(replace(outgoing, to=user.email))
        if result.ok:
            went.append(MessageChannel.EMAIL)
        else:
            log.warning("e-mail to user %s failed: %s", user.pk, result.reason)
    wechat = gateways.gateway_for(MessageChannel.WECHAT)
    if isinstance(wechat, gateways.WeCom):
        result = wechat.send(replace(outgoing, to=user.username, text=f"{subject}\n{text}"))
        if result.ok:
            went.append(MessageChannel.WECHAT)
        else:
            log.warning("WeCom message to %s failed: %s", user.username, result.reason)
    return went
