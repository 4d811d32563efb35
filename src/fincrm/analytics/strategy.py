"""Strategies per segment and lifecycle stage (客户细分策略, seed 003).

Each rule segment (startup, growing, mature, supply-chain, watch list) and each lifecycle
stage (potential, new, active, dormant, lost) has a strategy in the policy: how much more
often to contact the client than its tier's service plan says, which product types to put
first, and which programmes it joins (onboarding for new clients, reactivation for dormant
ones, win-back for lost ones, coaching for startups, investor forums for mature ones). A
programme turns into one task per client and period (the nightly run's job).

It also proposes a client's needs level and risk appetite from what it holds and what it
answered in surveys, and caps the risk of the products put first for it: a conservative
client is not offered the riskiest product first.

Pure: the schema (pydantic, part of the versioned policy), validation and frame functions.
Nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from itertools import pairwise
from typing import Literal, cast

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

STAGES: tuple[str, ...] = ("potential", "new", "active", "dormant", "lost")
STAGE = Literal["potential", "new", "active", "dormant", "lost"]
PRODUCT_TYPES: tuple[str, ...] = (
    "working_capital", "equipment_leasing", "factoring", "supply_chain", "project",
    "bill_discounting",
)  # fmt: skip
PRODUCT_TYPE = Literal[
    "working_capital", "equipment_leasing", "factoring", "supply_chain", "project",
    "bill_discounting",
]  # fmt: skip
APPETITE = Literal["conservative", "steady", "aggressive"]
APPETITES: tuple[APPETITE, ...] = ("conservative", "steady", "aggressive")
NEEDS_LEVELS: tuple[str, ...] = ("basic", "comprehensive", "premium")
NEEDS = Literal["basic", "comprehensive", "premium"]
PERIOD = Literal["once", "year", "half", "quarter", "month"]
CHANNEL = Literal["visit", "phone", "wechat", "email", "sms", "meeting"]
TASK_KIND = Literal["follow_up", "visit", "care", "review", "report", "other"]
#: A programme task's ``source_key``: ``prog:<programme>:<period>`` (at most 40 characters).
KEY_PREFIX = "prog:"

#: Error messages (shared by the code and its tests).
UNKNOWN_PROGRAMME = "{where}: unknown programme {code!r} (defined: {known})"
UNKNOWN_SEGMENT = "strategies.segments: no segment rule {code!r} (rules: {known})"
MISSING_STAGES = "lifecycle: no strategy for stage(s) {stages}"
APPETITE_ORDER = "appetite_max_risk: must not decrease from conservative to aggressive"


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Programme(_Config):
    """A programme clients join by their segment or stage: one task per client and period
    (``once``: once ever), for the account manager, due ``due_in_days`` after the day it is
    planned."""

    name_zh: str = Field(min_length=1, max_length=40)
    name_en: str = Field(min_length=1, max_length=60)
    task_zh: str = Field(min_length=1, max_length=150)
    task_en: str = Field(min_length=1, max_length=150)
    task_kind: TASK_KIND = "follow_up"
    channel: CHANNEL = "phone"
    period: PERIOD = "quarter"
    due_in_days: int = Field(14, ge=0, le=365)


class Strategy(_Config):
    """What the lender does for the clients of one segment or stage."""

    #: Contact at least this often (days): tightens the tier's service plan, never loosens it.
    contact_every_days: int | None = Field(None, gt=0, le=365)
    #: Product types to put first, best first.
    product_priorities: list[PRODUCT_TYPE] = Field(default_factory=list)
    programmes: list[str] = Field(default_factory=list)
    #: A client in this segment or stage follows only the exclusive strategies it is in: a
    #: client on the risk watch list is not invited to grow, whatever else it is.
    exclusive: bool = False
    advice_zh: str = Field("", max_length=200)
    advice_en: str = Field("", max_length=200)


def _answers_appetite() -> dict[str, APPETITE]:
    return {
        "保本为主，不愿承担风险": "conservative",
        "低风险、收益稳定": "conservative",
        "适度风险，收益与风险平衡": "steady",
        "愿意承担较高风险以获取更高收益": "aggressive",
    }


def _answers_needs() -> dict[str, NEEDS]:
    return {
        "只需要融资，关注金额和利率": "basic",
        "希望同时获得财务规划、风险管理等服务": "comprehensive",
        "需要定制化融资方案和专属服务": "premium",
    }


class Profiling(_Config):
    """How needs level and risk appetite are proposed (the account manager confirms them).

    Needs level: from the number of product types the client holds (at least
    ``comprehensive_types`` → comprehensive, ``premium_types`` → premium). Risk appetite: from
    the riskiest product type it holds (``product_risk``; at least ``aggressive_risk`` →
    aggressive, at most ``conservative_risk`` → conservative, else steady). A survey answer
    listed in ``answers_appetite`` or ``answers_needs`` (the option's text) says it in the
    client's own words and wins over holdings; the latest such answer counts.
    """

    comprehensive_types: int = Field(2, ge=1)
    premium_types: int = Field(3, ge=1)
    conservative_risk: int = Field(2, ge=1, le=5)
    aggressive_risk: int = Field(5, ge=1, le=5)
    answers_appetite: dict[str, APPETITE] = Field(default_factory=_answers_appetite)
    answers_needs: dict[str, NEEDS] = Field(default_factory=_answers_needs)

    @model_validator(mode="after")
    def _ordered(self) -> Profiling:
        if self.premium_types < self.comprehensive_types:
            raise ValueError("premium_types must not be below comprehensive_types")
        if self.aggressive_risk <= self.conservative_risk:
            raise ValueError("aggressive_risk must be above conservative_risk")
        return self


def _programmes() -> dict[str, Programme]:
    rows = {  # code: (name zh, name en, task zh, task en, kind, channel, period, due days)
        "onboarding": ("新客户入门计划", "New-client onboarding",
                       "首访：介绍产品与服务渠道，核对资料，约定联系方式",
                       "First visit: present products and service channels, check the file",
                       "visit", "visit", "once", 7),
        "reactivation": ("沉睡客户激活计划", "Dormant-client reactivation",
                         "回访了解经营近况与融资需求，推荐适配产品",
                         "Call to learn how the business is doing and what it needs",
                         "follow_up", "phone", "quarter", 14),
        "win_back": ("流失客户挽回计划", "Lost-client win-back",
                     "拜访了解流失原因，提出挽回方案（定价、期限、服务）",
                     "Visit to learn why the client left and offer a way back",
                     "visit", "visit", "half", 21),
        "conversion": ("潜在客户转化计划", "Prospect conversion",
                       "联系了解融资需求，邀请提交申请",
                       "Call to learn the financing need and invite an application",
                       "follow_up", "phone", "quarter", 14),
        "startup_coaching": ("创业辅导计划", "Startup coaching",
                             "邀请参加创业辅导（财务规范、融资准备）",
                             "Invite to startup coaching (bookkeeping, financing readiness)",
                             "follow_up", "meeting", "half", 30),
        "expansion_review": ("成长规划会谈", "Expansion review",
                             "会谈了解扩张计划，评估中长期资金需求",
                             "Meet to learn the expansion plans and long-term funding needs",
                             "visit", "visit", "half", 21),
        "investor_forum": ("投资者论坛", "Investor forum",
                           "邀请参加行业论坛与交流活动",
                           "Invite to the industry forum and networking events",
                           "follow_up", "meeting", "half", 30),
        "chain_expansion": ("供应链拓展计划", "Supply-chain expansion",
                            "梳理上下游客户名单，推荐供应链融资",
                            "List the anchor's suppliers and buyers for supply-chain finance",
                            "visit", "visit", "year", 30),
        "risk_watch": ("风险排查", "Risk watch",
                       "贷后走访：核实经营状况与还款来源",
                       "Post-loan visit: check the business and the source of repayment",
                       "review", "visit", "month", 7),
    }  # fmt: skip
    keys = ("name_zh", "name_en", "task_zh", "task_en", "task_kind", "channel", "period",
            "due_in_days")  # fmt: skip
    return {code: Programme(**dict(zip(keys, row, strict=True))) for code, row in rows.items()}


def _segment_strategies() -> dict[str, Strategy]:
    return {
        "startup": Strategy(
            contact_every_days=60, product_priorities=["working_capital", "factoring"],
            programmes=["startup_coaching"],
            advice_zh="低门槛、高弹性的融资产品，结合创业辅导服务",
            advice_en="Low-threshold, flexible financing with startup coaching"),
        "growing": Strategy(
            contact_every_days=45, product_priorities=["equipment_leasing", "working_capital"],
            programmes=["expansion_review"],
            advice_zh="推出中长期贷款产品，支持业务扩张",
            advice_en="Medium- and long-term loans to fund expansion"),
        "mature_investor": Strategy(
            contact_every_days=30, product_priorities=["project", "supply_chain"],
            programmes=["investor_forum"],
            advice_zh="提供高端定制方案，邀请参加行业论坛和交流活动",
            advice_en="Tailored high-end solutions and invitations to forums"),
        "supply_chain_core": Strategy(
            contact_every_days=30, product_priorities=["supply_chain", "factoring",
                                                       "bill_discounting"],
            programmes=["chain_expansion"],
            advice_zh="以核心企业带动上下游，推广供应链金融",
            advice_en="Reach suppliers and buyers through the anchor with supply-chain finance"),
        "watch": Strategy(
            contact_every_days=30, programmes=["risk_watch"], exclusive=True,
            advice_zh="加强贷后管理，暂缓新增授信营销",
            advice_en="Closer monitoring; no new credit marketing for now"),
    }  # fmt: skip


def _stage_strategies() -> dict[STAGE, Strategy]:
    return {
        "potential": Strategy(
            product_priorities=["working_capital", "bill_discounting"],
            programmes=["conversion"],
            advice_zh="精准营销，提高转化率", advice_en="Targeted marketing to convert"),
        "new": Strategy(
            contact_every_days=30, product_priorities=["working_capital"],
            programmes=["onboarding"],
            advice_zh="做好入门服务，建立信任", advice_en="Onboard well and build trust"),
        "active": Strategy(
            advice_zh="保持服务频率，交叉销售", advice_en="Keep the cadence; cross-sell"),
        "dormant": Strategy(
            contact_every_days=60, product_priorities=["working_capital", "bill_discounting"],
            programmes=["reactivation"],
            advice_zh="主动回访，唤醒融资需求", advice_en="Reach out and revive the need"),
        "lost": Strategy(
            programmes=["win_back"],
            advice_zh="了解流失原因，择机挽回", advice_en="Learn why it left; win it back"),
    }  # fmt: skip


def _product_risk() -> dict[PRODUCT_TYPE, int]:
    """1 (lowest) to 5: a discounted accepted bill or a receivable pays the lender from a third
    party; a working-capital loan or a lease from the client's own cash flow; a project from
    cash flows that do not exist yet."""
    return {"bill_discounting": 1, "factoring": 2, "supply_chain": 2, "working_capital": 3,
            "equipment_leasing": 3, "project": 5}  # fmt: skip


def _appetite_max_risk() -> dict[APPETITE, int]:
    return {"conservative": 2, "steady": 3, "aggressive": 5}


class StrategyRules(_Config):
    """The strategies of the policy (``PolicyConfig.strategies``)."""

    programmes: dict[str, Programme] = Field(default_factory=_programmes)
    segments: dict[str, Strategy] = Field(default_factory=_segment_strategies)
    lifecycle: dict[STAGE, Strategy] = Field(default_factory=_stage_strategies)
    #: Risk of each product type to the client, 1 (lowest) to 5.
    product_risk: dict[PRODUCT_TYPE, int] = Field(default_factory=_product_risk)
    #: The riskiest product a client of each appetite is offered first; riskier ones come
    #: after every product within it (still offered: the client may ask).
    appetite_max_risk: dict[APPETITE, int] = Field(default_factory=_appetite_max_risk)
    profiling: Profiling = Field(default_factory=Profiling)

    @model_validator(mode="after")
    def _consistent(self) -> StrategyRules:
        problems = []
        for code in self.programmes:
            if not code.replace("_", "").isalnum() or not code.islower() or len(code) > 24:
                problems.append(f"programmes: code {code!r} must be lower-case letters, digits "
                                "and _ (at most 24)")  # fmt: skip
        known = ", ".join(self.programmes) or "none"
        for kind, strategies in (("segments", self.segments), ("lifecycle", self.lifecycle)):
            for who, strategy in strategies.items():
                problems += [
                    UNKNOWN_PROGRAMME.format(where=f"{kind}.{who}", code=code, known=known)
                    for code in strategy.programmes
                    if code not in self.programmes
                ]
        if missing := [s for s in STAGES if s not in self.lifecycle]:
            problems.append(MISSING_STAGES.format(stages=", ".join(missing)))
        if any(not 1 <= v <= 5 for v in self.product_risk.values()):
            problems.append("product_risk: each level must be between 1 and 5")
        caps = [self.appetite_max_risk.get(a) for a in APPETITES]
        if None in caps:
            problems.append("appetite_max_risk: a cap for each of " + ", ".join(APPETITES))
        # Every cap is set here (no None, checked above); mypy cannot follow `None in`.
        elif any(b < a for a, b in pairwise(cast(list[int], caps))):
            problems.append(APPETITE_ORDER)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def strategy_problems(rules: StrategyRules, *, segment_codes: Iterable[str]) -> list[str]:
    """What the strategies say that the rest of the policy contradicts: a strategy for a
    segment no rule defines."""
    codes = list(segment_codes)
    return [
        UNKNOWN_SEGMENT.format(code=code, known=", ".join(codes))
        for code in rules.segments
        if code not in codes
    ]


# --- programmes -----------------------------------------------------------------------------


def period_key(period: str, as_of: date) -> str:
    """The period a programme task belongs to: ``once`` → ``1``, a year → ``2026``, a half
    → ``2026H2``, a quarter → ``2026Q4``, a month → ``2026-12``."""
    if period == "once":
        return "1"
    if period == "year":
        return f"{as_of.year}"
    if period == "half":
        return f"{as_of.year}H{1 + (as_of.month > 6)}"
    if period == "quarter":
        return f"{as_of.year}Q{(as_of.month - 1) // 3 + 1}"
    if period == "month":
        return f"{as_of.year}-{as_of.month:02d}"
    raise ValueError(f"unknown period {period!r}")


def programme_key(code: str, period: str, as_of: date) -> str:
    """``source_key`` of a client's task of programme ``code`` in the period of ``as_of``."""
    return f"{KEY_PREFIX}{code}:{period_key(period, as_of)}"


def _sources(rules: StrategyRules) -> pl.DataFrame:
    """source, programme: which stage (``lifecycle:new``) or segment (``segment:startup``)
    leads to which programme, in the policy's order (stages first)."""
    rows = [(f"lifecycle:{stage}", code) for stage, s in rules.lifecycle.items()
            for code in s.programmes]  # fmt: skip
    rows += [(f"segment:{seg}", code) for seg, s in rules.segments.items() for code in s.programmes]
    return pl.DataFrame(
        rows, schema={"source": pl.String, "programme": pl.String}, orient="row"
    ).with_row_index("_order")


def _exclusive(rules: StrategyRules) -> list[str]:
    sources = [f"segment:{k}" for k, s in rules.segments.items() if s.exclusive]
    return sources + [f"lifecycle:{k}" for k, s in rules.lifecycle.items() if s.exclusive]


def _client_sources(frame: pl.DataFrame, rules: StrategyRules) -> pl.DataFrame:
    """customer_id, source: the client's stage and each of its segments (only the exclusive
    ones when it is in any)."""
    stage = frame.select("customer_id", source=pl.lit("lifecycle:") + pl.col("lifecycle"))
    segments = (
        frame.select("customer_id", pl.col("segments").cast(pl.List(pl.String)))
        .explode("segments")
        .drop_nulls("segments")
        .select("customer_id", source=pl.lit("segment:") + pl.col("segments"))
    )
    sources = pl.concat([stage.drop_nulls("source"), segments])
    exclusive = pl.col("source").is_in(_exclusive(rules))
    return sources.filter(exclusive | ~exclusive.any().over("customer_id"))


def client_programmes(frame: pl.DataFrame, rules: StrategyRules) -> pl.DataFrame:
    """The programmes each client is in.

    Parameters
    ----------
    frame : pl.DataFrame
        ``customer_id``, ``lifecycle`` (a stage or null), ``segments`` (list of codes).
    rules : StrategyRules

    Returns
    -------
    pl.DataFrame
        ``customer_id``, ``programme``, ``source`` (``lifecycle:<stage>`` or
        ``segment:<code>``: why the client is in it; the first in the policy's order when
        several lead to it), sorted by client and the policy's order.
    """
    joined = _client_sources(frame, rules).join(_sources(rules), on="source")
    return (
        joined.sort("customer_id", "_order")
        .unique(["customer_id", "programme"], keep="first", maintain_order=True)
        .select("customer_id", "programme", "source")
    )


def contact_cadence(
    frame: pl.DataFrame, rules: StrategyRules, tier_days: Mapping[str, int]
) -> pl.Series:
    """Days between contacts of each client: its tier's service plan, tightened by the
    strategies of its stage and segments (the shortest wins; a strategy never loosens it).

    ``frame``: ``customer_id``, ``tier``, ``lifecycle``, ``segments``; returns ``cadence``
    (Int64) in the frame's order."""
    days = {f"lifecycle:{k}": s.contact_every_days for k, s in rules.lifecycle.items()}
    days |= {f"segment:{k}": s.contact_every_days for k, s in rules.segments.items()}
    tightened = (
        _client_sources(frame, rules)
        .with_columns(
            days=pl.col("source").replace_strict(
                {k: v for k, v in days.items() if v}, default=None, return_dtype=pl.Int64
            )
        )
        .group_by("customer_id")
        .agg(pl.col("days").min())
    )
    tier = pl.col("tier").replace_strict(dict(tier_days), default=None, return_dtype=pl.Int64)
    return (
        frame.select("customer_id", tier.alias("_tier"))
        .join(tightened, on="customer_id", how="left", maintain_order="left")
        .select(pl.min_horizontal("_tier", "days").alias("cadence"))
        .to_series()
    )


def strategies_for(
    rules: StrategyRules, *, lifecycle: str | None, segments: Sequence[str]
) -> list[tuple[str, Strategy]]:
    """The strategies that apply to one client, segments first (they say more about it),
    then its stage: (``segment:<code>`` or ``lifecycle:<stage>``, strategy)."""
    found = [(f"segment:{code}", rules.segments[code]) for code in segments
             if code in rules.segments]  # fmt: skip
    if lifecycle in rules.lifecycle:
        found.append((f"lifecycle:{lifecycle}", rules.lifecycle[lifecycle]))  # type: ignore[index]
    exclusive = [(source, s) for source, s in found if s.exclusive]
    return exclusive or found


def product_priorities(
    rules: StrategyRules, *, lifecycle: str | None, segments: Sequence[str]
) -> list[str]:
    """The product types a client's strategies put first, in order, each once."""
    ordered: list[str] = []
    for _source, strategy in strategies_for(rules, lifecycle=lifecycle, segments=segments):
        ordered += [t for t in strategy.product_priorities if t not in ordered]
    return ordered


def client_product_priorities(frame: pl.DataFrame, rules: StrategyRules) -> pl.DataFrame:
    """:func:`product_priorities` of a book: ``frame`` has ``customer_id``, ``lifecycle``,
    ``segments``; returns ``customer_id``, ``preferred_types`` (list, best first; segments'
    before the stage's, each type once) for the clients with any."""
    rows = [(f"segment:{code}", t) for code, s in rules.segments.items()
            for t in s.product_priorities]  # fmt: skip
    rows += [(f"lifecycle:{stage}", t) for stage, s in rules.lifecycle.items()
             for t in s.product_priorities]  # fmt: skip
    table = pl.DataFrame(
        rows, schema={"source": pl.String, "product_type": pl.String}, orient="row"
    ).with_columns(_rank=pl.int_range(pl.len()).over("source"))
    sources = _client_sources(frame, rules).with_columns(
        _stage=pl.col("source").str.starts_with("lifecycle:")
    )
    segments = [f"segment:{code}" for code in rules.segments]
    return (
        sources.join(table, on="source")
        .with_columns(
            _src=pl.col("source").replace_strict(
                {code: i for i, code in enumerate(segments)},
                default=len(segments),
                return_dtype=pl.Int64,
            )
        )
        .sort("customer_id", "_stage", "_src", "_rank")
        .unique(["customer_id", "product_type"], keep="first", maintain_order=True)
        .group_by("customer_id", maintain_order=True)
        .agg(preferred_types=pl.col("product_type"))
    )


# --- needs level and risk appetite ------------------------------------------------------------


def propose_profile(
    holdings: pl.DataFrame, answers: pl.DataFrame, rules: StrategyRules
) -> pl.DataFrame:
    """Propose each client's needs level and risk appetite.

    Parameters
    ----------
    holdings : pl.DataFrame
        ``customer_id``, ``product_type``: the types of the facilities a client holds or held.
    answers : pl.DataFrame
        ``customer_id``, ``option`` (the text of a chosen survey option), ``answered_at``.
    rules : StrategyRules

    Returns
    -------
    pl.DataFrame
        One row per client of either frame: ``customer_id``, ``needs_level``,
        ``needs_reason`` (``answer`` or ``holdings``), ``product_types`` (how many types it
        holds), ``risk_appetite``, ``appetite_reason`` (``answer`` or ``holdings``),
        ``max_product_risk`` (of its holdings), ``answer_needs`` / ``answer_appetite`` (the
        option that decided, when an answer did). Null where nothing tells.
    """
    p = rules.profiling
    held = _held_types(holdings, rules)
    by_types, by_risk = _by_holdings(p)
    ids = pl.concat(
        [held.select("customer_id"), answers.select(pl.col("customer_id").cast(pl.Int64))]
    ).unique()
    frame = (
        ids.join(held, on="customer_id", how="left")
        .join(_latest_answer(answers, dict(p.answers_needs), "needs"), on="customer_id", how="left")
        .join(
            _latest_answer(answers, dict(p.answers_appetite), "appetite"),
            on="customer_id",
            how="left",
        )
        .with_columns(pl.col("product_types").fill_null(0))
    )
    return frame.select(
        "customer_id",
        needs_level=pl.coalesce("_said_needs", by_types),
        needs_reason=pl.when(pl.col("_said_needs").is_not_null())
        .then(pl.lit("answer"))
        .when(by_types.is_not_null())
        .then(pl.lit("holdings")),
        product_types="product_types",
        risk_appetite=pl.coalesce("_said_appetite", by_risk),
        appetite_reason=pl.when(pl.col("_said_appetite").is_not_null())
        .then(pl.lit("answer"))
        .when(by_risk.is_not_null())
        .then(pl.lit("holdings")),
        max_product_risk="max_product_risk",
        answer_needs="answer_needs",
        answer_appetite="answer_appetite",
    ).sort("customer_id")


def _held_types(holdings: pl.DataFrame, rules: StrategyRules) -> pl.DataFrame:
    """Per client: ``product_types`` (distinct types held) and ``max_product_risk``."""
    return (
        holdings.select("customer_id", pl.col("product_type").cast(pl.String))
        .drop_nulls()
        .unique()
        .with_columns(
            risk=pl.col("product_type").replace_strict(
                dict(rules.product_risk), default=None, return_dtype=pl.Int64
            )
        )
        .group_by("customer_id")
        .agg(product_types=pl.len().cast(pl.Int64), max_product_risk=pl.col("risk").max())
    )


def _by_holdings(p: Profiling) -> tuple[pl.Expr, pl.Expr]:
    """The needs level from ``product_types`` and the appetite from ``max_product_risk``
    (null when nothing is held)."""
    by_types = (
        pl.when(pl.col("product_types") >= p.premium_types)
        .then(pl.lit("premium"))
        .when(pl.col("product_types") >= p.comprehensive_types)
        .then(pl.lit("comprehensive"))
        .when(pl.col("product_types") >= 1)
        .then(pl.lit("basic"))
    )
    by_risk = (
        pl.when(pl.col("max_product_risk") >= p.aggressive_risk)
        .then(pl.lit("aggressive"))
        .when(pl.col("max_product_risk") <= p.conservative_risk)
        .then(pl.lit("conservative"))
        .when(pl.col("max_product_risk").is_not_null())
        .then(pl.lit("steady"))
    )
    return by_types, by_risk


def _latest_answer(answers: pl.DataFrame, mapping: dict[str, str], name: str) -> pl.DataFrame:
    """Per client, the latest answer among ``mapping``'s options (``answer_<name>``) and what
    it says (``_said_<name>``)."""
    return (
        answers.filter(pl.col("option").is_in(list(mapping)))
        .sort("answered_at")
        .group_by("customer_id")
        .agg(pl.col("option").last().alias(f"answer_{name}"))
        .with_columns(
            pl.col(f"answer_{name}")
            .replace_strict(mapping, return_dtype=pl.String)
            .alias(f"_said_{name}")
        )
    )


def cautious_appetite(recorded: str | None, proposed: str | None) -> str | None:
    """The appetite recommendations follow: the more conservative of the one on file and the
    proposed one (suitability: neither the client's word nor its record is exceeded)."""
    known = [a for a in (recorded, proposed) if a in APPETITES]
    return min(known, key=APPETITES.index) if known else None


def cautious_appetite_expr(recorded: pl.Expr, proposed: pl.Expr) -> pl.Expr:
    """:func:`cautious_appetite` of two columns."""
    rank = {a: i for i, a in enumerate(APPETITES)}

    def ranked(e: pl.Expr) -> pl.Expr:
        return e.replace_strict(rank, default=None, return_dtype=pl.Int64)

    return pl.min_horizontal(ranked(recorded), ranked(proposed)).replace_strict(
        dict(enumerate(APPETITES)), default=None, return_dtype=pl.String
    )


def max_risk_expr(appetite: pl.Expr, rules: StrategyRules) -> pl.Expr:
    """The riskiest product level an appetite is offered first (null appetite: no cap)."""
    return appetite.replace_strict(
        dict(rules.appetite_max_risk), default=None, return_dtype=pl.Int64
    )
