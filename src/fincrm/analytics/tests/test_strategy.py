"""Strategies per segment and lifecycle stage (issue 24, point 1): the rules as tables."""

from datetime import date, datetime

import polars as pl
import pytest

from fincrm.analytics.policy import default_policy, policy_errors
from fincrm.analytics.recommend import recommend_products
from fincrm.analytics.strategy import (
    APPETITE_ORDER,
    MISSING_STAGES,
    UNKNOWN_PROGRAMME,
    UNKNOWN_SEGMENT,
    StrategyRules,
    cautious_appetite,
    client_product_priorities,
    client_programmes,
    contact_cadence,
    max_risk_expr,
    period_key,
    programme_key,
    propose_profile,
)

RULES = StrategyRules()
TIER_DAYS = {"core": 14, "key": 30, "ordinary": 90, "low": 180}


def _clients(rows) -> pl.DataFrame:
    return pl.DataFrame(
        [(i, stage, segments, tier) for i, (stage, segments, tier) in enumerate(rows, 1)],
        schema={"customer_id": pl.Int64, "lifecycle": pl.String,
                "segments": pl.List(pl.String), "tier": pl.String},
        orient="row",
    )  # fmt: skip


# segment(s) × stage → programmes (in the policy's order: the stage's first)
PROGRAMMES = [
    ([], "potential", ["conversion"]),
    ([], "new", ["onboarding"]),
    ([], "active", []),
    ([], "dormant", ["reactivation"]),
    ([], "lost", ["win_back"]),
    (["startup"], "new", ["onboarding", "startup_coaching"]),
    (["startup"], "active", ["startup_coaching"]),
    (["growing"], "active", ["expansion_review"]),
    (["growing"], "dormant", ["reactivation", "expansion_review"]),
    (["mature_investor"], "active", ["investor_forum"]),
    (["mature_investor"], "lost", ["win_back", "investor_forum"]),
    (["supply_chain_core"], "active", ["chain_expansion"]),
    (["growing", "supply_chain_core"], "new", ["onboarding", "expansion_review",
                                              "chain_expansion"]),
    # The watch list is exclusive: a client at risk is watched, not invited to grow.
    (["watch"], "active", ["risk_watch"]),
    (["growing", "watch"], "dormant", ["risk_watch"]),
    (["unknown_segment"], None, []),
]  # fmt: skip


@pytest.mark.parametrize(("segments", "stage", "expected"), PROGRAMMES)
def test_each_segment_and_stage_leads_to_its_programmes(segments, stage, expected):
    members = client_programmes(_clients([(stage, segments, "key")]), RULES)
    assert members["programme"].to_list() == expected


# segment(s) × stage × tier → days between contacts (the tier's plan, never loosened)
CADENCES = [
    ([], "active", "core", 14),
    ([], "active", "low", 180),
    ([], "new", "low", 30),
    ([], "dormant", "ordinary", 60),
    ([], "new", "core", 14),
    (["startup"], "active", "ordinary", 60),
    (["growing"], "active", "ordinary", 45),
    (["mature_investor"], "dormant", "low", 30),
    (["watch"], "active", "low", 30),
    (["startup", "growing"], "potential", "low", 45),
]


@pytest.mark.parametrize(("segments", "stage", "tier", "days"), CADENCES)
def test_strategies_tighten_the_tiers_contact_cadence(segments, stage, tier, days):
    cadence = contact_cadence(_clients([(stage, segments, tier)]), RULES, TIER_DAYS)
    assert cadence.to_list() == [days]


def test_product_priorities_put_the_segments_before_the_stage_each_type_once():
    frame = _clients([("dormant", ["growing"], "key"), ("active", ["watch", "startup"], "key")])
    table = dict(client_product_priorities(frame, RULES).iter_rows())
    assert table == {1: ["equipment_leasing", "working_capital", "bill_discounting"]}


@pytest.mark.parametrize(
    ("period", "day", "key"),
    [
        ("once", date(2026, 3, 1), "1"),
        ("year", date(2026, 12, 31), "2026"),
        ("half", date(2026, 6, 30), "2026H1"),
        ("half", date(2026, 7, 1), "2026H2"),
        ("quarter", date(2026, 10, 1), "2026Q4"),
        ("month", date(2026, 2, 28), "2026-02"),
    ],
)
def test_a_programme_task_belongs_to_its_period(period, day, key):
    assert period_key(period, day) == key


def test_programme_keys_fit_a_task_source_key():
    longest = max(RULES.programmes, key=len)
    assert len(programme_key(longest, "month", date(2026, 12, 1))) <= 40


def _policy_with(**strategies) -> dict:
    data = default_policy().model_dump(mode="json")
    data["strategies"].update(strategies)
    return data


def test_a_strategy_naming_an_unknown_programme_is_refused_with_where_it_is():
    data = default_policy().model_dump(mode="json")
    data["strategies"]["lifecycle"]["new"]["programmes"] = ["welcome_pack"]
    known = ", ".join(RULES.programmes)
    message = UNKNOWN_PROGRAMME.format(where="lifecycle.new", code="welcome_pack", known=known)
    assert policy_errors(data) == [f"strategies: {message}"]


def test_every_stage_needs_a_strategy():
    data = default_policy().model_dump(mode="json")
    del data["strategies"]["lifecycle"]["lost"]
    assert policy_errors(data) == ["strategies: " + MISSING_STAGES.format(stages="lost")]


