"""A part of a partitioned run is evaluated once however often its job is delivered, and a
part whose worker died is queued again (the lease is the part's row lock)."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fincrm.evaluation.choices import RunStatus
from fincrm.evaluation.models import EvaluationPart, Snapshot
from fincrm.evaluation.services import (
    evaluation_part_run,
    evaluation_parts_requeue,
    evaluation_run_partitioned,
)
from fincrm.settings import tasks_queue
from fincrm.testing.factories import CustomerFactory

AS_OF = date(2026, 6, 15)
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks between connections: PostgreSQL"
)


def _part_jobs(part: EvaluationPart) -> int:
    return sum(
        1
        for job in DBTaskResult.objects.filter(task_path__endswith="evaluate_part")
        if job.args_kwargs["args"] == [part.pk]
    )


@pytest.fixture
def partitioned(users):
    for _ in range(12):
        CustomerFactory(owner=users["manager_a"])
    # An explicit day (the run's start stays real: its assessments' partition is bounded by it).
    run = evaluation_run_partitioned(part_size=4, as_of=AS_OF)
    return run, list(EvaluationPart.objects.filter(run=run).order_by("first_id"))


@pytest.mark.django_db
def test_a_part_delivered_twice_is_evaluated_once(partitioned):
    run, parts = partitioned
    first = evaluation_part_run(parts[0].pk, worker="h:1:a")
    again = evaluation_part_run(parts[0].pk, worker="h:2:b")
    assert first.status == again.status == RunStatus.SUCCEEDED
    assert again.worker == "h:1:a" and again.attempts == 1
    assert Snapshot.objects.filter(run=run).count() == first.customers_evaluated == 4


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_second_job_of_a_running_part_waits_and_writes_nothing(partitioned, settings):
    run, parts = partitioned
    settings.EVALUATION_PART_PAUSE = 1.0  # the first job holds the part for a second
    results = {}

    def deliver(name: str) -> None:
        try:
            results[name] = evaluation_part_run(parts[0].pk, worker=f"h:{name}:t")
        finally:
            connection.close()

    first = threading.Thread(target=deliver, args=("1",))
    first.start()
    deadline = time.monotonic() + 60
    while not EvaluationPart.objects.filter(pk=parts[0].pk, started_at__isnull=False).exists():
        assert time.monotonic() < deadline, "the first job never took the part"
        time.sleep(0.02)
    second = threading.Thread(target=deliver, args=("2",))
    second.start()
    first.join(60)
    second.join(60)
    assert results["1"].status == results["2"].status == RunStatus.SUCCEEDED
    assert results["2"].worker == "h:1:t" and results["2"].attempts == 1
    assert Snapshot.objects.filter(run=run).count() == 4


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_only_a_taken_part_no_worker_holds_is_queued_again(partitioned):
    run, (dead, alive, queued) = partitioned
    EvaluationPart.objects.filter(pk__in=[dead.pk, alive.pk]).update(started_at=timezone.now())
    jobs_before = _part_jobs(dead)
    holding, release = threading.Event(), threading.Event()

    def live_worker() -> None:  # holds its part's row as evaluation_part_run does
        try:
            with transaction.atomic():
                list(EvaluationPart.objects.select_for_update().filter(pk=alive.pk))
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=live_worker)
    thread.start()
    try:
        assert holding.wait(30)
        assert evaluation_parts_requeue(run_id=run.pk) == [dead.pk]
    finally:
        release.set()
        thread.join(30)
    dead.refresh_from_db()
    assert dead.started_at is None  # back to queued: not requeued again until taken again
    assert _part_jobs(dead) == jobs_before + 1
    assert _part_jobs(alive) == _part_jobs(queued) == 1  # the coordinator's job only
    assert evaluation_parts_requeue(run_id=run.pk) == [alive.pk]  # its worker let go


def test_the_queue_is_the_database_unless_a_redis_url_is_given():
    tasks, queues, apps = tasks_queue("")
    assert tasks["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert (queues, apps) == ({}, [])
    tasks, queues, apps = tasks_queue("redis://cache.internal:6380/2")
    assert tasks["default"]["BACKEND"] == "django_tasks_rq.RQBackend"
    assert queues["default"]["URL"] == "redis://cache.internal:6380/2"
    assert apps == ["django_rq", "django_tasks_rq"]
    with pytest.raises(ImproperlyConfigured, match="FINCRM_TASKS_URL must be empty"):
        tasks_queue("amqp://rabbit/")
