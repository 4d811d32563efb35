"""Pre-aggregations of the KPI dashboard, rebuilt after each prediction run: the heavy scans
(every instalment, every stage change) happen once a night, a dashboard reads a few thousand
rows. Filters the cube has no dimension for (segments) fall back to the live queries."""

from __future__ import annotations

from datetime import date

import polars as pl
from django.db import transaction
from django.db.models import CharField, Count, F, FloatField, Sum, Value
from django.db.models.functions import Cast, Coalesce

from fincrm.analytics.kpi import funnel_parts
from fincrm.core.bulk import insert_rows
from fincrm.core.frames import LOCAL_DATE, fetch
from fincrm.customers.models import Customer
from fincrm.engagement.models import Interaction
from fincrm.financing.models import ApplicationStageChange, Installment

from .facts import facts_rebuild, grouped_facts, month_of, segment_rows
from .kpis import FUNNEL_STAGES
from .models import ContactCount, FunnelCount, FunnelDuration, Migration, MonthlyBalance


def _clients() -> pl.DataFrame:
    return fetch(
        Customer.objects.order_by().values_list("pk", "owner_id", "team_id",
                                                "classification__tier",
                                                "classification__segments"),
        {"customer_id": pl.Int64, "owner_id": pl.Int64, "team_id": pl.Int64, "tier": pl.String,
         "segments": pl.String},
    ).with_columns(pl.col("tier").fill_null(""))  # fmt: skip


