"""The staff incentive scorecard (员工考核): each person's month scored against the policy's
targets, with every component shown, and the asset-quality measure it needs.

Pure functions over polars frames; the scheme is :class:`~.policy.StaffIncentive`.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from .policy import StaffIncentive

MISSING_COLUMNS = "the frame is missing required columns: {columns}"


def _require(frame: pl.DataFrame, name: str, columns: list[str]) -> None:
    if missing := [c for c in columns if c not in frame.columns]:
        raise ValueError(f"{name}: " + MISSING_COLUMNS.format(columns=", ".join(missing)))


def score_staff(measures: pl.DataFrame, scheme: StaffIncentive) -> pl.DataFrame:
    """Score each person's month.

    Parameters
    ----------
    measures : pl.DataFrame
        One row per person: ``staff_id`` and one column per measure of ``scheme`` (contacts,
        nps in points, csat in %, new_facilities, new_amount in CNY, dpd30_share as a
        fraction, complaints). A null value means no data (no survey answered, no book): the
        measure is left out for that person and its weight shared among the others.
    scheme : StaffIncentive
        Weights, targets, which way is better and the cap.

    Returns
    -------
    pl.DataFrame
        ``staff_id``, then for each measure ``m``: ``m`` (the value), ``m_attainment`` (0 ..
        cap: value / target, or 2 − value / target when lower is better) and ``m_points``
        (its share of the score: attainment × weight / the weights of the measures present ×
        100), then ``score`` (the points summed, 0 .. 100 × cap; null when no measure has
        data) and ``missing`` (the measures left out), sorted by score, best first.
    """
    names = [m for m, rule in scheme.measures.items() if rule.weight > 0]
    _require(measures, "measures", ["staff_id", *names])
    frame = measures.select("staff_id", *[pl.col(m).cast(pl.Float64) for m in names])
    attainment = []
    for m in names:
        rule = scheme.measures[m]
        ratio = pl.col(m) / rule.target
        raw = (2 - ratio) if rule.lower_is_better else ratio
        attainment.append(raw.clip(0.0, scheme.cap).alias(f"{m}_attainment"))
    frame = frame.with_columns(attainment)
    present_weight = pl.sum_horizontal(
        [
            pl.when(pl.col(m).is_not_null()).then(scheme.measures[m].weight).otherwise(0.0)
            for m in names
        ]
    )
    frame = frame.with_columns(_present=present_weight).with_columns(
        [
            pl.when(pl.col("_present") > 0)
            .then(pl.col(f"{m}_attainment") * scheme.measures[m].weight / pl.col("_present") * 100)
            .otherwise(None)
            .alias(f"{m}_points")
            for m in names
        ]
    )
    score = (
        pl.when(pl.col("_present") > 0)
        .then(pl.sum_horizontal([pl.col(f"{m}_points") for m in names]))
        .otherwise(None)
    )
    missing = pl.concat_list(
        [pl.when(pl.col(m).is_null()).then(pl.lit(m)).otherwise(None) for m in names]
    ).list.drop_nulls()
    ordered = [c for m in names for c in (m, f"{m}_attainment", f"{m}_points")]
    return (
        frame.with_columns(score=score, missing=missing)
        .select("staff_id", *ordered, "score", "missing")
        .sort(["score", "staff_id"], descending=[True, False], nulls_last=True)
    )


def arrears_share(
    facilities: pl.DataFrame, installments: pl.DataFrame, *, as_of: date, days: int = 30
) -> pl.DataFrame:
    """Each manager's book on ``as_of`` and the share of it ``days`` or more past due.

    Parameters
    ----------
    facilities : pl.DataFrame
        ``facility_id``, ``manager_id``, ``balance`` (CNY: the drawn amount).
    installments : pl.DataFrame
        ``facility_id``, ``due_date``, ``paid_off_on`` (null while unpaid).
    as_of : date
        The day the book is looked at (a month's last day).
    days : int
        An instalment due on or before ``as_of − days`` and not paid off by ``as_of`` puts its
        facility in arrears.

    Returns
    -------
    pl.DataFrame
        ``manager_id``, ``balance`` (facilities with an instalment not yet paid off on
        ``as_of``), ``late_balance`` (of which in arrears), ``share`` (late / balance, null
        when the book is empty).
    """
    _require(facilities, "facilities", ["facility_id", "manager_id", "balance"])
    _require(installments, "installments", ["facility_id", "due_date", "paid_off_on"])
    unpaid = pl.col("paid_off_on").is_null() | (pl.col("paid_off_on") > as_of)
    late = unpaid & (pl.col("due_date") <= as_of - timedelta(days=days))
    state = installments.group_by("facility_id").agg(open=unpaid.any(), late=late.any())
    book = facilities.join(state, on="facility_id").filter(pl.col("open"))
    balance = pl.col("balance").cast(pl.Float64).fill_null(0.0)
    return (
        book.group_by("manager_id")
        .agg(balance=balance.sum(), late_balance=balance.filter(pl.col("late")).sum())
        .with_columns(
            share=pl.when(pl.col("balance") > 0)
            .then(pl.col("late_balance") / pl.col("balance"))
            .otherwise(None)
        )
        .sort("manager_id")
    )
