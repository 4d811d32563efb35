import re

import polars as pl
import pytest

from fincrm.analytics.recommend import (
    BAD_PARAM,
    DUPLICATE_CLIENTS,
    GRADE_ORDER,
    MISSING_COLUMNS,
    REASON_TEXTS,
    UNKNOWN_GRADE,
    eligible_products,
    recommend_products,
)

SI, SEG, POP = "similar_clients_segment_industry", "similar_clients_segment", "popular"


def clients(*extra: dict) -> pl.DataFrame:
    """Six clients in three segment-and-industry groups: (sme, retail) = 1, 2, 3;
    (sme, steel) = 4; (corp, steel) = 5, 6."""
    rows = [
        (1, "A", "core", "sme", "retail", 100.0, []),
        (2, "AA", "key", "sme", "retail", 50.0, ["WC"]),
        (3, "BBB", "key", "sme", "retail", 0.0, ["WC", "FX"]),
        (4, "A", "ordinary", "sme", "steel", 80.0, ["LS"]),
        (5, "BB", "low", "corp", "steel", 10.0, []),
        (6, "AAA", "core", "corp", "steel", 30.0, ["WC"]),
    ]
    schema = {
        "customer_id": pl.Int64,
        "grade": pl.String,
        "tier": pl.String,
        "segment": pl.String,
        "industry": pl.String,
        "available_limit": pl.Float64,
        "products_held": pl.List(pl.String),
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return pl.concat([frame, pl.DataFrame(list(extra), schema=schema)]) if extra else frame


PRODUCTS = pl.DataFrame(
    [
        ("WC", "Working capital", "BBB", 60.0, None, None, True),
        ("FX", "Factoring", "A", 200.0, ["core", "key"], None, True),
        ("LS", "Leasing", None, 40.0, None, None, True),
        ("AD", "Advisory", None, 0.0, None, None, False),
        ("SC", "Supply chain", None, 500.0, None, ["corp"], True),
    ],
    schema={
        "code": pl.String,
        "name": pl.String,
        "min_grade": pl.String,
        "max_amount": pl.Float64,
        "eligible_tiers": pl.List(pl.String),
        "segments": pl.List(pl.String),
        "is_credit": pl.Boolean,
    },
    orient="row",
)

# Holdings, with products_held: 2 = WC, SC; 3 = WC, FX; 4 = LS, FX; 5 = LS; 6 = WC, AD.
UPTAKE = pl.DataFrame(
    {
        "customer_id": [4, 5, 2, 6, 2, 99],
        "product_code": ["FX", "LS", "WC", "AD", "SC", "WC"],  # 2/WC twice; 99 not a client
    }
)


def picks(out: pl.DataFrame) -> dict[int, list[tuple]]:
    result: dict[int, list[tuple]] = {}
    for row in out.iter_rows(named=True):
        value = row["reason_value"]
        result.setdefault(row["customer_id"], []).append(
            (row["product_code"], row["reason_code"], value["holders"], value["peers"])
        )
    return result


def test_eligibility_by_grade_tier_segment_holdings_and_limit():
    pairs = eligible_products(clients(), PRODUCTS, UPTAKE)
    offered = {
        c: sorted(pairs.filter(pl.col("customer_id") == c)["product_code"]) for c in range(1, 7)
    }
    assert offered == {
        1: ["AD", "FX", "LS", "WC"],  # SC is for corporates only
        2: ["AD", "FX", "LS"],  # holds WC and (from uptake) SC
        3: ["AD"],  # no unused limit: only the non-credit product
        4: ["AD", "WC"],  # FX is for core and key clients (and held)
        5: ["AD", "SC"],  # BB is below WC's BBB and FX's A; holds LS
        6: ["FX", "LS", "SC"],
    }
    amounts = dict(
        pairs.filter(pl.col("customer_id") == 1).select("product_code", "suggested_amount").rows()
    )
    assert amounts == {"AD": None, "FX": 100.0, "LS": 40.0, "WC": 60.0}


def test_recommendations_by_hand_with_two_peers_required():
    out = recommend_products(clients(), PRODUCTS, UPTAKE, min_peers=2)

    assert picks(out) == {
        # (sme, retail) has two other clients for 1 and 2: both hold WC, 3 holds FX.
        1: [("WC", SI, 2, 2), ("FX", SI, 1, 2)],
        2: [("FX", SI, 1, 2)],
        # 3 is offered AD only, and no peer holds it: nothing.
        # 4 is alone in (sme, steel): backs off to the three other sme clients.
        4: [("WC", SEG, 2, 3)],
        # corp has one other client: the whole book of five others, ties by product code.
        5: [("AD", POP, 1, 5), ("SC", POP, 1, 5)],
        6: [("FX", POP, 2, 5), ("LS", POP, 2, 5), ("SC", POP, 1, 5)],
    }
    one = out.filter(pl.col("customer_id") == 1)
    assert one["rank"].to_list() == [1, 2]
    assert one["score"].to_list() == [1.0, 0.5]
    assert one["product_name"].to_list() == ["Working capital", "Factoring"]
    assert one["suggested_amount"].to_list() == [60.0, 100.0]
    assert out.filter(pl.col("customer_id") == 4)["score"].to_list() == [pytest.approx(2 / 3)]
    assert out.filter(pl.col("customer_id") == 5)["suggested_amount"].to_list() == [None, 10.0]


def test_more_peers_required_means_wider_groups():
    out = recommend_products(clients(), PRODUCTS, UPTAKE, min_peers=3)
    # 1 now backs off to sme (2, 3, 4): FX 2 of 3 ties WC 2 of 3, LS 1 of 3.
    assert picks(out)[1] == [("FX", SEG, 2, 3), ("WC", SEG, 2, 3), ("LS", SEG, 1, 3)]
    everyone = recommend_products(clients(), PRODUCTS, UPTAKE, min_peers=6)
    assert set(everyone["reason_code"]) == {POP}


def test_k_limits_the_recommendations_per_client():
    out = recommend_products(clients(), PRODUCTS, UPTAKE, min_peers=2, k=1)
    assert out.select("customer_id", "product_code").rows() == [
        (1, "WC"),
        (2, "FX"),
        (4, "WC"),
        (5, "AD"),
        (6, "FX"),
    ]


def test_a_client_without_grade_or_segment_gets_ungraded_products_by_popularity():
    unknown = {
        "customer_id": 7,
        "grade": None,
        "tier": None,
        "segment": None,
        "industry": "retail",
        "available_limit": 5.0,
        "products_held": None,
    }
    out = recommend_products(clients(unknown), PRODUCTS, UPTAKE, min_peers=1)
    # No grade: no WC (BBB) or FX (A); no tier or segment: no SC (corp only). Whole book: LS
    # held by 4 and 5 of six others, AD by 6.
    assert picks(out)[7] == [("LS", POP, 2, 6), ("AD", POP, 1, 6)]


def test_reasons_read_as_sentences():
    out = recommend_products(clients(), PRODUCTS, UPTAKE, min_peers=2)
    texts = [REASON_TEXTS[r["reason_code"]].format(**r["reason_value"]) for r in out.to_dicts()]
    assert texts[:3] == [
        "2 of 2 clients in the same segment and industry use it (100%)",
        "1 of 2 clients in the same segment and industry use it (50%)",
        "1 of 2 clients in the same segment and industry use it (50%)",
    ]
    assert texts[3] == "2 of 3 clients in the same segment use it (67%)"
    assert texts[4] == "1 of 5 clients use it (20%)"


def test_inactive_products_are_never_offered():
    inactive = PRODUCTS.with_columns(is_active=pl.col("code") != "WC")
    out = recommend_products(clients(), inactive, UPTAKE, min_peers=2)
    assert "WC" not in out["product_code"].to_list()


def test_bad_inputs_are_refused_by_name():
    message = UNKNOWN_GRADE.format(values=["D"], order=list(GRADE_ORDER))
    with pytest.raises(ValueError, match=re.escape(message)):
        recommend_products(clients().with_columns(grade=pl.lit("D")), PRODUCTS, UPTAKE)
    message = MISSING_COLUMNS.format(frame="products", missing="min_grade")
    with pytest.raises(ValueError, match=re.escape(message)):
        recommend_products(clients(), PRODUCTS.drop("min_grade"), UPTAKE)
    with pytest.raises(ValueError, match=re.escape(DUPLICATE_CLIENTS.format(count=6))):
        recommend_products(pl.concat([clients(), clients()]), PRODUCTS, UPTAKE)
    message = BAD_PARAM.format(name="k", rule="an integer ≥ 1", value=0)
    with pytest.raises(ValueError, match=re.escape(message)):
        recommend_products(clients(), PRODUCTS, UPTAKE, k=0)
