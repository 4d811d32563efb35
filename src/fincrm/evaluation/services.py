"""Writes of the evaluation engine: publish a policy version, run an evaluation.

A run reads every client it evaluates in bulk (:mod:`.features`), scores them with the pure
analytics, and writes snapshots, the current classification, tier-change events,
notifications and service-plan tasks in one transaction: a run that fails leaves the previous
results exactly as they were, and its row says why it failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

import polars as pl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fincrm.analytics.policy import PolicyConfig, policy_errors
from fincrm.analytics.scorecard import InsufficientData
from fincrm.analytics.segments import KMeansSegmenter, rule_segments
from fincrm.analytics.strategy import contact_cadence
from fincrm.analytics.tiering import assign_tiers, score_customers, tier_cutoffs
from fincrm.core import partitions
from fincrm.core.bulk import insert_frame, insert_rows, json_text
from fincrm.core.policy import policy_active, policy_config
from fincrm.customers.models import Customer
from fincrm.engagement.choices import NotificationKind, Priority, TaskKind, TaskStatus
from fincrm.engagement.models import Notification, Task
from fincrm.risk.models import CreditAssessment, ScorecardModel
from fincrm.webhooks import events as webhooks

from .choices import RunKind, RunStatus, Tier
from .features import (
    ID_CHUNK,
    BookReads,
    changed_customer_ids,
    fetch,
    fetch_for,
    load_features,
)
from .models import (
    Classification,
    EvaluationPart,
    EvaluationRun,
    PolicyVersion,
    Snapshot,
    TierChange,
)
from .risk import assess_pending, latest_grades, previous_assessments, scorecard_train

log = logging.getLogger(__name__)

BATCH = 5_000
#: A service-plan task is created this many days before it falls due.
TASK_LOOKAHEAD_DAYS = 14
#: Below this many clients, data-driven clusters say nothing: skip k-means.
MIN_CLIENTS_FOR_CLUSTERS = 50

VISIT_OR_CALL = {True: TaskKind.VISIT, False: TaskKind.FOLLOW_UP}

Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


# --- policy ------------------------------------------------------------------------------


@transaction.atomic
def policy_publish(*, config: dict, user=None, note: str = "") -> PolicyVersion:
    """Validate ``config`` and make it the new active version, or change nothing.

    Raises
    ------
    ValidationError
        With one message per problem; the active version stays active.
    """
    errors = policy_errors(config)
    if errors:
        raise ValidationError(errors)
    normalised = PolicyConfig.model_validate(config).model_dump(mode="json")
    policy_active()  # make sure v1 exists so numbering starts from it
    latest = PolicyVersion.objects.select_for_update().aggregate(n=Max("number"))["n"] or 0
    PolicyVersion.objects.filter(is_active=True).update(is_active=False)
    return PolicyVersion.objects.create(
        number=latest + 1, config=normalised, note=note, is_active=True, created_by=user
    )


# --- runs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """The analytics output of one run, before it is written."""

    frame: pl.DataFrame  # features + sub-scores + tier + segments + cluster
    cutoffs: dict[str, float]
    clusters: dict | None


def score_frame(
    features: pl.DataFrame,
    policy: PolicyConfig,
    *,
    cutoffs: dict[str, float] | None = None,
    segmenter: KMeansSegmenter | None = None,
    fit_clusters: bool = False,
    previous_clusters: dict | None = None,
) -> Scored:
    """Score, tier and segment a feature frame (no DB access: also used by the preview).

    ``fit_clusters``: fit k-means on this frame, carrying on from ``previous_clusters`` (the
    last full run's) when they cluster the same way."""
    scores = score_customers(features, policy)
    frame = features.join(scores, on="customer_id", how="left")
    if cutoffs is None:
        cutoffs = tier_cutoffs(frame["value_score"], policy)
    frame = frame.with_columns(tier=assign_tiers(frame["value_score"], cutoffs))
    frame = frame.with_columns(segments=rule_segments(frame, policy.segments))
    clusters = None
    if fit_clusters and frame.height >= MIN_CLIENTS_FOR_CLUSTERS:
        segmenter = KMeansSegmenter(
            k=policy.clustering.k, features=policy.clustering.features, seed=policy.clustering.seed
        ).fit(
            frame,
            previous=KMeansSegmenter.from_dict(previous_clusters) if previous_clusters else None,
        )
        clusters = segmenter.to_dict()
        labels = pl.Series("cluster", segmenter.labels_, dtype=pl.Int64)
    elif segmenter is not None and frame.height:
        labels = pl.Series("cluster", segmenter.predict(frame), dtype=pl.Int64)
    else:
        labels = pl.Series("cluster", [None] * frame.height, dtype=pl.Int64)
    frame = frame.with_columns(labels)
    return Scored(frame=frame, cutoffs=cutoffs, clusters=clusters)


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
        since = since or last.values_list("started_at", flat=True).first()
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
    if fit:
        score = partial(
            score_frame,
            features,
            policy,
            fit_clusters=True,
            previous_clusters=base.clusters if base else None,
        )
    else:
        score = partial(
            score_frame,
            features,
            policy,
            segmenter=KMeansSegmenter.from_dict(base.clusters) if base.clusters else None,
            cutoffs=base.cutoffs if base.policy_id == run.policy_id else None,
        )
    if connection.vendor == "postgresql":
        # The scoring touches no database: it runs in a thread while PostgreSQL ingests the
        # assessments (a book's worth of rows) and checks their foreign keys. (SQLite's
        # inserts are Python work that would only contend with the scoring for the GIL.)
        with ThreadPoolExecutor(1, thread_name_prefix="scoring") as pool:
            scoring = pool.submit(score)
            attach_assessments = assessed.write()
            connection.check_constraints()  # now rather than at commit: same checks
            scored = scoring.result()
    else:
        attach_assessments = assessed.write()
        scored = score()
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


def _previous_tiers(ids: Sequence[int] | None) -> pl.DataFrame:
    """Each client's current tier and since when (None: the whole book)."""
    return fetch_for(
        Classification.objects.order_by().values_list("customer_id", "tier", "tier_since"),
        "customer_id",
        ids,
        {
            "customer_id": pl.Int64,
            "previous_tier": pl.String,
            "tier_since": pl.Datetime("us", "UTC"),
        },
    )


#: Decimals of the value score a classification keeps (what the list shows and sorts by).
CLASSIFICATION_SCORE_DECIMALS = 1
#: The stored classification columns a run compares with its own results (``stored_*``).
STORED = ("value_score", "grade", "size_band", "lifecycle", "segments", "cluster")


def _current_classifications(ids: Sequence[int] | None) -> pl.DataFrame:
    """Each client's stored classification (None: the whole book): ``previous_tier``,
    ``tier_since`` and the other values as ``stored_*``, so a run writes only what moved."""
    return fetch_for(
        Classification.objects.order_by().values_list("customer_id", "tier", "tier_since", *STORED),
        "customer_id",
        ids,
        {
            "customer_id": pl.Int64,
            "previous_tier": pl.String,
            "tier_since": pl.Datetime("us", "UTC"),
            "stored_value_score": pl.Float64,
            "stored_grade": pl.String,
            "stored_size_band": pl.String,
            "stored_lifecycle": pl.String,
            "stored_segments": pl.String,  # JSON text
            "stored_cluster": pl.Int64,
        },
    ).with_columns(pl.col("stored_segments").str.json_decode(pl.List(pl.String)))


def _insert_in_batches(model, rows: pl.DataFrame, phase: str, progress, **options):
    """``insert_frame`` of ``rows`` (columns named as the fields), reporting progress."""
    insert_frame(model, rows, progress=lambda done: progress(phase, done, rows.height), **options)
    progress(phase, rows.height, rows.height)


def _write_snapshots(
    run, frame: pl.DataFrame, now, progress: Progress, *, own_partition: bool = False
) -> Callable[[], None]:
    """One snapshot per evaluated client. ``own_partition``: the frame is the whole book,
    loaded into the run's own partition where the table is partitioned (PostgreSQL), which
    the returned function attaches (elsewhere it does nothing)."""
    fields = ["customer_id", "contribution", "potential", "loyalty", "risk", "value_score"]
    fields += ["tier", "grade", "grade_source", "size_band", "lifecycle", "segments", "cluster"]
    fields += ["reasons"]
    table = frame.select(
        "customer_id",
        *(pl.col(c).round(2) for c in ("contribution", "potential", "loyalty", "risk")),
        pl.col("value_score").round(2),
        "tier",
        "grade",
        pl.col("grade_method").fill_null("expert"),
        "size_band",
        "lifecycle",
        json_text("segments"),
        "cluster",
        json_text("reasons"),
    )
    write = partial(
        _insert_in_batches,
        Snapshot,
        table.rename(dict(zip(table.columns, fields, strict=True))),
        "snapshots",
        progress,
        constants={"run": run.pk, "created_at": now},
        json_text=["segments", "reasons"],
    )
    return partitions.load_or_insert(Snapshot, run.pk if own_partition else None, write)


def _write_classifications(run, frame: pl.DataFrame, now, progress: Progress) -> int:
    """Upsert the classification of each client whose values moved (or that has none yet).

    A client whose tier, value score, grade, size band, lifecycle, segments and cluster are
    the ones stored keeps its row as it is: its ``run`` and ``evaluated_at`` say which run
    last changed it. Rewriting a million unchanged rows cost 20–30 s on PostgreSQL (a new
    row version and an entry in each of eleven indexes per client). Returns the rows written.
    """
    fields = ["customer_id", "tier", "tier_since", "value_score", "grade", "size_band"]
    fields += ["lifecycle", "segments", "cluster"]
    # The value score as the pages show and sort it, to one decimal (the run's own, to two,
    # is in its snapshot): at two decimals, the days a client's tenure gains overnight moved
    # the score of 44% of a 1M book, a rewrite of each of those rows and of its seven index
    # entries, for nothing anyone sees; at one decimal, 8%.
    value_score = pl.col("value_score").round(CLASSIFICATION_SCORE_DECIMALS)
    segments = pl.col("segments").fill_null([])
    same = (
        pl.col("previous_tier").eq_missing(pl.col("tier"))
        & pl.col("stored_value_score").eq_missing(value_score)
        & pl.all_horizontal(pl.col(f"stored_{c}").eq_missing(pl.col(c)) for c in STORED[1:4])
        & pl.col("stored_segments").eq_missing(segments)
        & pl.col("stored_cluster").eq_missing(pl.col("cluster"))
    )
    table = frame.filter(pl.col("previous_tier").is_null() | ~same).select(
        "customer_id",
        "tier",
        pl.when(pl.col("tier_changed")).then(pl.lit(now)).otherwise(pl.col("tier_since")),
        value_score,
        "grade",
        "size_band",
        "lifecycle",
        json_text("segments"),
        "cluster",
    )
    _insert_in_batches(
        Classification,
        table.rename(dict(zip(table.columns, fields, strict=True))),
        "classifications",
        progress,
        constants={"run": run.pk, "evaluated_at": now},
        json_text=["segments"],
        conflict=["customer"],
        update=[*fields[1:], "run", "evaluated_at"],
    )
    return table.height


def _write_tier_changes(run, frame: pl.DataFrame, now) -> int:
    """A timeline event per client whose tier moved, and a notification to its owner.

    A client's first classification is recorded as an event but notifies nobody: a first run
    over the whole book would otherwise flood every inbox.
    """
    changed = frame.filter(pl.col("tier_changed")).select(
        "customer_id", "owner_id", "previous_tier", "tier"
    )
    insert_rows(
        TierChange,
        ["customer_id", "run", "from_tier", "to_tier", "changed_at"],
        ((c, run.pk, previous or "", tier, now) for c, _o, previous, tier in changed.iter_rows()),
    )
    insert_rows(
        Notification,
        ["recipient_id", "customer_id", "kind", "data", "created_at"],
        (
            (owner, c, NotificationKind.TIER_CHANGED, {"from": previous, "to": tier}, now)
            for c, owner, previous, tier in changed.iter_rows()
            if previous and owner
        ),
    )
    webhooks.emit(
        webhooks.Event.TIER_CHANGED,
        (
            {"customer": c, "from": previous, "to": tier, "run": run.pk, "at": now}
            for c, _owner, previous, tier in changed.iter_rows()
            if previous
        ),
    )
    return changed.height


def _open_plan_tasks(ids: Sequence[int] | None) -> pl.DataFrame:
    """(customer_id, source_key) of the open service-plan tasks of the clients."""
    return fetch_for(
        Task.objects.order_by()
        .filter(status=TaskStatus.OPEN, source_key__in=["plan:contact", "plan:report"])
        .values_list("customer_id", "source_key"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64, "source_key": pl.String},
    )


def _write_plan_tasks(
    policy: PolicyConfig,
    frame: pl.DataFrame,
    as_of: date,
    progress,
    *,
    ids,
    open_tasks: pl.DataFrame | None = None,
) -> int:
    """Turn each tier's service plan into follow-up and report tasks for the owner.

    At most one open task per client and plan item (a partial unique constraint), so a re-run
    creates nothing new; a task is created ``TASK_LOOKAHEAD_DAYS`` before it falls due.
    """
    plans = policy.service_plans
    horizon = as_of + timedelta(days=TASK_LOOKAHEAD_DAYS)
    rows = frame.filter(pl.col("owner_id").is_not_null() & (pl.col("lifecycle") != "lost"))
    rows = rows.select(
        "customer_id", "owner_id", "tier", "days_since_successful_contact", "lifecycle", "segments"
    )
    # The tier's cadence, tightened by the strategies of the client's segments and stage.
    tier_days = {tier: plan.contact_every_days for tier, plan in plans.items()}
    rows = rows.with_columns(cadence=contact_cadence(rows, policy.strategies, tier_days))
    # Clients that already have the open task are left out before the insert (the partial
    # unique constraint still guards against a race): a re-run sends almost nothing.
    open_tasks = _open_plan_tasks(ids) if open_tasks is None else open_tasks
    created = done = 0
    with translation.override(settings.LANGUAGE_CODE):
        for tier in Tier:
            plan = plans[tier.value]
            clients = rows.filter(pl.col("tier") == tier.value)
            since = pl.col("days_since_successful_contact")
            # Due when the cadence lapses; never contacted or lapsed long ago: due today.
            due = (
                pl.when(since.is_null())
                .then(pl.lit(as_of))
                .otherwise(pl.lit(as_of) + pl.duration(days=pl.col("cadence") - since))
            )
            contacts = clients.with_columns(due_on=pl.max_horizontal(due, pl.lit(as_of)))
            contacts = contacts.filter(pl.col("due_on") <= horizon)
            items = [
                (
                    group.select("customer_id", "owner_id", "due_on"),
                    {
                        "kind": VISIT_OR_CALL[plan.priority_channel == "visit"],
                        "title": _(
                            "Service plan: contact this %(tier)s client (every %(days)s days)"
                        )
                        % {"tier": tier.label, "days": cadence},
                        "channel": plan.priority_channel,
                        "priority": Priority.HIGH if tier == Tier.CORE else Priority.NORMAL,
                        "source_key": "plan:contact",
                    },
                )
                for (cadence,), group in contacts.group_by("cadence", maintain_order=True)
            ]
            if plan.report_every_days:
                report_due = as_of + timedelta(days=plan.report_every_days)
                items.append(
                    (
                        clients.select("customer_id", "owner_id", due_on=pl.lit(report_due)),
                        {
                            "kind": TaskKind.REPORT,
                            "title": _("Send the value-added report to this %(tier)s client")
                            % {"tier": tier.label},
                            "channel": "email",
                            "priority": Priority.NORMAL,
                            "source_key": "plan:report",
                        },
                    )
                )
            for table, constants in items:
                taken = open_tasks.filter(pl.col("source_key") == constants["source_key"])
                table = table.join(taken, on="customer_id", how="anti")
                created += insert_rows(
                    Task,
                    ["customer_id", "owner_id", "due_on"],
                    table.iter_rows(),
                    constants=constants,
                    ignore_conflicts=True,
                )
                done += table.height
            progress("tasks", done, frame.height)
    return created


# --- partitioned full runs -----------------------------------------------------------------

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
    from .tasks import evaluate_part

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
            transaction.on_commit(lambda pk=part.pk: evaluate_part.enqueue(pk))
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
    from .tasks import evaluate_part

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
                transaction.on_commit(lambda pk=pk: evaluate_part.enqueue(pk))
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


# --- preview -----------------------------------------------------------------------------


def policy_preview(*, config: dict) -> dict:
    """How many clients would change tier under ``config`` (nothing is written).

    Returns ``{"errors": [...]}`` for an invalid config, else the migration counts between
    the current classification and the tiers the new policy would give.
    """
    errors = policy_errors(config)
    if errors:
        return {"errors": errors}
    policy = PolicyConfig.model_validate(config)
    features = load_features(as_of=timezone.localdate())
    # The grades of the last assessments, as the next run would use (nothing is re-scored).
    grades = latest_grades(None)
    features = features.drop("credit_grade").join(grades, on="customer_id", how="left")
    scored = score_frame(features, policy).frame.select("customer_id", "tier")
    current = _previous_tiers(None).select("customer_id", "previous_tier")
    joined = scored.join(current, on="customer_id", how="left")
    moved = joined.filter(
        pl.col("previous_tier").is_null() | (pl.col("previous_tier") != pl.col("tier"))
    )
    matrix = joined.group_by("previous_tier", "tier").len().sort("previous_tier", "tier").to_dicts()
    return {
        "errors": [],
        "clients": joined.height,
        "changed": moved.height,
        "by_tier": dict(joined.group_by("tier").len().iter_rows()),
        "matrix": matrix,
    }
