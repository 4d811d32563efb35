"""A run left ``running`` by a process that died is failed by the next run's start (issue 20),
so the runs page stops showing it in progress and the archive can move it; a run that is
merely slow is left alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fincrm.evaluation import services
from fincrm.evaluation.choices import RunKind, RunStatus
from fincrm.evaluation.models import EvaluationPart, EvaluationRun

from .conftest import AS_OF

pytestmark = pytest.mark.django_db


def _running(started_ago: timedelta) -> EvaluationRun:
    run = EvaluationRun.objects.create(
        kind=RunKind.FULL, policy=services.policy_active(), as_of=AS_OF,
        started_at=timezone.now() - started_ago,
    )  # fmt: skip
    EvaluationPart.objects.create(run=run, first_id=1, end_id=100)
    return run


def test_the_next_run_fails_a_run_whose_process_died(book):
    dead = _running(services.STALE_RUN_AFTER + timedelta(minutes=5))
    slow = _running(timedelta(minutes=10))

    run = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)

    assert run.status == RunStatus.SUCCEEDED
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED and dead.finished_at is not None
    assert "abandoned" in dead.error
    assert set(dead.parts.values_list("status", flat=True)) == {RunStatus.FAILED}
    slow.refresh_from_db()
    assert slow.status == RunStatus.RUNNING
    assert set(slow.parts.values_list("status", flat=True)) == {RunStatus.RUNNING}


def test_failing_stale_runs_is_idempotent(book):
    _running(services.STALE_RUN_AFTER * 2)
    assert services.evaluation_runs_fail_stale() == 1
    assert services.evaluation_runs_fail_stale() == 0
