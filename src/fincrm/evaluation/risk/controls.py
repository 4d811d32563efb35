"""What a grade sets in motion: control proposals and periodic reviews with their tasks."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from django.db.models import Max
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from fincrm.analytics.policy import PolicyConfig
from fincrm.core.bulk import insert_rows, update_with_history
from fincrm.risk.choices import FREQUENCY_DAYS
from fincrm.risk.models import ControlProposal, Review

from ..features import fetch, fetch_for

BATCH = 5_000


def _propose_controls(result, previous, policy: PolicyConfig) -> None:
    """A pending proposal of the new grade's controls for each client whose grade moved."""
    moved = result.join(previous, on="customer_id", how="inner").filter(
        pl.col("previous_grade") != pl.col("credit_grade")
    )
    if moved.is_empty():
        return
    ids = moved["customer_id"].to_list()
    pending = {
        p.customer_id: p
        for p in ControlProposal.objects.filter(customer_id__in=ids, status="pending")
    }
    new, updated = [], []
    for row in moved.iter_rows(named=True):
        controls = policy.grade_controls[row["credit_grade"]].model_dump(mode="json")
        proposal = pending.get(row["customer_id"])
        if proposal is None:
            new.append(
                ControlProposal(
                    customer_id=row["customer_id"],
                    from_grade=row["previous_grade"],
                    to_grade=row["credit_grade"],
                    controls=controls,
                )
            )
        else:
            proposal.to_grade, proposal.controls = row["credit_grade"], controls
            updated.append(proposal)
    # Proposals are credit-relevant: write their audit history too.
    bulk_create_with_history(new, ControlProposal, batch_size=BATCH)
    update_with_history(updated, ControlProposal, ["to_grade", "controls"])


def _schedule_reviews(result, policy: PolicyConfig, as_of: date, ids=None) -> None:
    """Each client with a grade gets one scheduled review at its grade's frequency."""
    scheduled = set(
        fetch_for(
            Review.objects.order_by().filter(status="scheduled").values_list("customer_id"),
            "customer_id",
            ids,
            {"customer_id": pl.Int64},
        )["customer_id"].to_list()
    )
    last_done = dict(
        fetch_for(
            Review.objects.order_by()
            .filter(status="done")
            .values("customer_id")
            .annotate(last=Max("completed_at"))
            .values_list("customer_id", "last"),
            "customer_id",
            ids,
            {"customer_id": pl.Int64, "last": pl.Datetime("us", "UTC")},
        ).iter_rows()
    )
    reviews = []
    for customer_id, grade in result.select("customer_id", "credit_grade").iter_rows():
        if customer_id in scheduled:
            continue
        frequency = policy.grade_controls[grade].review_frequency
        done = last_done.get(customer_id)
        start = timezone.localtime(done).date() if done else as_of
        reviews.append(
            (customer_id, start + timedelta(days=FREQUENCY_DAYS[frequency]), frequency, grade)
        )
    insert_rows(
        Review, ["customer_id", "due_on", "frequency", "grade"], reviews, ignore_conflicts=True
    )
    _review_preparation_tasks(result, as_of)


#: The owner is asked for updated statements this many days before a review falls due.
REVIEW_PREPARATION_DAYS = 30


def _review_preparation_tasks(result: pl.DataFrame, as_of: date) -> int:
    """A task for the owner to collect updated financial statements before each review that
    falls due within ``REVIEW_PREPARATION_DAYS`` (one open task per client)."""
    from django.conf import settings
    from django.utils import translation
    from django.utils.translation import gettext

    from fincrm.engagement.choices import Priority, TaskKind
    from fincrm.engagement.models import Task

    horizon = as_of + timedelta(days=REVIEW_PREPARATION_DAYS)
    due = fetch(
        Review.objects.order_by()
        .filter(status="scheduled", due_on__lte=horizon, customer__owner__isnull=False)
        .values_list("customer_id", "customer__owner_id", "due_on"),
        {"customer_id": pl.Int64, "owner_id": pl.Int64, "review_due": pl.Date},
    ).join(result.select("customer_id"), on="customer_id", how="semi")
    rows = due.select(
        "customer_id",
        "owner_id",
        due_on=pl.max_horizontal(pl.col("review_due") - pl.duration(days=7), pl.lit(as_of)),
    )
    with translation.override(settings.LANGUAGE_CODE):
        title = gettext("Periodic review: collect the latest financial statements")
    return insert_rows(
        Task,
        ["customer_id", "owner_id", "due_on"],
        rows.iter_rows(),
        constants={
            "kind": TaskKind.REVIEW,
            "title": title,
            "channel": "visit",
            "priority": Priority.NORMAL,
            "source_key": "review:statements",
        },
        ignore_conflicts=True,
    )
