"""Referrals as a value input (issue 21, point 5): the clients a client brought in
(``Customer.referred_by``) that became active — hold or held a facility — feed the loyalty
sub-score of the value tiering (``policy.loyalty.referrals_weight``, saturating at
``referrals_ref``) and its reasons (code ``referrals``).

A referral is known for every client: one that brought nobody in counts 0, never unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl
from django.db.models import Count

from fincrm.financing.models import Facility

from .features import fetch_for

REFERRAL_SCHEMA = {"customer_id": pl.Int64, "referrals": pl.Int64}


def read_referrals(as_of: date, ids: Sequence[int] | None) -> pl.DataFrame:
    """customer_id, referrals: per referrer among ``ids`` (None: every client), the clients
    it referred with a facility started by ``as_of``, each counted once however many
    facilities it has. No row: no such client (0)."""
    return fetch_for(
        Facility.objects.order_by()
        .filter(start_date__lte=as_of, customer__referred_by__isnull=False)
        .values("customer__referred_by_id")
        .annotate(referrals=Count("customer_id", distinct=True))
        .values_list("customer__referred_by_id", "referrals"),
        "customer__referred_by_id",
        ids,
        REFERRAL_SCHEMA,
    )


def with_referrals(frame: pl.DataFrame, referrals: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (one row per client) with its ``referrals`` column, 0 for a client that
    brought in no active client."""
    return frame.join(referrals, on="customer_id", how="left").with_columns(
        referrals=pl.col("referrals").fill_null(0)
    )
