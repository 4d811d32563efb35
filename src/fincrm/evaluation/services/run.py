"""One evaluation run: the whole book (full), what changed (incremental) or given clients.

A run reads every client it evaluates in bulk (:mod:`fincrm.evaluation.features`), scores
them with the pure analytics, and writes snapshots, the current classification, tier-change
events, notifications and service-plan tasks in one transaction: a run that fails leaves the
previous results exactly as they were, and its row says why it failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from functools import partial
from typing import cast

import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from fincrm.analytics.policy import PolicyConfig
from fincrm.analytics.scorecard import InsufficientData
from fincrm.analytics.segments import KMeansSegmenter
from fincrm.core.policy import policy_active, policy_config
from fincrm.risk.models import ScorecardModel

from ..choices import RunKind, RunStatus
from ..features import ID_CHUNK, BookReads, changed_customer_ids, load_features
from ..models import EvaluationPart, EvaluationRun
from ..risk import assess_pending, previous_assessments, scorecard_train
from .scoring import Scored, score_frame
from .writes import (
    Progress,
    _current_classifications,
    _no_progress,
    _open_plan_tasks,
    _write_classifications,
    _write_plan_tasks,
    _write_segment_sizes,
    _write_snapshots,
    _write_tier_changes,
)

log = logging.getLogger(__name__)


def _last_full_run() -> EvaluationRun | None:
    return (
        EvaluationRun.objects.filter(status=RunStatus.SUCCEEDED, kind=RunKind.FULL)
        .order_by("-started_at", "-id")
        .first()
    )


#: A run still ``running`` this long after it started was left so by a process that died (a
#: full run of a million clients takes minutes): the next run's start fails it, so the runs
#: page stops showing it in progress and the archive can move it.
STALE_RUN_AFTER = timedelta(hours=3)

MSG_STALE_RUN = "abandoned: still running {hours} h after it started (its process died)"


def evaluation_runs_fail_stale(*, now: datetime | None = None) -> int:
    """Fail the runs (and their parts) left ``running`` longer than ``STALE_RUN_AFTER``;
    returns how many."""
    now = now or timezone.now()
    stale = EvaluationRun.objects.filter(
        status=RunStatus.RUNNING, started_at__lt=now - STALE_RUN_AFTER
    )
    ids = list(stale.values_list("pk", flat=True))
    if not ids:
        return 0
    error = MSG_STALE_RUN.format(hours=int(STALE_RUN_AFTER.total_seconds() // 3600))
    with transaction.atomic():
        EvaluationPart.objects.filter(run_id__in=ids, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=error
        )
        EvaluationRun.objects.filter(pk__in=ids, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=error, finished_at=now
        )
    log.warning("failed %s evaluation run(s) left running: %s", len(ids), ids)
    return len(ids)


def evaluation_run(
    *,
    kind: str = RunKind.FULL,
    customer_ids: Sequence[int] | None = None,
    since: datetime | None = None,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> EvaluationRun:
    """Evaluate the whole book (full), what changed (incremental) or given clients (event).

    An incremental or single-client run reuses the tier cut-offs and clusters of the last full
    run so its results are the ones a full run would give; with no full run yet it becomes one.
    """
    progress = progress or _no_progress
    as_of = as_of or timezone.localdate()
    evaluation_runs_fail_stale()
    version = policy_active()
    policy = policy_config(version)
    base = _last_full_run()
    if kind != RunKind.FULL and base is None:
        kind, customer_ids = RunKind.FULL, None
    if kind == RunKind.INCREMENTAL and customer_ids is None:
        last = EvaluationRun.objects.filter(status=RunStatus.SUCCEEDED).order_by("-started_at")
        # ``base`` is a succeeded run, so the latest succeeded run exists: never None here.
        since = since or cast(datetime, last.values_list("started_at", flat=True).first())
        customer_ids = changed_customer_ids(since=since)
    if kind == RunKind.FULL:
        customer_ids = None
    run = EvaluationRun.objects.create(kind=kind, policy=version, as_of=as_of)
    try:
        # Committed on its own (a fact about the day, whatever the run does next); a failure
        # here fails the run like any other.
        _refresh_arrears(as_of, customer_ids)
        if run.kind == RunKind.FULL:
            _train_scorecard(policy, as_of)
        with transaction.atomic():
            summary = _evaluate(
                run, policy, base, customer_ids, progress, fit=run.kind == RunKind.FULL
            )
            run.status = RunStatus.SUCCEEDED
            run.customers_evaluated, run.tier_changes, run.tasks_created = summary
            run.finished_at = timezone.now()
            run.save()
    except Exception as exc:
        log.exception("evaluation run %s failed", run.pk)
        run.status = RunStatus.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    return run


def _train_scorecard(policy: PolicyConfig, as_of: date) -> None:
    """A book with no statistical scorecard gets one at a full run as soon as its history
    allows (the expert rule scores until then). Once one is in use, a challenger is trained
    when the policy's retraining is due (``scorecard.retrain_months`` after the latest
    training, ``risk.selectors.next_retraining``); replacing the scorecard in use stays a
    person's decision (a switch approved by a second risk officer, the model governance page).
    """
    from fincrm.risk.selectors import next_retraining

    first = not ScorecardModel.objects.filter(is_active=True).exists()
    due = next_retraining(policy=policy)
    if not first and (due is None or due > as_of):
        return
    try:
        with transaction.atomic():
            scorecard_train(policy=policy, as_of=as_of, activate=first)
    except InsufficientData as exc:
        log.info("no statistical scorecard %s: %s", "yet" if first else "challenger", exc)


def _refresh_arrears(as_of: date, customer_ids: Sequence[int] | None) -> None:
    """Days past due as of the run's day, before its reads (``delinquency_refresh``): in a
    transaction of its own, so the run's reads can still share its snapshot. A run dated in
    the past leaves today's arrears alone."""
    from fincrm.financing.services import delinquency_refresh
    from fincrm.financing.servicing import penalty_accrue

    if as_of < timezone.localdate():
        return
    if customer_ids is not None and len(customer_ids) > ID_CHUNK:
        customer_ids = None  # the whole book: one scan, no list longer than SQLite binds
    delinquency_refresh(as_of=as_of, customer_ids=customer_ids)
    penalty_accrue(as_of=as_of, customer_ids=customer_ids)  # 罚息 up to the run's day


