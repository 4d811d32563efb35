"""A day in the life of the demo book: what clients and staff do between two nightly runs.

The generated book stops on the day it was drawn. Evaluated night after night without this, it
ages: nobody repays, calls, closes an alert or decides a proposal, so each night more arrears
grow, more grades move and more alerts wait — a demo that decays, and a nightly benchmark
whose nights grow heavier with nothing in the code changed. ``advance_book`` plays the days in
between, each in one transaction, deterministic for (seed, day):

- **repayments**: a facility with nothing overdue pays what falls due that day (97 %); one in
  arrears catches up on a given day with a chance that falls with its days past due (12 %
  under 90 days, 0.4 % beyond); a payment settles every instalment due, the drawn amount falls
  by the principal, a facility past maturity with nothing left owing closes;
- **tasks and contacts**: an open task due by the day is done with a 55 % chance, oldest first
  up to the staff's capacity (``TASKS_PER_CLIENT_DAY`` of the book), and a done
  follow-up, visit, care or review task is a logged interaction with the client; a few clients
  (0.2 %) get in touch themselves;
- **alerts**: an open alert raised before the day is closed with a 20 % chance (resolved, or
  dismissed one time in seven) by its assignee, with history;
- **control proposals**: risk officers decide pending proposals through
  ``risk.services.proposal_decide`` (approval applies the controls to the facilities), up to
  ``DECISIONS_PER_OFFICER`` each a day, oldest first.

Rows are written in bulk (``core.bulk``) as the generator writes them: no loyalty points and no
webhook events for the simulated payments, no reviews completed (each would re-evaluate its
client at once). Arrears are not written here: the nightly run recomputes them
(``financing.services.delinquency_refresh``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl
from django.db import transaction

from fincrm.core.bulk import insert_frame, update_rows, update_with_history

from . import draws, names
from .book import OUTCOMES

#: Chance that a facility with nothing overdue pays an instalment on its due day.
ON_TIME = 0.97
#: Chance a day that a facility in arrears pays everything due, below / from 90 days past due.
CATCH_UP, CATCH_UP_DEFAULTED = 0.12, 0.004
TASK_DONE = 0.55
#: Staff's contact capacity a day, as a share of the book: one contact per client every ~10
#: weeks. The first night of a new book schedules a plan task for nearly every client.
TASKS_PER_CLIENT_DAY = 0.015
INBOUND_SHARE = 0.002
ALERT_CLOSED = 0.20
ALERT_DISMISSED = 1 / 7
DECISIONS_PER_OFFICER = 300
APPROVED = 0.85
CONTACT_KINDS = {"follow_up": "phone", "visit": "visit", "care": "wechat", "review": "visit"}
RESOLUTIONS = ("已电话核实经营情况，风险可控", "已上门走访，客户补充还款计划", "已催收并安排还款")
DISMISSALS = ("信号为季节性波动，无需处置",)


@dataclass
class DayStats:
    day: date
    payments: int = 0
    installments_paid: int = 0
    facilities_closed: int = 0
    tasks_done: int = 0
    interactions: int = 0
    alerts_closed: int = 0
    proposals_decided: int = 0


#: What a day counts, in ``DayStats``'s order.
COUNTS = tuple(name for name in DayStats.__dataclass_fields__ if name != "day")


@dataclass
class Advance:
    days: list[DayStats] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(d, name) for d in self.days)

    def totals(self) -> dict[str, int]:
        return {name: self.total(name) for name in COUNTS}


def last_night() -> date | None:
    """The day of the book's last successful full run (None: never evaluated)."""
    from fincrm.evaluation.choices import RunKind, RunStatus
    from fincrm.evaluation.models import EvaluationRun

    return (
        EvaluationRun.objects.filter(kind=RunKind.FULL, status=RunStatus.SUCCEEDED)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )


def advance_book(*, start: date, end: date, seed: int = 7) -> Advance:
    """Play every day from ``start`` to ``end`` (inclusive) on the book, oldest first."""
    advance = Advance()
    day = start
    while day <= end:
        advance.days.append(play_day(day, seed=seed))
        day += timedelta(days=1)
    return advance


@transaction.atomic
def play_day(day: date, *, seed: int = 7) -> DayStats:
    """One day's repayments, contacts, alert closures and proposal decisions (see module)."""
    rng = np.random.default_rng([seed, day.toordinal()])
    stats = DayStats(day)
    _repayments(rng, day, stats)
    _tasks_and_contacts(rng, day, stats)
    _alerts(rng, day, stats)
    _proposals(rng, day, stats)
    return stats


