"""Days past due, delinquency buckets and China's five-tier loan classification.

Pure functions: plain dates and numbers in, numbers and labels out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

#: Loan classes in order of severity (codes match ``fincrm.financing.choices.LoanClass``).
LOAN_CLASSES: tuple[str, ...] = ("normal", "special_mention", "substandard", "doubtful", "loss")


@dataclass(frozen=True)
class ClassificationThresholds:
    """Days past due from which a facility is at least in a class.

    Defaults follow the 2023 rule of the NFRA/PBoC on risk classification of financial assets
    (商业银行金融资产风险分类办法): any arrears -> special mention, over 90 days -> substandard,
    over 270 -> doubtful, over 360 -> loss.
    """

    special_mention: int = 1
    substandard: int = 91
    doubtful: int = 271
    loss: int = 361


DEFAULT_THRESHOLDS = ClassificationThresholds()

#: Bucket edges in days past due: current, 1-30, 31-60, 61-90, 90+.
BUCKETS: tuple[str, ...] = ("current", "1-30", "31-60", "61-90", "90+")


def days_past_due(
    due_dates: Sequence[date],
    amounts_due: Sequence[float],
    amounts_paid: Sequence[float],
    as_of: date,
) -> int:
    """Days since the oldest installment that fell due before ``as_of`` and is not fully paid.

    Parameters
    ----------
    due_dates, amounts_due, amounts_paid
        One entry per installment (CNY).
    as_of
        The day the arrears are measured on; an installment due that very day is not late yet.
    """
    oldest: date | None = None
    for due, owed, paid in zip(due_dates, amounts_due, amounts_paid, strict=True):
        if due < as_of and float(paid) + 0.005 < float(owed) and (oldest is None or due < oldest):
            oldest = due
    return 0 if oldest is None else (as_of - oldest).days


def classify(dpd: int, thresholds: ClassificationThresholds = DEFAULT_THRESHOLDS) -> str:
    """Five-tier class of one facility from its days past due."""
    if dpd >= thresholds.loss:
        return "loss"
    if dpd >= thresholds.doubtful:
        return "doubtful"
    if dpd >= thresholds.substandard:
        return "substandard"
    if dpd >= thresholds.special_mention:
        return "special_mention"
    return "normal"


def classify_many(
    dpd: Iterable[int] | np.ndarray, thresholds: ClassificationThresholds = DEFAULT_THRESHOLDS
) -> np.ndarray:
    """Vectorised :func:`classify` for a whole portfolio."""
    arr = np.asarray(list(dpd) if not isinstance(dpd, np.ndarray) else dpd, dtype=np.int64)
    edges = np.array(
        [thresholds.special_mention, thresholds.substandard, thresholds.doubtful, thresholds.loss]
    )
    return np.asarray(LOAN_CLASSES, dtype=object)[np.searchsorted(edges, arr, side="right")]


def severity_rank(column: str | pl.Expr) -> pl.Expr:
    """0 (normal) … 4 (loss) for a column of loan class codes; null stays null."""
    col = pl.col(column) if isinstance(column, str) else column
    return col.replace_strict(
        {c: i for i, c in enumerate(LOAN_CLASSES)}, default=None, return_dtype=pl.Int8
    )


def loan_classes(
    facilities: pl.DataFrame,
    thresholds: ClassificationThresholds = DEFAULT_THRESHOLDS,
    *,
    watch_grades: Sequence[str] = (),
    substandard_grades: Sequence[str] = (),
    watch_alert_severities: Sequence[str] = (),
    restructured_floor: str | None = None,
    restructured_arrears_floor: str | None = None,
) -> pl.DataFrame:
    """The five-tier class of each facility from its arrears and its client's risk signals.

    Parameters
    ----------
    facilities : pl.DataFrame
        ``days_past_due``, ``grade`` (the client's credit grade, nullable), ``alert_severities``
        (list of the client's open alerts' severities, nullable) and ``override`` (a class set
        by a risk officer, nullable); optionally ``restructured`` (under a restructuring's
        observation period: at least ``restructured_floor``, at least
        ``restructured_arrears_floor`` when in arrears).

    Returns
    -------
    pl.DataFrame
        ``auto_class`` (the rules alone) and ``loan_class`` (the stricter of it and the
        override: an override can never make a facility look better than the rules do).
    """
    edges = [
        thresholds.special_mention,
        thresholds.substandard,
        thresholds.doubtful,
        thresholds.loss,
    ]
    dpd = pl.col("days_past_due").fill_null(0)
    by_days = pl.sum_horizontal([(dpd >= e).cast(pl.Int8) for e in edges])
    grade = pl.col("grade")
    alerted = (
        pl.col("alert_severities")
        .list.eval(pl.element().is_in(list(watch_alert_severities)))
        .list.any()
        .fill_null(False)
    )
    floor = (
        pl.when(grade.is_in(list(substandard_grades)).fill_null(False))
        .then(pl.lit(2, pl.Int8))
        .when(grade.is_in(list(watch_grades)).fill_null(False) | alerted)
        .then(pl.lit(1, pl.Int8))
        .otherwise(pl.lit(0, pl.Int8))
    )
    if "restructured" in facilities.columns:
        rank = {c: i for i, c in enumerate(LOAN_CLASSES)}
        watched = pl.col("restructured").fill_null(False)
        floor = pl.max_horizontal(
            floor,
            pl.when(watched & (dpd > 0) & (restructured_arrears_floor is not None))
            .then(pl.lit(rank.get(restructured_arrears_floor or "", 0), pl.Int8))
            .when(watched)
            .then(pl.lit(rank.get(restructured_floor or "", 0), pl.Int8))
            .otherwise(pl.lit(0, pl.Int8)),
        )
    auto = pl.max_horizontal(by_days, floor)
    effective = pl.max_horizontal(auto, severity_rank("override").fill_null(0))
    names = dict(enumerate(LOAN_CLASSES))
    return facilities.select(
        auto_class=auto.replace_strict(names, return_dtype=pl.String),
        loan_class=effective.replace_strict(names, return_dtype=pl.String),
    )


def bucket(dpd: int) -> str:
    """Delinquency bucket label for days past due."""
    if dpd <= 0:
        return "current"
    if dpd <= 30:
        return "1-30"
    if dpd <= 60:
        return "31-60"
    if dpd <= 90:
        return "61-90"
    return "90+"


def bucket_expr(dpd: pl.Expr) -> pl.Expr:
    """Vectorised :func:`bucket` (same edges) for polars frames."""
    return (
        pl.when(dpd <= 0)
        .then(pl.lit("current"))
        .when(dpd <= 30)
        .then(pl.lit("1-30"))
        .when(dpd <= 60)
        .then(pl.lit("31-60"))
        .when(dpd <= 90)
        .then(pl.lit("61-90"))
        .otherwise(pl.lit("90+"))
    )


def roll_rates(buckets: pl.DataFrame) -> pl.DataFrame:
    """Month-over-month transitions between delinquency buckets.

    Parameters
    ----------
    buckets : pl.DataFrame
        facility_id, month (date), bucket — one observation per facility and month.

    Returns
    -------
    pl.DataFrame
        One row per from-bucket (all of :data:`BUCKETS`, in order): ``from``, ``n`` (facilities
        observed in that bucket with a next month) and, per to-bucket, the share that moved
        there (0 when none; rows with ``n == 0`` are all 0).
    """
    ordered = buckets.sort("facility_id", "month").with_columns(
        to=pl.col("bucket").shift(-1).over("facility_id"),
        next_month=pl.col("month").shift(-1).over("facility_id"),
    )
    moves = ordered.filter(pl.col("to").is_not_null()).group_by("bucket", "to").len()
    rows = []
    for source in BUCKETS:
        subset = moves.filter(pl.col("bucket") == source)
        counts = dict(zip(subset["to"].to_list(), subset["len"].to_list(), strict=True))
        total = sum(counts.values())
        rows.append(
            {
                "from": source,
                "n": total,
                **{t: (counts.get(t, 0) / total if total else 0.0) for t in BUCKETS},
            }
        )
    return pl.DataFrame(
        rows, schema={"from": pl.String, "n": pl.Int64, **dict.fromkeys(BUCKETS, pl.Float64)}
    )
