"""A full run split into id ranges that task workers evaluate independently."""

from __future__ import annotations

import logging
import time
from datetime import date
from functools import partial

import polars as pl
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from fincrm.core import partitions
from fincrm.core.policy import policy_active, policy_config
from fincrm.customers.models import Customer
from fincrm.risk.models import CreditAssessment

from ..choices import RunKind, RunStatus
from ..features import fetch, load_features
from ..models import EvaluationPart, EvaluationRun, Snapshot
from ..risk import latest_grades
from .run import (
    _evaluate,
    _last_full_run,
    _refresh_arrears,
    evaluation_run,
    evaluation_runs_fail_stale,
)
from .scoring import score_frame
from .writes import _no_progress

log = logging.getLogger(__name__)


#: Clients per job of a partitioned run (by id range).
PART_SIZE = 100_000

#: The book-wide quantities (quantile cut-offs, clusters) are fitted on this many clients.
FIT_SAMPLE = 50_000


def evaluation_run_partitioned(
    *, part_size: int = PART_SIZE, as_of: date | None = None, seed: int = 0
) -> EvaluationRun:
    """A full run split into id ranges that task workers evaluate independently.

    The coordinator fits what needs the whole book on a random sample of clients (the tier
    cut-offs when they are quantiles, the k-means segmenter) and stores it on the run; then
    one ``evaluate_part`` job per range of ``part_size`` ids is queued (after commit). Each
    job writes its clients' results in its own transaction; the run succeeds when the last
    part does, and fails (previous classifications untouched for the failed range) if one
    fails.
    """
    from ..tasks import evaluate_part

    as_of = as_of or timezone.localdate()
    evaluation_runs_fail_stale()
    version = policy_active()
    policy = policy_config(version)
    _refresh_arrears(as_of, None)
    ids = fetch(Customer.objects.order_by("pk").values_list("pk"), {"customer_id": pl.Int64})
    if ids.is_empty():
        return evaluation_run(kind=RunKind.FULL, as_of=as_of)
    sample = ids.sample(min(FIT_SAMPLE, ids.height), seed=seed)["customer_id"].sort().to_list()
    features = load_features(as_of=as_of, customer_ids=sample)
    grades = latest_grades(sample)  # last known grades: the sample is not re-scored here
    features = features.drop("credit_grade").join(grades, on="customer_id", how="left")
    base = _last_full_run()
    scored = score_frame(
        features, policy, fit_clusters=True, previous_clusters=base.clusters if base else None
    )
    first, last = ids["customer_id"][0], ids["customer_id"][-1]
    with transaction.atomic():
        run = EvaluationRun.objects.create(
            kind=RunKind.FULL,
            policy=version,
            as_of=as_of,
            cutoffs=scored.cutoffs,
            clusters=scored.clusters,
        )
        parts = EvaluationPart.objects.bulk_create(
            EvaluationPart(run=run, first_id=lo, end_id=min(lo + part_size, last + 1))
            for lo in range(first, last + 1, part_size)
        )
        # The parts' snapshots and assessments land in partitions of the run (PostgreSQL).
        partitions.create_attached(Snapshot._meta.db_table, run.pk)
        partitions.create_attached(  # every part assesses at the run's start (``_evaluate``)
            CreditAssessment._meta.db_table, run.pk, bounds=partitions.instant(run.started_at)
        )
        for part in parts:
            transaction.on_commit(partial(evaluate_part.enqueue, part.pk))
    return run