def _at(rng: np.random.Generator, day: date, n: int) -> pl.Series:
    """``n`` office-hour instants on ``day``, aware (UTC)."""
    days = np.full(n, np.datetime64(day, "D"))
    return draws.times(draws.office_time(rng, days)).dt.replace_time_zone("UTC")


def _repayments(rng: np.random.Generator, day: date, stats: DayStats) -> None:
    from fincrm.core.frames import fetch
    from fincrm.financing.choices import FacilityStatus
    from fincrm.financing.models import Facility, Installment, Payment

    due = fetch(
        Installment.objects.order_by()
        .filter(facility__status=FacilityStatus.ACTIVE, paid_off_on__isnull=True, due_date__lte=day)
        .values_list(
            "pk", "facility_id", "due_date", "principal_due", "interest_due", "amount_paid",
            "facility__drawn_amount", "facility__maturity_date",
        ),
        {
            "id": pl.Int64, "facility_id": pl.Int64, "due_date": pl.Date,
            "principal_due": pl.Float64, "interest_due": pl.Float64, "amount_paid": pl.Float64,
            "drawn": pl.Float64, "maturity": pl.Date,
        },
    )  # fmt: skip
    if due.is_empty():
        return
    facilities = (
        due.group_by("facility_id")
        .agg(
            oldest=pl.col("due_date").min(),
            owed=(pl.col("principal_due") + pl.col("interest_due") - pl.col("amount_paid")).sum(),
            principal=pl.col("principal_due").sum(),
            drawn=pl.col("drawn").first(),
            maturity=pl.col("maturity").first(),
        )
        .sort("facility_id")
    )
    late = (pl.lit(day) - pl.col("oldest")).dt.total_days()
    chance = facilities.select(
        pl.when(late <= 0)
        .then(ON_TIME)
        .when(late < 90)
        .then(CATCH_UP)
        .otherwise(CATCH_UP_DEFAULTED)
    ).to_series()
    paying = facilities.filter(pl.Series(rng.random(facilities.height)) < chance)
    if paying.is_empty():
        return
    paid = due.join(paying.select("facility_id"), on="facility_id", how="semi")
    update_rows(
        Installment,
        ["amount_paid", "paid_off_on"],
        (
            (pk, round(p + i, 2), day)
            for pk, p, i in paid.select("id", "principal_due", "interest_due").iter_rows()
        ),
    )
    insert_frame(
        Payment,
        paying.select(
            "facility_id",
            paid_on=pl.lit(day),
            amount=pl.col("owed").round(2).cast(pl.String),
            recorded_at=_at(rng, day, paying.height),
        ),
    )
    closes = paying.with_columns(
        drawn=(pl.col("drawn") - pl.col("principal")).clip(0).round(2),
        closed=pl.col("maturity") <= day,
    )
    update_rows(
        Facility,
        ["drawn_amount", "days_past_due", "status"],
        (
            (pk, 0.0, 0, FacilityStatus.CLOSED) if closed else (pk, drawn, 0, FacilityStatus.ACTIVE)
            for pk, drawn, closed in closes.select("facility_id", "drawn", "closed").iter_rows()
        ),
    )
    stats.payments = paying.height
    stats.installments_paid = paid.height
    stats.facilities_closed = int(closes["closed"].sum())