def _read_book(
    run: EvaluationRun,
    policy: PolicyConfig,
    customer_ids: Sequence[int] | None,
    progress: Progress,
) -> tuple[BookReads, pl.DataFrame]:
    """The run's reads (prefetched at once on PostgreSQL) and the feature frame built on
    them."""
    progress("read", 0, 1)
    reads = BookReads(as_of=run.as_of, customer_ids=customer_ids)
    ids = reads.ids
    reads.add("previous_assessments", lambda: previous_assessments(ids))
    reads.add("classifications", lambda: _current_classifications(ids))
    # Nothing this run writes before it reads them: plan tasks are the last thing it writes.
    reads.add("open_plan_tasks", lambda: _open_plan_tasks(ids))
    reads.prefetch()
    features = load_features(as_of=run.as_of, customer_ids=customer_ids, reads=reads, policy=policy)
    progress("read", 1, 1)
    return reads, features


def _scorer(
    run: EvaluationRun,
    policy: PolicyConfig,
    base: EvaluationRun | None,
    features: pl.DataFrame,
    *,
    fit: bool,
) -> Callable[[], Scored]:
    """The scoring of ``features``: fitting cut-offs and clusters (``fit``), else with
    ``base``'s (its cut-offs only under the same policy version)."""
    if fit:
        return partial(
            score_frame,
            features,
            policy,
            fit_clusters=True,
            previous_clusters=base.clusters if base else None,
        )
    if base is None:
        raise ValueError("a run that does not fit its cut-offs and clusters needs a base run")
    return partial(
        score_frame,
        features,
        policy,
        segmenter=KMeansSegmenter.from_dict(base.clusters) if base.clusters else None,
        cutoffs=base.cutoffs if base.policy_id == run.policy_id else None,
    )


def _score_while_writing(score: Callable[[], Scored], assessed) -> tuple[Scored, Callable]:
    """Score, and write the credit assessments; returns the scores and the assessments'
    partition attach (to call last)."""
    if connection.vendor == "postgresql":
        # The scoring touches no database: it runs in a thread while PostgreSQL ingests the
        # assessments (a book's worth of rows) and checks their foreign keys. (SQLite's
        # inserts are Python work that would only contend with the scoring for the GIL.)
        with ThreadPoolExecutor(1, thread_name_prefix="scoring") as pool:
            scoring = pool.submit(score)
            attach_assessments = assessed.write()
            connection.check_constraints()  # now rather than at commit: same checks
            return scoring.result(), attach_assessments
    attach_assessments = assessed.write()
    return score(), attach_assessments


def _evaluate(
    run: EvaluationRun,
    policy: PolicyConfig,
    base: EvaluationRun | None,
    customer_ids: Sequence[int] | None,
    progress: Progress,
    *,
    fit: bool,
) -> tuple[int, int, int]:
    """Evaluate ``customer_ids`` (None: the book) for ``run``; returns (clients, tier
    changes, tasks created). ``fit``: fit the tier cut-offs and clusters on these clients and
    store them on the run; otherwise use ``base``'s (an incremental run, a partition)."""
    reads, features = _read_book(run, policy, customer_ids, progress)
    ids = reads.ids
    assessed = assess_pending(
        features=features,
        policy=policy,
        as_of=run.as_of,
        run_started=run.started_at,
        customer_ids=customer_ids,
        reads=reads,
        run_id=run.pk,
    )
    features = features.drop("credit_grade", "open_warnings").join(
        assessed.frame, on="customer_id", how="left"
    )
    progress("credit risk", 1, 1)
    score = _scorer(run, policy, base, features, fit=fit)
    scored, attach_assessments = _score_while_writing(score, assessed)
    if fit:
        run.cutoffs, run.clusters = scored.cutoffs, scored.clusters
    frame = scored.frame
    progress("score", 1, 1)

    now = timezone.now()
    previous = reads.get("classifications")
    frame = frame.join(previous, on="customer_id", how="left").with_columns(
        tier_changed=pl.col("previous_tier").is_null() | (pl.col("previous_tier") != pl.col("tier"))
    )
    _write_classifications(run, frame, now, progress)
    changes = _write_tier_changes(run, frame, now)
    tasks = _write_plan_tasks(
        policy, frame, run.as_of, progress, ids=ids, open_tasks=reads.get("open_plan_tasks")
    )
    if run.kind == RunKind.FULL:  # the segments page's counts (a part: its range's)
        _write_segment_sizes(run, frame)
    # Last: a run of the whole book attaches partitions of its own, which holds locks to the
    # commit (core.partitions): the clients' rows cannot be written, the default partitions
    # not read, for the second or two left.
    attach_snapshots = _write_snapshots(
        run, frame, now, progress, own_partition=customer_ids is None
    )
    attach_assessments()
    attach_snapshots()
    if not fit:
        run.cutoffs = scored.cutoffs
        run.clusters = base.clusters if base else None
    return frame.height, changes, tasks