def evaluation_part_run(part_id: int, *, worker: str = "") -> EvaluationPart:
    """Evaluate one id range of a partitioned run (what a worker's job does).

    Exactly once, whoever runs it and however often its job is delivered: the part's rows
    and its ``succeeded`` commit in one transaction, which first locks the part's row and
    checks it is still running. A second job of the same part waits for that lock and then
    finds the part done; a worker that dies leaves a transaction its database rolls back (and
    a lock it releases), so nothing of its attempt remains and the part is taken up again
    (``evaluation_parts_requeue``).
    """
    part = EvaluationPart.objects.select_related("run").get(pk=part_id)
    run = part.run
    if part.status != RunStatus.RUNNING:
        return part  # a retried job whose part already finished
    # Committed before the work: the part is taken (``started_at``), by whom, which attempt.
    EvaluationPart.objects.filter(pk=part.pk, status=RunStatus.RUNNING).update(
        started_at=timezone.now(), attempts=F("attempts") + 1, worker=worker[:64]
    )
    policy = policy_config(run.policy)
    try:
        with transaction.atomic():
            # The lease: this row, locked until the commit (SQLite: the whole database, its
            # transactions are IMMEDIATE); checked again under the lock.
            claimed = EvaluationPart.objects.select_for_update().filter(
                pk=part.pk, status=RunStatus.RUNNING
            )
            if not claimed.values_list("pk", flat=True):
                part.refresh_from_db()
                return part
            clients, changes, tasks = _evaluate(
                run, policy, run, range(part.first_id, part.end_id), _no_progress, fit=False
            )
            if settings.EVALUATION_PART_PAUSE:  # tests: a worker killed before the commit
                time.sleep(settings.EVALUATION_PART_PAUSE)
            EvaluationPart.objects.filter(pk=part.pk).update(
                status=RunStatus.SUCCEEDED,
                customers_evaluated=clients,
                worker=worker[:64],
                finished_at=timezone.now(),
            )
            _close_if_complete(run.pk, clients, changes, tasks)
    except Exception as exc:
        log.exception("evaluation part %s failed", part.pk)
        with transaction.atomic():
            EvaluationPart.objects.filter(pk=part.pk).update(
                status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
            )
            EvaluationRun.objects.filter(pk=run.pk).update(
                status=RunStatus.FAILED,
                error=f"part {part.first_id}–{part.end_id}: {type(exc).__name__}: {exc}"[:2000],
                finished_at=timezone.now(),
            )
        raise
    part.refresh_from_db()
    return part


def evaluation_parts_requeue(*, run_id: int | None = None) -> list[int]:
    """Queue again the parts whose worker died (of ``run_id``, else of every running run);
    returns their ids.

    Such a part was taken (``started_at``), is still running, and no transaction holds its
    row: the worker that took it is gone (its connection closed, its transaction rolled
    back). PostgreSQL tells that by ``FOR UPDATE SKIP LOCKED``; the part goes back to queued
    and a new job is queued after the commit. Called by each worker after its part and by
    ``fincrm evaluate --partitioned --wait`` while it waits. A job queued twice is harmless
    (``evaluation_part_run`` runs a part once). SQLite has no row locks to tell a live worker
    from a dead one: nothing is requeued there (a dead worker's run is failed after
    ``STALE_RUN_AFTER``).
    """
    from ..tasks import evaluate_part

    if connection.vendor != "postgresql":
        return []
    with transaction.atomic():
        parts = EvaluationPart.objects.filter(
            status=RunStatus.RUNNING, started_at__isnull=False, run__status=RunStatus.RUNNING
        )
        if run_id is not None:
            parts = parts.filter(run_id=run_id)
        ids = list(
            parts.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)
        )
        if ids:
            EvaluationPart.objects.filter(pk__in=ids).update(started_at=None)
            log.warning("evaluation parts %s lost their worker: queued again", ids)
            for pk in ids:
                transaction.on_commit(partial(evaluate_part.enqueue, pk))
    return ids


def _close_if_complete(run_id: int, clients: int, changes: int, tasks: int) -> None:
    """Add a part's counts to its run (row-locked: parts finish concurrently) and mark the
    run succeeded when no part is left running."""
    run = EvaluationRun.objects.select_for_update().get(pk=run_id)
    run.customers_evaluated += clients
    run.tier_changes += changes
    run.tasks_created += tasks
    fields = ["customers_evaluated", "tier_changes", "tasks_created"]
    left = run.parts.exclude(status=RunStatus.SUCCEEDED).count()
    if left == 0 and run.status == RunStatus.RUNNING:
        run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
        fields += ["status", "finished_at"]
    run.save(update_fields=fields)
