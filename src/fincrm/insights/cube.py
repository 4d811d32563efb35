"""Pre-aggregations of the KPI dashboard, rebuilt after each prediction run: the heavy scans
(every instalment, every stage change) happen once a night, a dashboard reads a few thousand
rows. Filters the cube has no dimension for (segments) fall back to the live queries."""

from __future__ import annotations

import polars as pl
from django.db import transaction
from django.db.models import Sum

from fincrm.core.bulk import insert_rows
from fincrm.customers.models import Customer
from fincrm.evaluation.features import fetch
from fincrm.financing.models import ApplicationStageChange, Installment

from .kpis import FUNNEL_STAGES
from .models import FunnelRow, Migration, MonthlyBalance


def _clients() -> pl.DataFrame:
    return fetch(
        Customer.objects.order_by().values_list("pk", "owner_id", "team_id",
                                                "classification__tier"),
        {"customer_id": pl.Int64, "owner_id": pl.Int64, "team_id": pl.Int64, "tier": pl.String},
    ).with_columns(pl.col("tier").fill_null(""))  # fmt: skip


@transaction.atomic
def cube_rebuild() -> dict[str, int]:
    clients = _clients()
    schema = {"customer_id": pl.Int64, "product": pl.String, "day": pl.Date, "amount": pl.Float64}
    rows = Installment.objects.order_by()
    started = fetch(
        rows.values("facility__customer_id", "facility__product__code", "facility__start_date")
        .annotate(amount=Sum("principal_due"))
        .values_list(
            "facility__customer_id", "facility__product__code", "facility__start_date", "amount"
        ),
        schema,
    ).with_columns(month=pl.col("day").dt.truncate("1mo"), started="amount", due=pl.lit(0.0))
    due = fetch(
        rows.values("facility__customer_id", "facility__product__code", "due_date")
        .annotate(amount=Sum("principal_due"))
        .values_list("facility__customer_id", "facility__product__code", "due_date", "amount"),
        schema,
    ).with_columns(month=pl.col("day").dt.truncate("1mo"), started=pl.lit(0.0), due="amount")
    monthly = (
        pl.concat([started, due])
        .join(clients, on="customer_id", how="left")
        .group_by("month", "owner_id", "team_id", "product", "tier")
        .agg(pl.col("started").sum(), pl.col("due").sum())
    )
    MonthlyBalance.objects.all().delete()
    balances = insert_rows(
        MonthlyBalance, ("month", "owner_id", "team_id", "product", "tier", "started", "due"),
        monthly.select("month", "owner_id", "team_id", "product", pl.col("tier").fill_null(""),
                       "started", "due").iter_rows(),
    )  # fmt: skip
    changes = fetch(
        ApplicationStageChange.objects.order_by().values_list(
            "application_id", "application__customer_id", "application__product__code",
            "application__created_at", "to_stage", "changed_at",
        ),
        {"application_id": pl.Int64, "customer_id": pl.Int64, "product": pl.String,
         "created_at": pl.Datetime("us", "UTC"), "stage": pl.String,
         "at": pl.Datetime("us", "UTC")},
    )  # fmt: skip
    stages = [str(stage) for stage in FUNNEL_STAGES]
    funnel = (
        changes.filter(pl.col("stage").is_in(stages))
        .group_by("application_id", "customer_id", "product", "created_at", "stage")
        .agg(pl.col("at").min())
        .pivot(on="stage", index=["application_id", "customer_id", "product", "created_at"],
               values="at")
        .join(clients, on="customer_id", how="left")
    )  # fmt: skip
    for stage in stages:
        if stage not in funnel.columns:
            funnel = funnel.with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias(stage))
    FunnelRow.objects.all().delete()
    columns = ["application_id", "customer_id", "owner_id", "team_id", "product", "tier",
               "created_at", *stages]  # fmt: skip
    applications = insert_rows(
        FunnelRow, columns,
        funnel.select(*columns[:5], pl.col("tier").fill_null(""), *columns[6:]).iter_rows(),
    )  # fmt: skip
    migrations = _migrations(clients)
    return {"monthly_balances": balances, "funnel_rows": applications, "migrations": migrations}


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
    pairs = pairs.join(clients.drop("tier"), on="customer_id", how="left").join(
        clients.select("customer_id", "tier").rename({"tier": "tier_now"}), on="customer_id",
        how="left",
    )  # fmt: skip
    frames = [
        pairs.group_by("owner_id", "team_id", "tier_now", before=pl.col(col).fill_null(""),
                       after=pl.col(f"{col}_after").fill_null(""))
        .agg(clients=pl.len())
        .with_columns(kind=pl.lit(col))
        for col in ("tier", "grade")
    ]  # fmt: skip
    rows = pl.concat(frames).select(
        "kind", "owner_id", "team_id", pl.col("tier_now").fill_null("").alias("tier"),
        "before", "after", "clients",
    )  # fmt: skip
    return insert_rows(
        Migration, ("kind", "owner_id", "team_id", "tier", "before", "after", "clients"),
        rows.iter_rows(), constants={"before_run": before.pk, "after_run": after.pk,
                                     "product": ""},
    )  # fmt: skip


def cube_rows(model, *, user, f, by_product: bool = True):
    """The cube rows the user may see, narrowed by the filters; None when a filter has no
    dimension in the cube (the caller computes live) or the cube was never built."""
    from fincrm.core.permissions import NOTHING, scope

    if f.segment or not model.objects.exists():
        return None
    q = scope(user, "view", owner_field="owner_id", team_field="team_id")
    if q is NOTHING:
        return model.objects.none()
    rows = model.objects.filter(q) if q else model.objects.all()
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
