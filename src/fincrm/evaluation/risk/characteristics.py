"""The scorecard's characteristics as they were known on a date (nothing later)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl
from django.db.models import FloatField, Q, Sum
from django.db.models.functions import Cast

from fincrm.analytics.ratios import compute_ratios, latest_ratios, ratio_changes
from fincrm.financing.models import Facility, Installment

from ..features import BookReads, client_ids, fetch_for

#: Characteristics of the scorecard: repayment behaviour, balance sheet, earnings, tenure.
SCORE_FEATURES = (
    "max_dpd_12m",
    "debt_to_asset",
    "current_ratio",
    "interest_coverage",
    "revenue_growth",
    "net_margin",
    "tenure_days",
    "utilisation",
)
#: How the default rate must move across each characteristic's bins, where a lender expects
#: it to (more arrears, leverage or utilisation: riskier; more liquidity, cover, margin or
#: tenure: safer). Revenue growth is left to the data: very fast growth is a risk too.
MONOTONIC = {
    "max_dpd_12m": "ascending",
    "debt_to_asset": "ascending",
    "utilisation": "ascending",
    "current_ratio": "descending",
    "interest_coverage": "descending",
    "net_margin": "descending",
    "tenure_days": "descending",
}
#: Annual statements become known about four months after the period ends: a statement
#: is only used once it would have been on file (no look-ahead in training).
REPORTING_LAG = timedelta(days=120)


def point_in_time_features(
    *, as_of: date, customer_ids: Sequence[int] | None = None, reads: BookReads | None = None
):
    """The scorecard's characteristics as they were known on ``as_of`` (nothing later).

    ``reads`` shares the tables the value features already read for the same date.
    """
    ids = client_ids(customer_ids)
    if reads is None or reads.as_of != as_of:
        reads = BookReads(as_of=as_of, customer_ids=ids)
    customers = reads.get("customers").select("customer_id")
    facilities = reads.get("facility_rows")
    live = facilities.filter(pl.col("maturity_date") > as_of)
    exposure = facilities.group_by("customer_id").agg(first_start=pl.col("start_date").min())
    exposure = exposure.join(
        live.group_by("customer_id").agg(
            limit=pl.col("approved_limit").sum(), drawn=pl.col("drawn_amount").sum()
        ),
        on="customer_id",
        how="left",
    )
    dpd = reads.repayment.select(
        "customer_id", max_dpd_12m="known_max_dpd_12m", current_dpd="known_current_dpd"
    )
    statements = reads.statements.filter(pl.col("period_end") <= as_of - REPORTING_LAG)
    if statements.is_empty():
        ratios = pl.DataFrame(
            schema={
                "customer_id": pl.Int64,
                "debt_to_asset": pl.Float64,
                "current_ratio": pl.Float64,
                "interest_coverage": pl.Float64,
                "revenue_growth": pl.Float64,
                "net_margin": pl.Float64,
            }
        )
        changes = pl.DataFrame(
            schema={"customer_id": pl.Int64, "revenue_change": pl.Float64, "ocf_change": pl.Float64}
        )
    else:
        all_ratios = compute_ratios(statements)
        ratios = latest_ratios(all_ratios).select(
            "customer_id",
            "debt_to_asset",
            "current_ratio",
            "interest_coverage",
            "revenue_growth",
            "net_margin",
        )
        changes = ratio_changes(statements).select("customer_id", "revenue_change", "ocf_change")
    return (
        customers.join(exposure, on="customer_id", how="left")
        .join(dpd, on="customer_id", how="left")
        .join(ratios, on="customer_id", how="left")
        .join(changes, on="customer_id", how="left")
        .with_columns(
            max_dpd_12m=pl.col("max_dpd_12m").fill_null(0).cast(pl.Float64),
            current_dpd=pl.col("current_dpd").fill_null(0),
            tenure_days=(pl.lit(as_of) - pl.col("first_start")).dt.total_days().cast(pl.Float64),
            utilisation=pl.when(pl.col("limit") > 0).then(pl.col("drawn") / pl.col("limit")),
        )
    )


def utilisation_at(as_of: date) -> pl.DataFrame:
    """customer_id, utilisation: of the facilities live on ``as_of``, the principal not yet
    repaid by then (limit − principal of the instalments settled by then) over the limit."""
    live = Q(facility__start_date__lte=as_of, facility__maturity_date__gt=as_of)
    repaid = fetch_for(
        Installment.objects.order_by()
        .filter(live, paid_off_on__lte=as_of)
        .values("facility__customer_id")
        .annotate(repaid=Sum(Cast("principal_due", FloatField())))
        .values_list("facility__customer_id", "repaid"),
        "facility__customer_id",
        None,
        {"customer_id": pl.Int64, "repaid": pl.Float64},
    )
    limits = fetch_for(
        Facility.objects.order_by()
        .filter(start_date__lte=as_of, maturity_date__gt=as_of)
        .values("customer_id")
        .annotate(limit=Sum(Cast("approved_limit", FloatField())))
        .values_list("customer_id", "limit"),
        "customer_id",
        None,
        {"customer_id": pl.Int64, "limit": pl.Float64},
    )
    return limits.join(repaid, on="customer_id", how="left").select(
        "customer_id",
        utilisation=pl.when(pl.col("limit") > 0).then(
            (1 - pl.col("repaid").fill_null(0) / pl.col("limit")).clip(0, 1)
        ),
    )
