"""Webhook delivery through the Django tasks API (``fincrm db_worker``): a job per event's
deliveries, a job at each failed delivery's next attempt (queued by the attempt itself,
whoever made it), and a sweep every few minutes for deliveries whose job was lost."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks import task

#: How often the scheduled sweep looks for due deliveries whose job was lost.
SWEEP_EVERY = timedelta(minutes=15)


def _attempt(delivery_id: int) -> bool:
    from .models import DeliveryStatus
    from .services import attempt

    delivery = attempt(delivery_id)  # a failure queues its own retry
    return delivery is not None and delivery.status == DeliveryStatus.DELIVERED


@task()
def deliver_batch(delivery_ids: list[int]) -> int:
    """The deliveries of one event; returns how many were delivered at the first try."""
    return sum(_attempt(pk) for pk in delivery_ids)


@task()
def deliver_one(delivery_id: int) -> bool:
    """A retry, run at the delivery's back-off time."""
    return _attempt(delivery_id)


@task()
def sweep() -> int:
    """Attempt every due delivery, then queue the next sweep (``fincrm webhooks --schedule``
    starts the chain)."""
    from .services import deliver_pending

    try:
        return deliver_pending()
    finally:
        schedule_sweep()


def schedule_sweep(now: datetime | None = None) -> datetime | None:
    """Queue the next sweep unless one is already waiting; returns when it runs (None when
    one was already queued)."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(
        task_path=f"{__name__}.sweep", status=TaskResultStatus.READY, run_after__gt=timezone.now()
    )
    if waiting.exists():
        return None
    when = (now or timezone.now()) + SWEEP_EVERY
    sweep.using(run_after=when).enqueue()
    return when
