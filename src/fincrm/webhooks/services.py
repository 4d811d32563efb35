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


def attempt(delivery_id: int) -> Delivery | None:
    """Attempt one delivery if it is still pending and due, holding its row so that two
    workers never send it at the same time. Returns it (None when nothing was due)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("subscriber")
            .filter(
                pk=delivery_id,
                status=DeliveryStatus.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        return deliver(delivery) if delivery is not None else None


def deliver(delivery: Delivery) -> Delivery:
    """One attempt: POST the signed JSON; 2xx = delivered, anything else = retry later."""
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
    delivery.attempts += 1
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            code = response.status
        error = ""
    except urllib.error.HTTPError as exc:
        code, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        code, error = None, f"{type(exc).__name__}: {exc}"[:300]
    delivery.last_status_code, delivery.last_error = code, error
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, timezone.now()
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
    delivery.save()
    return delivery


def deliver_pending(limit: int = 500) -> int:
    """Attempt every pending delivery that is due (oldest first): the sweeper behind
    ``fincrm webhooks``, for deliveries whose task was lost. Returns how many were tried."""
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
