"""Background work of the evaluation engine, through the Django tasks API.

- ``evaluate_customers`` re-evaluates a few clients right after their data changed (a
  payment, a stage move, an edit): services call :func:`customer_changed` and the task runs
  after the transaction commits, in ``fincrm db_worker``.
- ``nightly_evaluation`` runs the full evaluation and queues itself for the next night.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from .choices import RunKind

NIGHTLY_AT = time(2, 0)


@task()
def evaluate_customers(customer_ids: list[int]) -> int:
    from .services import evaluation_run

    return evaluation_run(kind=RunKind.EVENT, customer_ids=customer_ids).pk


@task()
def evaluate_part(part_id: int) -> int:
    """One id range of a partitioned full run (``evaluation_run_partitioned``)."""
    import os
    import socket
    import threading

    from .services import evaluation_part_run

    worker = f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"
    return evaluation_part_run(part_id, worker=worker).customers_evaluated


@task()
def nightly_evaluation() -> int:
    from .services import evaluation_run

    try:
        return evaluation_run(kind=RunKind.FULL).pk
    finally:
        schedule_nightly()


def next_night(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now or timezone.now())
    at = now.replace(hour=NIGHTLY_AT.hour, minute=NIGHTLY_AT.minute, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def schedule_nightly() -> datetime:
    when = next_night()
    nightly_evaluation.using(run_after=when).enqueue()
    return when


def customer_changed(customer_id: int) -> None:
    """Re-evaluate one client once the current transaction has committed."""
    transaction.on_commit(lambda: evaluate_customers.enqueue([customer_id]))
