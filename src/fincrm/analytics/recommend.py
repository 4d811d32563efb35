"""Next best product: what each client is eligible for and what clients like them use.

Pure functions over polars frames; nothing here imports Django.

Eligibility
    A product is offered to a client only if the client's grade is at least the product's
    ``min_grade`` (in ``grade_order``, best first; a client without a grade gets no product
    with a minimum grade), the client's tier is in ``eligible_tiers`` and segment in
    ``segments`` (null lists: everyone), the client does not hold it already (in
    ``products_held`` or the uptake frame) and, for a credit product, the client has unused
    limit (``available_limit > 0``; null counts as none). Inactive products are never offered.
Score
    The share of *similar* clients who hold the product — a collaborative filter simple enough
    to read aloud. Similar clients ("peers") are the other clients (never the client itself)
    in the same segment and industry; when there are fewer than ``min_peers`` of them, the
    other clients in the same segment; when still too few, the whole book (whatever its
    size). The level is chosen per client, so all of a client's recommendations cite the same
    peers. A product no peer holds is not recommended: nothing would explain it.
Suitability
    A client's ``max_product_risk`` (optional column: the riskiest level its risk appetite is
    offered first, ``fincrm.analytics.strategy``) puts every product whose ``risk_level``
    (optional column of the products) is above it after every product within it, the less
    far above the sooner, whatever their scores: a conservative client is not offered the
    riskiest product first. A client's
    ``preferred_products`` (optional list: its segment's and stage's product priorities, best
    first) come first among the products of equal suitability.
Reasons
    ``reason_code`` names the peer group (a key of :data:`REASON_TEXTS`), ``reason_value`` holds
    ``share``, ``holders`` and ``peers`` ("4 of 10 clients in the same segment and industry use
    it").
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def gettext_noop(text: str) -> str:
    return text


#: Grades from best to worst.
GRADE_ORDER: tuple[str, ...] = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")

#: Reason code → English template, formatted with ``reason_value``.
REASON_TEXTS: dict[str, str] = {
    "similar_clients_segment_industry": gettext_noop(
        "{holders} of {peers} clients in the same segment and industry use it ({share:.0%})"
    ),
    "similar_clients_segment": gettext_noop(
        "{holders} of {peers} clients in the same segment use it ({share:.0%})"
    ),
    "popular": gettext_noop("{holders} of {peers} clients use it ({share:.0%})"),
}

MISSING_COLUMNS = "{frame} is missing column(s): {missing}"
UNKNOWN_GRADE = "unknown grade(s) {values}; expected one of {order}"
DUPLICATE_CLIENTS = "clients has {count} duplicate customer_id value(s)"
BAD_PARAM = "{name} must be {rule}, got {value!r}"

CLIENT_COLUMNS = ("customer_id", "grade", "tier", "segment", "available_limit", "industry")
PRODUCT_COLUMNS = ("code", "name", "min_grade", "max_amount", "eligible_tiers", "segments")
UPTAKE_COLUMNS = ("customer_id", "product_code")

_LEVELS = ("similar_clients_segment_industry", "similar_clients_segment", "popular")


def _require(frame: pl.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(MISSING_COLUMNS.format(frame=name, missing=", ".join(missing)))


def _holdings(clients: pl.DataFrame, uptake: pl.DataFrame) -> pl.DataFrame:
    """customer_id, product_code: every product each client holds (uptake ∪ products_held),
    once, for clients in ``clients`` only."""
    id_type = clients.schema["customer_id"]
    parts = [
        uptake.select(pl.col("customer_id").cast(id_type), pl.col("product_code").cast(pl.String))
    ]
    if "products_held" in clients.columns:
        parts.append(
            clients.select(
                "customer_id",
                pl.col("products_held").cast(pl.List(pl.String)).alias("product_code"),
            ).explode("product_code")
        )
    return (
        pl.concat(parts)
        .drop_nulls()
        .unique()
        .join(clients.select("customer_id"), on="customer_id", how="semi")
    )


def eligible_products(
    clients: pl.DataFrame,
    products: pl.DataFrame,
    uptake: pl.DataFrame,
    *,
    grade_order: Sequence[str] = GRADE_ORDER,
) -> pl.DataFrame:
    """Every (client, product) pair the eligibility rules allow (see the module docstring).

    Parameters
    ----------
    clients : pl.DataFrame
        One row per client: ``customer_id``, ``grade``, ``tier``, ``segment``, ``industry``,
        ``available_limit`` (CNY), optionally ``products_held`` (list of product codes).
    products : pl.DataFrame
        One row per product: ``code``, ``name``, ``min_grade`` (null: none), ``max_amount``
        (CNY), ``eligible_tiers`` and ``segments`` (lists; null: all), optionally
        ``is_credit`` (default true) and ``is_active`` (default true).
    uptake : pl.DataFrame
        ``customer_id``, ``product_code``: who holds what.
    grade_order : sequence of str
        Grades from best to worst.

    Returns
    -------
    pl.DataFrame
        ``customer_id``, ``segment``, ``industry``, ``product_code``, ``product_name``,
        ``suggested_amount`` (CNY: the smaller of the unused limit and the product's
        ``max_amount`` for a credit product, null otherwise), sorted by client then product.

    Raises
    ------
    ValueError
        Missing columns, duplicate clients or grades outside ``grade_order``.
    """
    _check_inputs(clients, products, uptake, grade_order)
    rank = {g: i for i, g in enumerate(grade_order)}
    offer, who = _offer(products, rank), _who(clients, rank)
    allowed = (
        pl.col("_active")
        & (pl.col("_min_rank").is_null() | (pl.col("_rank") <= pl.col("_min_rank")))
        & (pl.col("_tiers").is_null() | pl.col("_tiers").list.contains(pl.col("tier")))
        & (pl.col("_segments").is_null() | pl.col("_segments").list.contains(pl.col("segment")))
        & (~pl.col("_credit") | (pl.col("_limit") > 0))
    ).fill_null(False)
    return (
        who.join(offer, how="cross")
        .filter(allowed)
        .join(_holdings(clients, uptake), on=["customer_id", "product_code"], how="anti")
        .select(
            "customer_id",
            "segment",
            "industry",
            "product_code",
            "product_name",
            suggested_amount=pl.when(pl.col("_credit")).then(
                pl.min_horizontal("_limit", "_max_amount")
            ),
        )
        .sort("customer_id", "product_code")
    )


def _check_inputs(
    clients: pl.DataFrame, products: pl.DataFrame, uptake: pl.DataFrame, grade_order: Sequence[str]
) -> None:
    """Raise on missing columns, duplicate clients or grades outside ``grade_order``."""
    _require(clients, "clients", CLIENT_COLUMNS)
    _require(products, "products", PRODUCT_COLUMNS)
    _require(uptake, "uptake", UPTAKE_COLUMNS)
    if duplicates := clients.height - clients["customer_id"].n_unique():
        raise ValueError(DUPLICATE_CLIENTS.format(count=duplicates))
    grades = set(clients["grade"].drop_nulls()) | set(products["min_grade"].drop_nulls())
    if unknown := sorted(grades - set(grade_order)):
        raise ValueError(UNKNOWN_GRADE.format(values=unknown, order=list(grade_order)))


def _offer(products: pl.DataFrame, rank: dict[str, int]) -> pl.DataFrame:
    """The products with the rule columns: ``_min_rank``, ``_max_amount``, ``_tiers``,
    ``_segments``, ``_credit`` and ``_active`` (both true when absent)."""
    return products.select(
        pl.col("code").cast(pl.String).alias("product_code"),
        pl.col("name").alias("product_name"),
        pl.col("min_grade")
        .cast(pl.String)
        .replace_strict(rank, default=None, return_dtype=pl.Int64)
        .alias("_min_rank"),
        pl.col("max_amount").cast(pl.Float64).alias("_max_amount"),
        pl.col("eligible_tiers").cast(pl.List(pl.String)).alias("_tiers"),
        pl.col("segments").cast(pl.List(pl.String)).alias("_segments"),
        (pl.col("is_credit") if "is_credit" in products.columns else pl.lit(True))
        .fill_null(True)
        .alias("_credit"),
        (pl.col("is_active") if "is_active" in products.columns else pl.lit(True))
        .fill_null(True)
        .alias("_active"),
    )


def _who(clients: pl.DataFrame, rank: dict[str, int]) -> pl.DataFrame:
    """The clients with their grade's ``_rank`` and ``_limit`` (unused limit, null: 0)."""
    return clients.select(
        "customer_id",
        pl.col("segment").cast(pl.String),
        pl.col("industry").cast(pl.String),
        pl.col("tier").cast(pl.String),
        pl.col("grade")
        .cast(pl.String)
        .replace_strict(rank, default=None, return_dtype=pl.Int64)
        .alias("_rank"),
        pl.col("available_limit").cast(pl.Float64).fill_null(0.0).alias("_limit"),
    )


