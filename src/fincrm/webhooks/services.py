"""Emit events, deliver them signed, retry with back-off, redeliver on request.

Signature: ``X-Fincrm-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with the
subscriber's secret, ``X-Fincrm-Timestamp`` the Unix time it was signed at (reject old ones to
stop replays), ``X-Fincrm-Event`` and ``X-Fincrm-Delivery`` (the delivery id: deduplicate on it,
since a delivery can arrive more than once when an answer is lost).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from fincrm.core.bulk import insert_rows

from .models import Delivery, DeliveryStatus, Subscriber

log = logging.getLogger(__name__)

#: Attempts before a delivery is marked failed (then only the redeliver button retries it).
MAX_ATTEMPTS = 8
#: Back-off after the n-th failed attempt: 1, 2, 4 … minutes, at most 6 hours.
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=6)
TIMEOUT_SECONDS = 10


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """What a subscriber does (documented and tested here)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def backoff(attempts: int) -> timedelta:
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def emit(event: str, payloads: Iterable[dict]) -> int:
    """One delivery per payload and interested subscriber, in the caller's transaction; the
    deliveries are sent after it commits. Returns how many were queued."""
    subscribers = [s for s in Subscriber.objects.filter(is_active=True) if s.wants(event)]
    if not subscribers:
        return 0
    now = timezone.now()
    rows = [
        (s.pk, event, json.dumps({"event": event, **p}, cls=DjangoJSONEncoder))
        for p in payloads
        for s in subscribers
    ]
    queued = insert_rows(
        Delivery,
        ["subscriber_id", "event", "payload"],
        rows,
        constants={"created_at": now, "next_attempt_at": now},
        json_text=["payload"],
    )
    if queued:
        ids = list(
            Delivery.objects.filter(created_at=now, event=event).values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: _enqueue(ids))
    return queued


def _enqueue(ids: list[int]) -> None:
    from .tasks import deliver_batch

    deliver_batch.enqueue(ids)


#: How long a claimed delivery is left alone by other workers while its request runs; a
#: worker that dies mid-request leaves it due again after this (at least once, never lost).
LEASE = timedelta(seconds=3 * TIMEOUT_SECONDS)


def attempt(delivery_id: int) -> Delivery | None:
    """Attempt one delivery if it is still pending and due. Returns it (None when nothing was
    due or another worker holds it).

    The delivery is claimed by one conditional ``UPDATE`` (its next attempt pushed past the
    request's time-out), so two workers never send it at once, and no transaction is open
    while the subscriber answers: on SQLite a slow subscriber would hold the write lock and
    stall every other write."""
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return None
    return deliver(Delivery.objects.select_related("subscriber").get(pk=delivery_id))


def deliver(delivery: Delivery) -> Delivery:
    """One attempt: POST the signed JSON; 2xx = delivered, anything else = retry later, with
    a job queued for the retry whoever made this attempt (a worker, the ``fincrm webhooks``
    sweeper, the redeliver button)."""
    if transaction.get_connection().in_atomic_block:
        log.warning("webhook delivery %s sent inside a transaction: a slow subscriber holds "
                    "the database", delivery.pk)  # fmt: skip
    code, error = _post(delivery)
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = code, error
    retry = False
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, timezone.now()
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
        retry = True
    delivery.save()
    if retry:
        _enqueue_retry(delivery)
    return delivery


def _post(delivery: Delivery) -> tuple[int | None, str]:
    """The HTTP request: (status code or None, error text)."""
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(
        delivery.subscriber.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "fincrm-webhooks/1",
            "X-Fincrm-Event": delivery.event,
            "X-Fincrm-Delivery": str(delivery.pk),
            "X-Fincrm-Timestamp": str(timestamp),
            "X-Fincrm-Signature": sign(delivery.subscriber.secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]


def _enqueue_retry(delivery: Delivery) -> None:
    """A job at the delivery's next attempt (after the current transaction, if any). A
    second job for the same delivery is harmless: the claim lets one of them send it."""
    from .tasks import deliver_one

    pk, when = delivery.pk, delivery.next_attempt_at
    transaction.on_commit(lambda: deliver_one.using(run_after=when).enqueue(pk))


def deliver_pending(limit: int = 500) -> int:
    """Attempt every pending delivery that is due (oldest first): the sweeper behind
    ``fincrm webhooks`` and the scheduled :func:`~fincrm.webhooks.tasks.sweep`, for
    deliveries whose job was lost. Returns how many were tried."""
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(attempt(pk) is not None for pk in due)


def redeliver(delivery: Delivery) -> Delivery:
    """The delivery log's button: send it again now, whatever happened before."""
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    return deliver(delivery)