def _tasks_and_contacts(rng: np.random.Generator, day: date, stats: DayStats) -> None:
    from fincrm.core.frames import fetch
    from fincrm.customers.models import Customer
    from fincrm.engagement.choices import TaskStatus
    from fincrm.engagement.models import Interaction, Task

    tasks = fetch(
        Task.objects.order_by()
        .filter(status=TaskStatus.OPEN, due_on__lte=day)
        .values_list("pk", "customer_id", "owner_id", "kind", "channel", "title", "due_on"),
        {
            "id": pl.Int64, "customer_id": pl.Int64, "owner_id": pl.Int64, "kind": pl.String,
            "channel": pl.String, "title": pl.String, "due_on": pl.Date,
        },
    )  # fmt: skip
    clients = Customer.objects.order_by().count()
    capacity = int(TASKS_PER_CLIENT_DAY * clients) + 1
    done = tasks.filter(pl.Series(rng.random(tasks.height)) < TASK_DONE)
    if done.height > capacity:  # the oldest first: what is overdue longest gets done
        done = done.sort("due_on", "id").head(capacity)
    done_at = _at(rng, day, done.height)
    update_rows(
        Task,
        ["status", "completed_at"],
        ((pk, TaskStatus.DONE, at) for pk, at in zip(done["id"], done_at, strict=True)),
    )
    stats.tasks_done = done.height
    contacts = done.with_columns(completed=done_at).filter(
        pl.col("customer_id").is_not_null() & pl.col("kind").is_in(list(CONTACT_KINDS))
    )
    outbound = contacts.select(
        "customer_id",
        channel=pl.when(pl.col("channel") != "")
        .then(pl.col("channel"))
        .otherwise(pl.col("kind").replace_strict(CONTACT_KINDS)),
        direction=pl.lit("out"),
        occurred_at=pl.col("completed"),
        subject=pl.col("title"),
        outcome=pl.Series(rng.choice(OUTCOMES, contacts.height), dtype=pl.String),
        created_by_id=pl.col("owner_id"),
    )
    n = rng.binomial(clients, INBOUND_SHARE) if clients else 0
    picked = rng.choice(clients, n, replace=False) if n else np.array([], dtype=np.int64)
    inbound = fetch(
        Customer.objects.order_by("pk").values_list("pk", "owner_id"),
        {"customer_id": pl.Int64, "created_by_id": pl.Int64},
    )[np.sort(picked)]
    channels = rng.choice(["phone", "wechat", "portal"], inbound.height, p=[0.5, 0.35, 0.15])
    inbound = inbound.select(
        "customer_id",
        channel=pl.Series(channels, dtype=pl.String),
        direction=pl.lit("in"),
        occurred_at=_at(rng, day, inbound.height),
        subject=pl.Series([names.INTERACTION_SUBJECTS[c][0] for c in channels], dtype=pl.String),
        outcome=pl.lit("reached"),
        created_by_id="created_by_id",
    )
    logged = pl.concat([outbound, inbound]).with_columns(
        summary=pl.lit("客户联系记录（模拟日常）"), next_step=pl.lit("")
    )
    stats.interactions = insert_frame(Interaction, logged) if logged.height else 0


def _alerts(rng: np.random.Generator, day: date, stats: DayStats) -> None:
    from fincrm.risk.choices import CLOSED_ALERT_STATUSES, AlertStatus
    from fincrm.risk.models import Alert

    open_ids = list(
        Alert.objects.order_by("pk")
        .exclude(status__in=CLOSED_ALERT_STATUSES)
        .filter(raised_on__lt=day)
        .values_list("pk", flat=True)
    )
    chosen = [pk for pk, r in zip(open_ids, rng.random(len(open_ids)), strict=True)
              if r < ALERT_CLOSED]  # fmt: skip
    for start in range(0, len(chosen), 20_000):
        alerts = list(
            Alert.objects.filter(pk__in=chosen[start : start + 20_000]).select_related("customer")
        )
        draws = rng.random(len(alerts))
        times = _at(rng, day, len(alerts))
        for alert, draw, at in zip(alerts, draws, times, strict=True):
            user_id = alert.assigned_to_id or alert.customer.owner_id
            dismissed = draw < ALERT_DISMISSED
            alert.acknowledged_by_id = alert.acknowledged_by_id or user_id
            alert.acknowledged_at = alert.acknowledged_at or at
            alert.status = AlertStatus.DISMISSED if dismissed else AlertStatus.RESOLVED
            alert.closed_at, alert.closed_by_id = at, user_id
            texts = DISMISSALS if dismissed else RESOLUTIONS
            alert.resolution = texts[int(draw * 1_000) % len(texts)]
        update_with_history(
            alerts,
            Alert,
            ["status", "acknowledged_by", "acknowledged_at", "closed_at", "closed_by",
             "resolution"],
            default_change_reason="closed by its assignee (demo day)",
        )  # fmt: skip
        stats.alerts_closed += len(alerts)


def _proposals(rng: np.random.Generator, day: date, stats: DayStats) -> None:
    from fincrm.accounts.choices import Role
    from fincrm.accounts.models import User
    from fincrm.risk.choices import ProposalStatus
    from fincrm.risk.models import ControlProposal
    from fincrm.risk.services import proposal_decide

    officers = list(User.objects.filter(role=Role.RISK_OFFICER, is_active=True).order_by("pk"))
    if not officers:
        return
    pending = list(
        ControlProposal.objects.filter(status=ProposalStatus.PENDING).order_by("created_at", "pk")[
            : DECISIONS_PER_OFFICER * len(officers)
        ]
    )
    draws = rng.random(len(pending))
    for i, (proposal, draw) in enumerate(zip(pending, draws, strict=True)):
        proposal_decide(
            proposal=proposal,
            user=officers[i % len(officers)],
            approve=draw < APPROVED,
            note="" if draw < APPROVED else "维持原有额度与期限",
        )
    stats.proposals_decided = len(pending)
