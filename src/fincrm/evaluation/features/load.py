"""The feature frame the scoring needs, built from a run's reads; what changed since a run."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

import polars as pl
from django.db.models import QuerySet

from fincrm.analytics.policy import PolicyConfig, default_policy
from fincrm.analytics.ratios import compute_ratios, latest_ratios
from fincrm.analytics.tiering import demand_signal, renewal_counts
from fincrm.customers.models import Customer, FinancialStatement
from fincrm.engagement.models import Interaction
from fincrm.financing.models import Application, Facility, Payment

from .book import BookReads


def _days_since(column: str, as_of: date) -> pl.Expr:
    return (pl.lit(as_of) - pl.col(column)).dt.total_days()


def load_features(
    *,
    as_of: date,
    customer_ids: Sequence[int] | None = None,
    reads: BookReads | None = None,
    policy: PolicyConfig | None = None,
) -> pl.DataFrame:
    """One row per client with the input columns of ``fincrm.analytics.tiering``.

    Parameters
    ----------
    as_of : date
        The evaluation date; windows ("last 12 months") end on it.
    customer_ids : sequence of int, optional
        Restrict to these clients (incremental and single-client runs); None = all.
    policy : PolicyConfig, optional
        The renewal window and demand horizon (default: the shipped policy's).
    """
    reads = reads or BookReads(as_of=as_of, customer_ids=customer_ids)
    policy = policy or default_policy()
    return _feature_columns(_joined_reads(reads, as_of, policy), as_of, policy)


def _joined_reads(reads: BookReads, as_of: date, policy: PolicyConfig) -> pl.DataFrame:
    """Every read of the book joined on the client: one row per client, raw columns."""
    customers = reads.get("customers")
    facilities = reads.get("facilities")
    repayment = reads.repayment.select("customer_id", "interest_income_12m", "max_dpd_12m")
    payments = reads.get("payments")
    fees = reads.get("fees")
    applications = reads.get("applications")
    interactions = reads.get("interactions")
    ratios = latest_statement_ratios(reads.statements)
    renewals = renewal_counts(
        reads.get("facility_rows"),
        before_days=policy.loyalty.renewal_before_days,
        after_days=policy.loyalty.renewal_after_days,
    )
    liabilities = (
        reads.statements.filter(pl.col("period_end") <= as_of)
        .sort("period_end")
        .group_by("customer_id")
        .agg(total_liabilities=pl.col("total_liabilities").last())
    )

    frame = (
        customers.join(facilities, on="customer_id", how="left")
        .join(repayment, on="customer_id", how="left")
        .join(payments, on="customer_id", how="left")
        .join(fees, on="customer_id", how="left")
        .join(applications, on="customer_id", how="left")
        .join(interactions, on="customer_id", how="left")
        .join(ratios, on="customer_id", how="left")
        .join(renewals, on="customer_id", how="left")
        .join(liabilities, on="customer_id", how="left")
        .join(
            reads.get("predictions").with_columns(predicted=pl.lit(True)),
            on="customer_id",
            how="left",
        )
        .join(reads.get("satisfaction"), on="customer_id", how="left")
        .join(reads.get("events"), on="customer_id", how="left")
        .join(reads.get("legal"), on="customer_id", how="left")
    )
    from ..knowledge_reads import read_knowledge_reads, with_knowledge_reads  # issue 24.8

    reads.add("knowledge", lambda: read_knowledge_reads(as_of, reads.ids))
    frame = with_knowledge_reads(frame, reads.get("knowledge"))
    from ..referrals import read_referrals, with_referrals  # (its own module: issue 21.5)

    reads.add("referrals", lambda: read_referrals(as_of, reads.ids))
    frame = with_referrals(frame, reads.get("referrals"))
    return frame


def _feature_columns(frame: pl.DataFrame, as_of: date, policy: PolicyConfig) -> pl.DataFrame:
    """The tiering's input columns from the joined reads: nulls filled, days counted from
    ``as_of``, the demand signal over the policy's horizon."""
    last_transaction = pl.max_horizontal("last_paid", "last_start")
    return frame.with_columns(
        tenure_days=_days_since("first_start", as_of).fill_null(0).clip(0),
        interest_income_12m=pl.col("interest_income_12m").fill_null(0.0),
        fee_income_12m=pl.col("fee_income_12m").fill_null(0.0),
        balance=pl.col("balance").fill_null(0.0),
        approved_limit=pl.col("approved_limit").fill_null(0.0),
        revenue=pl.coalesce("statement_revenue", "annual_revenue"),
        # The latest prediction run's next need (null: the client was never predicted).
        predicted_demand=pl.when(pl.col("predicted")).then(
            demand_signal(
                pl.col("days_to_need"),
                pl.col("need_confidence"),
                horizon_days=policy.potential.demand_horizon_days,
            )
        ),
        renewals=pl.col("renewals").fill_null(0),
        product_count=pl.col("product_count").fill_null(0),
        # Our exposure over the client's borrowing everywhere (latest statement's
        # liabilities); unknown without one.
        share_of_wallet=pl.when(pl.col("total_liabilities") > 0).then(
            (pl.col("balance").fill_null(0.0) / pl.col("total_liabilities")).clip(0, 1)
        ),
        last_nps=pl.col("last_nps"),
        satisfaction=pl.col("satisfaction"),
        interactions_12m=pl.col("interactions_12m").fill_null(0),
        successful_interactions_12m=pl.col("successful_interactions_12m").fill_null(0),
        max_dpd_12m=pl.max_horizontal(
            pl.col("max_dpd_12m").fill_null(0), pl.col("current_dpd").fill_null(0)
        ),
        current_dpd=pl.col("current_dpd").fill_null(0),
        open_warnings=pl.lit(0, dtype=pl.Int64),
        credit_grade=pl.lit(None, dtype=pl.String),
        days_since_last_application=_days_since("last_application", as_of),
        days_since_last_transaction=(pl.lit(as_of) - last_transaction).dt.total_days(),
        days_since_successful_contact=_days_since("last_successful", as_of),
        has_facility=pl.col("facility_count").fill_null(0) > 0,
        company_age_years=_days_since("founded_on", as_of) / 365.25,
        age_years=_days_since("birthday", as_of) / 365.25,
    )


def latest_statement_ratios(statements: pl.DataFrame) -> pl.DataFrame:
    """Latest revenue, growth and balance-sheet ratios per client (analytics.ratios)."""
    schema = {
        "customer_id": pl.Int64,
        "statement_revenue": pl.Float64,
        "revenue_growth": pl.Float64,
        "debt_to_asset": pl.Float64,
        "current_ratio": pl.Float64,
    }
    if statements.is_empty():
        return pl.DataFrame(schema=schema)
    ratios = latest_ratios(compute_ratios(statements))
    revenue = (
        statements.sort("period_end")
        .group_by("customer_id")
        .agg(statement_revenue=pl.col("revenue").last())
    )
    return (
        ratios.select("customer_id", "revenue_growth", "debt_to_asset", "current_ratio")
        .join(revenue, on="customer_id", how="left")
        .select(list(schema))
    )


def changed_customer_ids(*, since: datetime) -> list[int]:
    """Clients whose own data or whose financing, payments or contacts changed since a time."""
    sources: Iterable[QuerySet] = (
        Customer.objects.filter(updated_at__gte=since).values_list("pk", flat=True),
        Application.objects.filter(stage_changed_at__gte=since).values_list(
            "customer_id", flat=True
        ),
        Payment.objects.filter(recorded_at__gte=since).values_list(
            "facility__customer_id", flat=True
        ),
        Interaction.objects.filter(occurred_at__gte=since).values_list("customer_id", flat=True),
        FinancialStatement.objects.filter(updated_at__gte=since).values_list(
            "customer_id", flat=True
        ),
        Facility.objects.filter(updated_at__gte=since).values_list("customer_id", flat=True),
    )
    changed: set[int] = set()
    for qs in sources:
        changed.update(qs.order_by().distinct())
    return sorted(changed)
