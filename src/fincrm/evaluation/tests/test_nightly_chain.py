"""The nightly chain: the full run, then the daily jobs, the predictions (insights hears the
run through ``core.events``, after commit) and the next night."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django_tasks_db.models import DBTaskResult

from fincrm.evaluation.tasks import nightly_evaluation

pytestmark = pytest.mark.django_db

DAILY = "fincrm.engagement.tasks.daily_service"
PREDICTIONS = "fincrm.insights.tasks.nightly_predictions"
NEXT_NIGHT = "fincrm.evaluation.tasks.nightly_evaluation"


def _queued() -> list[str]:
    return sorted(DBTaskResult.objects.values_list("task_path", flat=True))


def test_the_nightly_run_queues_the_daily_jobs_the_predictions_and_the_next_night(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(
        "fincrm.evaluation.services.evaluation_run", lambda kind: SimpleNamespace(pk=7)
    )
    monkeypatch.setattr("fincrm.evaluation.archive.history_archive", lambda: None)
    with django_capture_on_commit_callbacks(execute=True):
        assert nightly_evaluation.call() == 7
        assert _queued() == sorted([DAILY, NEXT_NIGHT])  # the predictions: once committed
    assert _queued() == sorted([DAILY, NEXT_NIGHT, PREDICTIONS])


def test_a_failed_run_queues_only_the_next_night(monkeypatch, django_capture_on_commit_callbacks):
    def broken(kind):
        raise RuntimeError("database gone")

    monkeypatch.setattr("fincrm.evaluation.services.evaluation_run", broken)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        nightly_evaluation.call()
    assert _queued() == [NEXT_NIGHT]