def _suitability(
    pairs: pl.DataFrame, clients: pl.DataFrame, products: pl.DataFrame
) -> pl.DataFrame:
    """``pairs`` (customer_id, product_code) with ``_over`` (levels by which the product's
    risk is above the client's cap, 0 within it) and ``_place`` (its position among the
    client's preferred products; beyond them: their count), both 0 where the optional
    columns are absent."""
    if "max_product_risk" in clients.columns and "risk_level" in products.columns:
        risk = products.select(
            pl.col("code").cast(pl.String).alias("product_code"),
            pl.col("risk_level").cast(pl.Int64).alias("_risk"),
        )
        caps = clients.select("customer_id", pl.col("max_product_risk").cast(pl.Int64))
        pairs = (
            pairs.join(risk, on="product_code", how="left")
            .join(caps, on="customer_id", how="left")
            .with_columns(_over=(pl.col("_risk") - pl.col("max_product_risk")).clip(0).fill_null(0))
            .drop("_risk", "max_product_risk")
        )
    else:
        pairs = pairs.with_columns(_over=pl.lit(0, pl.Int64))
    if "preferred_products" not in clients.columns:
        return pairs.with_columns(_place=pl.lit(0, pl.Int64))
    preferred = clients.select(
        "customer_id", pl.col("preferred_products").cast(pl.List(pl.String)).fill_null([])
    )
    positions = (
        preferred.explode("preferred_products")
        .drop_nulls("preferred_products")
        .with_columns(_pos=pl.int_range(pl.len()).over("customer_id").cast(pl.Int64))
        .unique(["customer_id", "preferred_products"], keep="first")
        .rename({"preferred_products": "product_code"})
    )
    counts = preferred.select(
        "customer_id", _n=pl.col("preferred_products").list.len().cast(pl.Int64)
    )
    return (
        pairs.join(positions, on=["customer_id", "product_code"], how="left")
        .join(counts, on="customer_id", how="left")
        .with_columns(_place=pl.coalesce("_pos", "_n", pl.lit(0, pl.Int64)))
        .drop("_pos", "_n")
    )


