"""Financial statements as a frame: the columns every reader of statements (the evaluation's
ratios, the risk pages' ratio history) fetches with ``core.frames.fetch``."""

from __future__ import annotations

import polars as pl
from django.db.models import QuerySet

from fincrm.analytics.ratios import STATEMENT_LINES

STATEMENT_SCHEMA = {
    "customer_id": pl.Int64,
    "period_end": pl.Date,
    **dict.fromkeys(STATEMENT_LINES, pl.Float64),
}


def statement_rows(qs: QuerySet) -> QuerySet:
    """``FinancialStatement`` rows in the columns of ``STATEMENT_SCHEMA``."""
    return qs.values_list("customer_id", "period_end", *STATEMENT_LINES)
