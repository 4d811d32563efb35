"""What a run writes back in bulk: snapshots, classifications, tier changes and plan tasks.

With the reads of what is stored that they compare against, so a run writes only what moved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from functools import partial
from typing import cast

import polars as pl
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from fincrm.analytics.policy import TIER, PolicyConfig
from fincrm.analytics.segments import segment_sizes
from fincrm.analytics.strategy import contact_cadence
from fincrm.core import partitions
from fincrm.core.bulk import insert_frame, insert_rows, json_text
from fincrm.engagement.choices import NotificationKind, Priority, TaskKind, TaskStatus
from fincrm.engagement.models import Notification, Task
from fincrm.webhooks import events as webhooks

from ..choices import Tier
from ..features import fetch_for
from ..models import Classification, SegmentSize, Snapshot, TierChange

#: A service-plan task is created this many days before it falls due.
TASK_LOOKAHEAD_DAYS = 14

VISIT_OR_CALL = {True: TaskKind.VISIT, False: TaskKind.FOLLOW_UP}

Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


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


def _plan_items(plan, tier: Tier, clients: pl.DataFrame, as_of: date, horizon: date) -> list:
    """The service plan's tasks for the clients of one tier, as (rows, constant fields)
    pairs: a contact when the cadence lapses within ``horizon`` (one pair per cadence, its
    title naming it) and, when the plan has one, the value-added report."""
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
                "title": _("Service plan: contact this %(tier)s client (every %(days)s days)")
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
    return items


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
    tier_days: dict[str, int] = {tier: plan.contact_every_days for tier, plan in plans.items()}
    rows = rows.with_columns(cadence=contact_cadence(rows, policy.strategies, tier_days))
    # Clients that already have the open task are left out before the insert (the partial
    # unique constraint still guards against a race): a re-run sends almost nothing.
    open_tasks = _open_plan_tasks(ids) if open_tasks is None else open_tasks
    created = done = 0
    with translation.override(settings.LANGUAGE_CODE):
        for tier in Tier:
            clients = rows.filter(pl.col("tier") == tier.value)
            # Tier's values are the policy's TIER literals (the plans are keyed by them).
            items = _plan_items(plans[cast(TIER, tier.value)], tier, clients, as_of, horizon)
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


#: What the segments page counts by (``SegmentSize``).
SIZE_KEYS = ("owner_id", "team_id", "tier", "cluster")


def _write_segment_sizes(run, frame: pl.DataFrame) -> int:
    """The run's clients counted by manager, team, tier, cluster and segment
    (``SegmentSize``): a full run writes the book's, each part of a partitioned run its own
    range's (the page sums them)."""
    sizes = segment_sizes(frame.select(*SIZE_KEYS, "segments"), SIZE_KEYS)
    return insert_frame(
        SegmentSize,
        sizes.select(*SIZE_KEYS, "segment", "clients").with_columns(pl.col("tier").fill_null("")),
        constants={"run_id": run.pk},
    )