def test_a_strategy_for_a_segment_no_rule_defines_is_refused():
    data = default_policy().model_dump(mode="json")
    data["strategies"]["segments"]["vip"] = {"programmes": ["investor_forum"]}
    codes = ", ".join(rule.code for rule in default_policy().segments)
    assert policy_errors(data) == [UNKNOWN_SEGMENT.format(code="vip", known=codes)]


def test_appetite_caps_must_not_decrease():
    data = _policy_with(appetite_max_risk={"conservative": 3, "steady": 2, "aggressive": 5})
    assert policy_errors(data) == [f"strategies: {APPETITE_ORDER}"]


def test_the_default_policy_has_a_strategy_for_every_segment_rule():
    policy = default_policy()
    assert sorted(policy.strategies.segments) == sorted(r.code for r in policy.segments)


# --- needs level and risk appetite --------------------------------------------------------------

ANSWER_SCHEMA = {"customer_id": pl.Int64, "option": pl.String, "answered_at": pl.Datetime("us")}


# holdings (product types), survey answers (oldest first) → needs level, risk appetite
PROFILES = [
    (["bill_discounting"], [], "basic", "conservative"),
    (["factoring", "supply_chain"], [], "comprehensive", "conservative"),
    (["working_capital"], [], "basic", "steady"),
    (["working_capital", "factoring", "equipment_leasing"], [], "premium", "steady"),
    (["project"], [], "basic", "aggressive"),
    # The client's own words win over its holdings; the latest answer counts.
    (["project"], ["低风险、收益稳定"], "basic", "conservative"),
    ([], ["愿意承担较高风险以获取更高收益", "适度风险，收益与风险平衡"], None, "steady"),
    (["bill_discounting"], ["需要定制化融资方案和专属服务"], "premium", "conservative"),
    ([], ["an option no rule reads"], None, None),
]


@pytest.mark.parametrize(("held", "said", "needs", "appetite"), PROFILES)
def test_needs_level_and_risk_appetite_are_proposed(held, said, needs, appetite):
    holdings = pl.DataFrame(
        {"customer_id": [1] * len(held), "product_type": held},
        schema={"customer_id": pl.Int64, "product_type": pl.String},
    )
    answers = pl.DataFrame(
        [(1, text, datetime(2026, 1, 1 + i)) for i, text in enumerate(said)],
        schema=ANSWER_SCHEMA,
        orient="row",
    )
    row = propose_profile(holdings, answers, RULES).row(0, named=True)
    assert (row["needs_level"], row["risk_appetite"]) == (needs, appetite)


@pytest.mark.parametrize(
    ("recorded", "proposed", "followed"),
    [
        ("aggressive", "conservative", "conservative"),
        ("conservative", "aggressive", "conservative"),
        ("steady", None, "steady"),
        (None, "aggressive", "aggressive"),
        (None, None, None),
    ],
)
def test_recommendations_follow_the_more_cautious_appetite(recorded, proposed, followed):
    assert cautious_appetite(recorded, proposed) == followed


# --- recommendation order -------------------------------------------------------------------------


def _book(appetite: str, **columns) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Client 1 (the one asked about) and 20 peers in its segment and industry: 15 hold
    project finance (risk 5), 6 factoring (2), 3 a working-capital loan (3)."""
    n = 21
    clients = pl.DataFrame(
        {
            "customer_id": list(range(1, n + 1)),
            "grade": ["AA"] * n,
            "tier": ["key"] * n,
            "segment": ["growing"] * n,
            "industry": ["C"] * n,
            "available_limit": [5_000_000.0] * n,
        }
    ).with_columns(
        max_product_risk=max_risk_expr(pl.lit(appetite), RULES),
        **columns,
    )
    products = pl.DataFrame(
        {
            "code": ["PF", "FA", "WC"],
            "name": ["项目融资", "保理", "流动资金贷款"],
            "min_grade": ["A", "B", "BB"],
            "max_amount": [10_000_000.0, 3_000_000.0, 2_000_000.0],
            "risk_level": [RULES.product_risk[t] for t in ("project", "factoring",
                                                           "working_capital")],
        },
        schema_overrides={"min_grade": pl.String},
    ).with_columns(
        eligible_tiers=pl.lit(None, pl.List(pl.String)),
        segments=pl.lit(None, pl.List(pl.String)),
    )  # fmt: skip
    uptake = pl.DataFrame(
        [(c, "PF") for c in range(2, 17)] + [(c, "FA") for c in range(2, 8)]
        + [(c, "WC") for c in range(18, 21)],
        schema={"customer_id": pl.Int64, "product_code": pl.String},
        orient="row",
    )  # fmt: skip
    return clients, products, uptake


def _order(appetite: str, **columns) -> list[str]:
    result = recommend_products(*_book(appetite, **columns), k=3, min_peers=10)
    return result.filter(pl.col("customer_id") == 1)["product_code"].to_list()


def test_a_conservative_client_is_not_offered_the_riskiest_product_first():
    assert _order("conservative") == ["FA", "WC", "PF"]


def test_a_steady_client_gets_what_it_can_bear_before_project_finance():
    assert _order("steady") == ["FA", "WC", "PF"]


def test_an_aggressive_client_is_offered_what_its_peers_use_most_first():
    assert _order("aggressive") == ["PF", "FA", "WC"]


def test_the_strategys_preferred_products_come_first_within_the_appetite():
    assert _order("steady", preferred_products=pl.lit(["WC"], pl.List(pl.String))) == [
        "WC",
        "FA",
        "PF",
    ]
    # The risk cap still comes before the preference: project finance stays last.
    assert _order("conservative", preferred_products=pl.lit(["PF"], pl.List(pl.String))) == [
        "FA",
        "WC",
        "PF",
    ]
