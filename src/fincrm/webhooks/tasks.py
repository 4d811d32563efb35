"""Webhook delivery through the Django tasks API (``fincrm db_worker``): each delivery has at
most one job waiting for it, scheduled at its next attempt."""

from __future__ import annotations

from django_tasks import task


def _attempt_and_reschedule(delivery_id: int) -> bool:
    from .models import DeliveryStatus
    from .services import attempt

    delivery = attempt(delivery_id)
    if delivery is not None and delivery.status == DeliveryStatus.PENDING:
        deliver_one.using(run_after=delivery.next_attempt_at).enqueue(delivery_id)
    return delivery is not None and delivery.status == DeliveryStatus.DELIVERED


@task()
def deliver_batch(delivery_ids: list[int]) -> int:
    """The deliveries of one event; returns how many were delivered at the first try."""
    return sum(_attempt_and_reschedule(pk) for pk in delivery_ids)


@task()
def deliver_one(delivery_id: int) -> bool:
    """A retry, run at the delivery's back-off time."""
    return _attempt_and_reschedule(delivery_id)
