"""The value of the running book: the margin still to come on a client's facilities.

Pure polars, no Django. A lifetime value built only from *future* drawdowns (``clv``) misses
what a lender already holds: a client with millions outstanding pays interest and fees on
its schedule for months or years. This module values that stream.

For every instalment due after ``as_of`` (instalments already due and unpaid are arrears,
valued by the provisions, not here):

``income``
    Interest and fee still unpaid on the instalment (CNY), received on its due date.
``funding``
    What funding the balance costs over the instalment's period:
    ``funding_rate × balance × days / 365``, where ``balance`` is the principal still unpaid
    on this and every later instalment of the facility (the balance the period's interest is
    charged on) and ``days`` the period from the previous instalment's due date (the
    facility's start for the first) to this one. The whole period is counted, as the whole
    period's interest is.
``margin``
    ``income − funding``; may be negative when funding costs more than the facility earns.
``value``
    ``margin × S(t) / (1 + discount_rate) ** t`` with ``t`` the years from ``as_of`` to the
    due date (days / 365) and ``S(t) = (1 − PD) ** t`` the probability that the client has
    not defaulted by then, from its one-year PD (equivalently ``(1 − PD) ** (months / 12)``).

The client's running-book value is the sum over its instalments. The expected loss of
principal on default is not netted here: it is the provision's business, and the survival
weight already drops the margin a defaulted client would not pay.
"""

from __future__ import annotations

from datetime import date

import polars as pl

__all__ = ["INSTALMENT_COLUMNS", "running_book_value"]

#: The instalment frame: one row per instalment of a running facility, any due date (the
#: earlier ones give the later ones' period start). Amounts are the still-unpaid parts, CNY.
INSTALMENT_COLUMNS: dict[str, type[pl.DataType]] = {
    "customer_id": pl.Int64,
    "facility_id": pl.Int64,
    "start_date": pl.Date,
    "due_date": pl.Date,
    "principal": pl.Float64,
    "interest": pl.Float64,
    "fee": pl.Float64,
}
MISSING_COLUMNS = "instalments is missing column(s): {missing}"
BAD_RATE = "{name} must be a finite number >= 0, got {value!r}"
BAD_PD = "pd must lie in [0, 1]; {count} client(s) do not"
DAYS_PER_YEAR = 365.0

RESULT_SCHEMA = pl.Schema(
    {
        "customer_id": pl.Int64,
        "instalments": pl.UInt32,
        "income": pl.Float64,
        "funding": pl.Float64,
        "margin": pl.Float64,
        "value": pl.Float64,
    }
)


def _check_rate(name: str, value: float) -> float:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise ValueError(BAD_RATE.format(name=name, value=value)) from None
    if not (rate >= 0 and rate < float("inf")):
        raise ValueError(BAD_RATE.format(name=name, value=value))
    return rate


def running_book_value(
    instalments: pl.DataFrame,
    pd: pl.DataFrame,
    *,
    discount_rate: float,
    funding_rate: float,
    as_of: date,
) -> pl.DataFrame:
    """Discounted, survival-weighted margin still to come per client (rules above).

    Parameters
    ----------
    instalments : pl.DataFrame
        :data:`INSTALMENT_COLUMNS`: the schedules of the running facilities.
    pd : pl.DataFrame
        ``customer_id``, ``pd``: the one-year probability of default of each client (from its
        latest credit assessment). A client missing here, or with a null PD, gets a null
        ``value`` (its margin is still given): an unknown risk is not weighted as none.
    discount_rate : float
        Per year (0.10 = 10 %).
    funding_rate : float
        The lender's cost of funds per year (0.03 = 3 %).
    as_of : date
        Instalments due on or before it are past or in arrears and are left out.

    Returns
    -------
    pl.DataFrame
        One row per client with an instalment due after ``as_of``, sorted by
        ``customer_id``: ``instalments`` (count), ``income``, ``funding``, ``margin``
        (undiscounted, CNY) and ``value`` (discounted and survival-weighted, CNY).
    """
    discount_rate = _check_rate("discount_rate", discount_rate)
    funding_rate = _check_rate("funding_rate", funding_rate)
    missing = [c for c in INSTALMENT_COLUMNS if c not in instalments.columns]
    if missing:
        raise ValueError(MISSING_COLUMNS.format(missing=", ".join(missing)))
    risk = pd.select(pl.col("customer_id").cast(pl.Int64), pl.col("pd").cast(pl.Float64))
    bad = risk.filter((pl.col("pd") < 0) | (pl.col("pd") > 1)).height
    if bad:
        raise ValueError(BAD_PD.format(count=bad))
    rows = (
        _future_margins(instalments, funding_rate=funding_rate, as_of=as_of)
        .join(risk, on="customer_id", how="left")
        .with_columns(
            value=pl.col("margin")
            * (1 - pl.col("pd")).pow(pl.col("years"))
            / pl.lit(1 + discount_rate).pow(pl.col("years"))
        )
    )
    if rows.is_empty():
        return pl.DataFrame(schema=RESULT_SCHEMA)
    return (
        rows.group_by("customer_id")
        .agg(
            instalments=pl.len(),
            income=pl.col("income").sum(),
            funding=pl.col("funding").sum(),
            margin=pl.col("margin").sum(),
            # Null as soon as the client's PD is unknown (sum would treat it as zero).
            value=pl.when(pl.col("value").null_count() == 0).then(pl.col("value").sum()),
        )
        .sort("customer_id")
        .cast(RESULT_SCHEMA)
    )


def _future_margins(instalments: pl.DataFrame, *, funding_rate: float, as_of: date) -> pl.DataFrame:
    """The instalments due after ``as_of``, each with the facility's ``balance`` still owed,
    ``years`` from ``as_of`` to it and its ``income``, ``funding`` and ``margin`` (CNY)."""
    return (
        instalments.select(
            *(pl.col(c).cast(t) for c, t in INSTALMENT_COLUMNS.items()),
        )
        .with_columns(pl.col("principal", "interest", "fee").fill_null(0.0))
        .sort("facility_id", "due_date")
        .with_columns(
            period_start=pl.col("due_date")
            .shift(1)
            .over("facility_id")
            .fill_null(pl.col("start_date"))
        )
        .filter(pl.col("due_date") > as_of)
        .with_columns(
            balance=pl.col("principal").cum_sum(reverse=True).over("facility_id"),
            days=(pl.col("due_date") - pl.col("period_start")).dt.total_days().clip(0),
            years=(pl.col("due_date") - pl.lit(as_of)).dt.total_days() / DAYS_PER_YEAR,
        )
        .with_columns(
            income=pl.col("interest") + pl.col("fee"),
            funding=funding_rate * pl.col("balance") * pl.col("days") / DAYS_PER_YEAR,
        )
        .with_columns(margin=pl.col("income") - pl.col("funding"))
    )