def recommend_products(
    clients: pl.DataFrame,
    products: pl.DataFrame,
    uptake: pl.DataFrame,
    *,
    k: int = 3,
    min_peers: int = 10,
    grade_order: Sequence[str] = GRADE_ORDER,
) -> pl.DataFrame:
    """The ``k`` best eligible products per client, scored by their peers' uptake.

    Parameters
    ----------
    clients, products, uptake : pl.DataFrame
        As for :func:`eligible_products`.
    k : int, default 3
        Recommendations per client at most.
    min_peers : int, default 10
        Fewest peers a segment-and-industry or segment group must offer before its uptake is
        trusted; below it the client backs off to the next, wider group.
    grade_order : sequence of str
        Grades from best to worst.

    Returns
    -------
    pl.DataFrame
        ``customer_id``, ``rank`` (1 = best), ``product_code``, ``product_name``, ``score``
        (share of peers holding the product, 0–1), ``reason_code``, ``reason_value`` (struct
        of ``share``, ``holders``, ``peers``), ``suggested_amount`` (CNY, credit products
        only); sorted by client and rank, ties broken by product code. Clients with nothing
        to recommend have no rows.
    """
    for name, value, low in (("k", k, 1), ("min_peers", min_peers, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(BAD_PARAM.format(name=name, rule=f"an integer ≥ {low}", value=value))
    candidates = eligible_products(clients, products, uptake, grade_order=grade_order)
    book = clients.select(
        "customer_id", pl.col("segment").cast(pl.String), pl.col("industry").cast(pl.String)
    )
    held = _holdings(clients, uptake).join(book, on="customer_id")
    scored = (
        _suitability(_peer_scores(candidates, book, held, min_peers), clients, products)
        .sort(
            ["customer_id", "_over", "_place", "score", "product_code"],
            descending=[False, False, False, True, False],
        )
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("customer_id").cast(pl.Int64))
        .filter(pl.col("rank") <= k)
    )
    return scored.select(
        "customer_id",
        "rank",
        "product_code",
        "product_name",
        "score",
        reason_code=pl.col("level").replace_strict(
            dict(enumerate(_LEVELS)), return_dtype=pl.String
        ),
        reason_value=pl.struct(share="score", holders="holders", peers="peers"),
        suggested_amount="suggested_amount",
    )


def _peer_scores(
    candidates: pl.DataFrame, book: pl.DataFrame, held: pl.DataFrame, min_peers: int
) -> pl.DataFrame:
    """The candidate pairs with the client's peer ``level`` (0 segment and industry, 1
    segment, 2 the whole book: the narrowest with ``min_peers``), ``peers``, ``holders`` (of
    the product among them) and ``score`` (holders / peers); pairs without a peer or a holder
    are left out."""
    both, seg = ["segment", "industry"], ["segment"]

    known_segment = pl.col("segment").is_not_null()
    peers = book.with_columns(
        _n_si=(pl.len().over(both) - 1).cast(pl.Int64),
        _n_s=(pl.len().over(seg) - 1).cast(pl.Int64),
        _n_all=pl.lit(book.height - 1, dtype=pl.Int64),
    ).with_columns(
        level=pl.when(
            known_segment & pl.col("industry").is_not_null() & (pl.col("_n_si") >= min_peers)
        )
        .then(0)
        .when(known_segment & (pl.col("_n_s") >= min_peers))
        .then(1)
        .otherwise(2)
    )
    holders_si = held.drop_nulls(both).group_by(*both, "product_code").agg(_h_si=pl.len())
    holders_s = held.drop_nulls(seg).group_by(*seg, "product_code").agg(_h_s=pl.len())
    holders_all = held.group_by("product_code").agg(_h_all=pl.len())

    level = pl.col("level")
    n_peers = (
        pl.when(level == 0)
        .then(pl.col("_n_si"))
        .when(level == 1)
        .then(pl.col("_n_s"))
        .otherwise(pl.col("_n_all"))
    )
    n_holders = (
        pl.when(level == 0)
        .then(pl.col("_h_si"))
        .when(level == 1)
        .then(pl.col("_h_s"))
        .otherwise(pl.col("_h_all"))
    ).fill_null(0)
    return (
        candidates.join(peers.drop("segment", "industry"), on="customer_id")
        .join(holders_si, on=[*both, "product_code"], how="left")
        .join(holders_s, on=[*seg, "product_code"], how="left")
        .join(holders_all, on="product_code", how="left")
        .with_columns(peers=n_peers, holders=n_holders.cast(pl.Int64))
        .filter((pl.col("peers") > 0) & (pl.col("holders") > 0))
        .with_columns(score=pl.col("holders") / pl.col("peers"))
    )
