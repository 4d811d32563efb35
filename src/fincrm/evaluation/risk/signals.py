"""The early-warning signals of each client, read in bulk for an assessment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl
from django.apps import apps
from django.db.models import Count, Min

from fincrm.analytics.policy import PolicyConfig
from fincrm.financing.choices import CLOSED_STAGES
from fincrm.financing.models import Application, Facility

from ..features import fetch_for, local_midnight


def _signals(pit, features, result, previous, as_of, ids, policy: PolicyConfig) -> pl.DataFrame:
    """Every early-warning signal per client (null where it cannot be measured)."""
    complaints = _complaints_90d(ids, as_of)
    maturity = _maturity_without_renewal(ids, as_of)
    external = _external_findings(ids, as_of, policy.checks)
    funds = _use_of_funds(ids, as_of)
    return (
        result.join(pit, on="customer_id", how="left")
        .join(previous, on="customer_id", how="left")
        .join(
            features.select("customer_id", "days_since_successful_contact", "owner_id"),
            on="customer_id",
            how="left",
        )
        .join(complaints, on="customer_id", how="left")
        .join(maturity, on="customer_id", how="left")
        .join(external, on="customer_id", how="left")
        .join(funds, on="customer_id", how="left")
        # Early warning watches borrowers: clients with a live facility.
        .filter(pl.col("limit").fill_null(0) > 0)
        .select(
            "customer_id",
            "owner_id",
            "current_dpd",
            "utilisation",
            "revenue_change",
            "ocf_change",
            "current_ratio",
            "debt_to_asset",
            "days_since_successful_contact",
            "maturity_without_renewal_days",
            utilisation_change=pl.col("utilisation") - pl.col("previous_utilisation"),
            score_change=pl.col("score") - pl.col("previous_score"),
            complaints_90d=pl.col("complaints_90d").fill_null(0),
            external_findings=pl.col("external_findings").fill_null(0),
            funds_evidence_overdue=pl.col("funds_evidence_overdue").fill_null(0),
            funds_payee_mismatch=pl.col("funds_payee_mismatch").fill_null(0),
        )
    )


def _use_of_funds(ids: Sequence[int] | None, as_of: date) -> pl.DataFrame:
    """Evidence of the use of funds unproven after its deadline, and evidence whose payee does
    not fit the loan, per client (``postloan.selectors.use_of_funds_counts``)."""
    from fincrm.postloan.selectors import use_of_funds_counts

    overdue, mismatch = use_of_funds_counts(as_of)
    frames = [
        fetch_for(qs, "facility__customer_id", ids, {"customer_id": pl.Int64, name: pl.Int64})
        for qs, name in ((overdue, "funds_evidence_overdue"), (mismatch, "funds_payee_mismatch"))
    ]
    return frames[0].join(frames[1], on="customer_id", how="full", coalesce=True)


def _external_findings(ids: Sequence[int] | None, as_of: date, rules) -> pl.DataFrame:
    """Open legal and reputation findings first reported lately, per client (the signal
    ``external_findings``; ``checks.selectors.external_findings_counts``), by the run's own
    policy (``policy.checks``)."""
    from fincrm.checks.selectors import external_findings_counts

    counts = external_findings_counts(
        as_of, days=rules.signal_days, categories=rules.signal_categories
    )
    schema = {"customer_id": pl.Int64, "external_findings": pl.Int64}
    return fetch_for(counts, "customer_id", ids, schema)


def _complaints_90d(ids: Sequence[int] | None, as_of: date) -> pl.DataFrame:
    """Complaints in the 90 days up to ``as_of``: contacts logged with the outcome "issue
    raised" (any channel), plus complaint tickets once the service desk app exists."""
    from fincrm.engagement.choices import Outcome
    from fincrm.engagement.models import Interaction

    schema = {"customer_id": pl.Int64, "complaints_90d": pl.Int64}
    since = local_midnight(as_of - timedelta(days=89))
    until = local_midnight(as_of + timedelta(days=1))

    def per_client(qs) -> pl.DataFrame:
        counted = qs.order_by().values("customer_id").annotate(n=Count("pk"))
        return fetch_for(counted.values_list("customer_id", "n"), "customer_id", ids, schema)

    counts = [
        per_client(
            Interaction.objects.filter(
                outcome=Outcome.ISSUE_RAISED, occurred_at__gte=since, occurred_at__lt=until
            )
        )
    ]
    if apps.is_installed("fincrm.service"):
        ticket = apps.get_model("service", "Ticket")
        counts.append(
            per_client(
                ticket.objects.filter(kind="complaint", opened_at__gte=since, opened_at__lt=until)
            )
        )
    return pl.concat(counts).group_by("customer_id").agg(pl.col("complaints_90d").sum())


def _maturity_without_renewal(ids: Sequence[int] | None, as_of: date) -> pl.DataFrame:
    """Days to the nearest maturity of a live facility, for clients with no open application."""
    schema = {"customer_id": pl.Int64, "next_maturity": pl.Date}
    maturities = fetch_for(
        Facility.objects.order_by()
        .filter(status="active", maturity_date__gte=as_of)
        .values("customer_id")
        .annotate(next_maturity=Min("maturity_date"))
        .values_list("customer_id", "next_maturity"),
        "customer_id",
        ids,
        schema,
    )
    renewing = fetch_for(
        Application.objects.order_by().exclude(stage__in=CLOSED_STAGES).values_list("customer_id"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64},
    )
    return maturities.join(renewing.unique(), on="customer_id", how="anti").select(
        "customer_id",
        maturity_without_renewal_days=(pl.col("next_maturity") - pl.lit(as_of)).dt.total_days(),
    )