def _by_segment(frame: pl.DataFrame, clients: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (with ``customer_id``) once under segment "*" and once per segment of its
    client, so that sums over one segment, or over "*", count each client once."""
    memberships = (
        clients.select(
            "customer_id",
            segment=pl.col("segments").fill_null("[]").str.json_decode(pl.List(pl.String)),
        )
        .explode("segment")
        .drop_nulls("segment")
    )
    return pl.concat(
        [frame.with_columns(segment=pl.lit("*")), frame.join(memberships, on="customer_id")]
    )


def _monthly_balances() -> pl.DataFrame:
    """Principal of facilities started and falling due per month, by the cube's dimensions:
    grouped by the database (a million clients' instalments never leave it)."""
    rows = Installment.objects.all()
    common = {"product": F("facility__product__code"), "n": Count("pk"),
              "value": Sum("principal_due", output_field=FloatField())}  # fmt: skip
    client = "facility__customer"
    started = grouped_facts(rows, client, month=month_of("facility__start_date"), **common)
    due = grouped_facts(rows, client, month=month_of("due_date"), **common)
    both = pl.concat(
        [
            segment_rows(started).with_columns(started="value", due=pl.lit(0.0)),
            segment_rows(due).with_columns(started=pl.lit(0.0), due="value"),
        ]
    )
    return both.group_by("month", "owner_id", "team_id", "product", "tier", "segment").agg(
        pl.col("started").sum(), pl.col("due").sum()
    )


def _contact_counts() -> pl.DataFrame:
    """Contacts logged per month by each member of staff, by the cube's dimensions."""
    grouped = grouped_facts(
        Interaction.objects.all(), "customer", month=month_of("occurred_at"),
        key=Coalesce(Cast("created_by_id", CharField()), Value("")), n=Count("pk"),
    )  # fmt: skip
    return segment_rows(grouped).select(
        "month",
        manager_id=pl.when(pl.col("key") != "").then(pl.col("key")).cast(pl.Int64),
        owner_id="owner_id", team_id="team_id", tier="tier", segment="segment", n="n",
    )  # fmt: skip


@transaction.atomic
def cube_rebuild(*, built_on: date | None = None) -> dict[str, int]:
    clients = _clients()
    monthly = _monthly_balances()
    MonthlyBalance.objects.all().delete()
    balances = insert_rows(
        MonthlyBalance,
        ("month", "owner_id", "team_id", "product", "tier", "segment", "started", "due"),
        monthly.select("month", "owner_id", "team_id", "product", pl.col("tier").fill_null(""),
                       "segment", "started", "due").iter_rows(),
    )  # fmt: skip
    funnel = (
        _by_segment(stage_dates(ApplicationStageChange.objects.order_by()), clients)
        .join(clients.drop("segments"), on="customer_id", how="left")
        .with_columns(month=pl.col("created").dt.truncate("1mo"), tier=pl.col("tier").fill_null(""))
    )
    FunnelCount.objects.all().delete()
    FunnelDuration.objects.all().delete()
    applications = 0
    # Per manager and team, and once for the whole book (owner and team left empty).
    for whole_book, dims in ((False, ["month", "owner_id", "team_id", "product", "tier",
                                      "segment"]),
                             (True, ["month", "product", "tier", "segment"])):  # fmt: skip
        counts, durations = funnel_parts(funnel, [str(s) for s in FUNNEL_STAGES], by=dims)
        applications += insert_rows(
            FunnelCount, (*dims, "stage", "reached"), counts.iter_rows(),
            constants={"whole_book": whole_book},
        ) + insert_rows(
            FunnelDuration, (*dims, "stage", "days", "n"), durations.iter_rows(),
            constants={"whole_book": whole_book},
        )  # fmt: skip
    migrations = _migrations(clients)
    contacts = _contact_counts()
    ContactCount.objects.all().delete()
    contact_rows = insert_rows(
        ContactCount, ("month", "manager_id", "owner_id", "team_id", "tier", "segment", "n"),
        contacts.iter_rows(), constants={"product": ""},
    )  # fmt: skip
    facts = facts_rebuild(clients, built_on=built_on)
    return {"monthly_balances": balances, "funnel_rows": applications, "migrations": migrations,
            "contact_counts": contact_rows, "kpi_facts": facts}  # fmt: skip


def stage_dates(changes) -> pl.DataFrame:
    """One row per application: client, product, local creation date and the local date it
    first entered each funnel stage (durations in whole days, as the cube keeps them)."""
    stages = [str(s) for s in FUNNEL_STAGES]
    rows = fetch(
        changes.filter(to_stage__in=stages).values_list(
            "application_id", "application__customer_id", "application__product__code",
            "application__created_at", "to_stage", "changed_at",
        ),
        {"application_id": pl.Int64, "customer_id": pl.Int64, "product": pl.String,
         "created": LOCAL_DATE, "stage": pl.String, "on": LOCAL_DATE},
    )  # fmt: skip
    keys = ["application_id", "customer_id", "product", "created"]
    if rows.is_empty():
        return pl.DataFrame(schema={**{k: rows.schema[k] for k in keys},
                                    **dict.fromkeys(stages, pl.Date)})  # fmt: skip
    wide = (
        rows.group_by(*keys, "stage")
        .agg(pl.col("on").min())
        .pivot(on="stage", index=keys, values="on")
    )
    missing = [pl.lit(None, pl.Date).alias(s) for s in stages if s not in wide.columns]
    return wide.with_columns(missing).select(*keys, *stages)


def _migrations(clients: pl.DataFrame) -> int:
    from fincrm.evaluation.choices import RunKind, RunStatus
    from fincrm.evaluation.models import EvaluationRun

    Migration.objects.all().delete()
    runs = list(
        EvaluationRun.objects.filter(kind=RunKind.FULL, status=RunStatus.SUCCEEDED).order_by(
            "-started_at"
        )[:2]
    )
    if len(runs) < 2:
        return 0
    after, before = runs

    def read(run) -> pl.DataFrame:
        return fetch(
            run.snapshot_model.objects.order_by().filter(run=run)
            .values_list("customer_id", "tier", "grade"),
            {"customer_id": pl.Int64, "tier": pl.String, "grade": pl.String},
        )  # fmt: skip

    pairs = read(before).join(read(after), on="customer_id", how="full", suffix="_after",
                              coalesce=True)  # fmt: skip
    pairs = _by_segment(pairs, clients).join(
        clients.drop("tier", "segments"), on="customer_id", how="left"
    ).join(
        clients.select("customer_id", "tier").rename({"tier": "tier_now"}), on="customer_id",
        how="left",
    )  # fmt: skip
    frames = [
        pairs.group_by("owner_id", "team_id", "tier_now", "segment",
                       before=pl.col(col).fill_null(""),
                       after=pl.col(f"{col}_after").fill_null(""))
        .agg(clients=pl.len())
        .with_columns(kind=pl.lit(col))
        for col in ("tier", "grade")
    ]  # fmt: skip
    rows = pl.concat(frames).select(
        "kind", "owner_id", "team_id", pl.col("tier_now").fill_null("").alias("tier"),
        "segment", "before", "after", "clients",
    )  # fmt: skip
    return insert_rows(
        Migration,
        ("kind", "owner_id", "team_id", "tier", "segment", "before", "after", "clients"),
        rows.iter_rows(), constants={"before_run": before.pk, "after_run": after.pk,
                                     "product": ""},
    )  # fmt: skip


def cube_rows(model, *, user, f, db: str, by_product: bool = True, by_manager: bool = False):
    """The cube rows the user may see on database ``db``, narrowed by the filters; None when
    the cube was never built (the caller computes live). ``by_manager``: rows the caller
    groups by manager (never the whole book's, which have none)."""
    from fincrm.core.permissions import NOTHING, scope

    cube = model.objects.using(db)
    if not cube.exists():
        return None
    q = scope(user, "view", owner_field="owner_id", team_field="team_id")
    if q is NOTHING:
        return cube.none()
    rows = cube.filter(q) if q else cube.all()
    rows = rows.filter(segment=f.segment or "*")
    if any(field.name == "whole_book" for field in model._meta.fields):
        # The whole book's rows serve whoever sees it all and asks for no team or manager.
        rows = rows.filter(whole_book=not (q or f.team or f.manager or by_manager))
    if f.team:
        from fincrm.accounts.models import Team

        team = Team.objects.filter(pk=f.team).first()
        rows = rows.filter(team_id__in=team.subtree_ids()) if team else rows.none()
    if f.manager:
        rows = rows.filter(owner_id=f.manager)
    if f.tier:
        rows = rows.filter(tier=f.tier)
    if f.product and by_product:
        rows = rows.filter(product=f.product)
    return rows
