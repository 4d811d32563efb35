"""Knowledge reads as a value input (issue 24, point 8): the articles of the knowledge
library a client read in the portal in the last 12 months feed the loyalty sub-score of the
value tiering as engagement (``policy.loyalty.knowledge_weight``, saturating at
``knowledge_reads_ref`` articles) and its reasons (code ``knowledge_reads``).

Known only for a client that could read: one with a portal login by the run's day, once the
library has published something. Others are unknown and drop out without a reason, as event
attendance of a client never invited does, so a book without portal logins or articles
scores exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl
from django.apps import apps
from django.db.models import Count

from fincrm.knowledge.models import Article, ArticleRead

from .features import YEAR, fetch_for, local_midnight

KNOWLEDGE_SCHEMA = {"customer_id": pl.Int64, "knowledge_reads_12m": pl.Float64}


def read_knowledge_reads(as_of: date, ids: Sequence[int] | None) -> pl.DataFrame:
    """customer_id, knowledge_reads_12m: per client among ``ids`` (None: all) with a portal
    login opened by ``as_of``, the distinct articles it read on the 365 days up to and
    including ``as_of`` (an article read on several days counts once). No row: unknown."""
    end = local_midnight(as_of + timedelta(days=1))
    if not apps.is_installed("fincrm.portal") or not (
        Article.objects.filter(published_at__lt=end).exists()
        or ArticleRead.objects.filter(day__lte=as_of).exists()
    ):
        return pl.DataFrame(schema=KNOWLEDGE_SCHEMA)
    # The portal sits above the evaluation: its table is looked up by name, not imported.
    account = apps.get_model("portal", "PortalAccount")
    readers = fetch_for(
        account.objects.order_by().filter(created_at__lt=end).values_list("customer_id"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64},
    ).unique()
    counts = fetch_for(
        ArticleRead.objects.order_by()
        .filter(day__gt=as_of - YEAR, day__lte=as_of)
        .values("customer_id")
        .annotate(n=Count("article_id", distinct=True))
        .values_list("customer_id", "n"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64, "n": pl.Int64},
    )
    return readers.join(counts, on="customer_id", how="left").select(
        "customer_id", knowledge_reads_12m=pl.col("n").fill_null(0).cast(pl.Float64)
    )


def with_knowledge_reads(frame: pl.DataFrame, reads: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (one row per client) with its ``knowledge_reads_12m`` (null: unknown)."""
    return frame.join(reads, on="customer_id", how="left")
