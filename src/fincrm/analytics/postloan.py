"""After disbursement: whether a payee fits the loan's stated use, and exposure net of cover.

Pure functions (no Django): the ``postloan`` app reads the database and calls them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal

import polars as pl

#: Why a piece of evidence of the use of funds does not fit the loan (codes; the app words them).
PAYEE_IS_BORROWER = "payee_is_borrower"
PAYEE_IS_RELATED = "payee_is_related"
AMOUNT_OVER_DISBURSED = "amount_over_disbursed"

_NOISE = re.compile(r"[\s·•,，.。()（）\-—_]+")


def normalise_name(name: str) -> str:
    """A party's name as compared: full-width folded to half-width (NFKC), spaces,
    brackets and punctuation dropped, lower case (北京（恒瑞）有限公司 = 北京(恒瑞)有限公司)."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", name or "")).lower()


def payee_flags(
    *,
    payee: str,
    amount: Decimal | None,
    borrower: str,
    related: Iterable[str],
    disbursed: Decimal,
) -> list[str]:
    """What is wrong with a payment the borrower says it made with the loan.

    The money must leave the borrower for the stated purpose: a payee that is the borrower
    itself (funds moved to its own account) or one of its related parties (its contacts:
    legal representative, shareholders, guarantor) is flagged, and so is an amount above what
    was disbursed (the evidence does not prove this loan's use). Returns codes, in that order.
    """
    flags = []
    name = normalise_name(payee)
    if name and name == normalise_name(borrower):
        flags.append(PAYEE_IS_BORROWER)
    elif name and name in {normalise_name(r) for r in related if normalise_name(r)}:
        flags.append(PAYEE_IS_RELATED)
    if amount is not None and amount > disbursed:
        flags.append(AMOUNT_OVER_DISBURSED)
    return flags


NET_SCHEMA = {
    "facility_id": pl.Int64,
    "outstanding": pl.Float64,
    "cover": pl.Float64,
    "net": pl.Float64,
}


def net_exposure(facilities: pl.DataFrame, covers: pl.DataFrame) -> pl.DataFrame:
    """Each facility's outstanding, the cover held against it and the exposure net of cover:
    ``net = outstanding - min(cover, outstanding)`` (CNY).

    ``facilities``: facility_id, outstanding. ``covers``: one row per cover and facility it is
    linked to: cover_id, facility_id, amount (CNY, null when the cover is a share only),
    share (0-1, null when it is an amount only). A cover's amount is shared among its
    facilities in proportion to their outstanding (a guarantee of 1m over two loans does not
    cover 2m); a share covers that share of each facility's outstanding; with both, the
    smaller of the two. Facilities not in ``facilities`` (closed, out of scope) take no part.
    """
    base = facilities.select(
        pl.col("facility_id").cast(pl.Int64), pl.col("outstanding").cast(pl.Float64)
    )
    if covers.is_empty():
        parts = pl.DataFrame(schema={"facility_id": pl.Int64, "value": pl.Float64})
    else:
        linked = covers.select(
            pl.col("cover_id").cast(pl.Int64),
            pl.col("facility_id").cast(pl.Int64),
            pl.col("amount").cast(pl.Float64),
            pl.col("share").cast(pl.Float64),
        ).join(base, on="facility_id", how="inner")
        pool = pl.col("outstanding").sum().over("cover_id")
        allocated = (
            pl.when(pool > 0).then(pl.col("amount") * pl.col("outstanding") / pool).otherwise(0.0)
        )
        parts = linked.select(
            "facility_id",
            value=pl.min_horizontal(allocated, pl.col("share") * pl.col("outstanding")).fill_null(
                0.0
            ),
        )
    held = parts.group_by("facility_id").agg(cover=pl.col("value").sum())
    return (
        base.join(held, on="facility_id", how="left")
        .with_columns(pl.col("cover").fill_null(0.0))
        .with_columns(
            net=pl.col("outstanding") - pl.min_horizontal("cover", "outstanding").clip(0.0)
        )
        .select(list(NET_SCHEMA))
        .sort("facility_id")
    )
