"""The demo book's rows, drawn for a chunk of clients at a time with NumPy and polars.

Pure: no database, no Django model. ``draw_chunk`` turns a :class:`Plan` (plain ids and
numbers read from the organisation once) and a chunk number into one polars frame per table,
with ids local to the chunk (0, 1, …); ``generator.build_book`` shifts them to the database's
ids and writes them. Each chunk draws from its own generator seeded with (seed, chunk number),
so chunks can be drawn in any order or process and the same seed still gives the same book.

Every distribution follows the per-client story the detailed generator told before: a
manager, a city mostly in the manager's region, a company (valid credit code, contacts,
statements) or a person (valid ID number), 0–3 applications at every stage with their
history and documents checklist, facilities with schedules, payments and arrears (good, late
and defaulting payers), interactions, and the service history of ``demo.service``.

This module draws the clients (companies with contacts and statements, persons) and their
contacts with the bank; ``demo.book_lending`` the applications, decisions, risk and
facilities; ``demo.draws`` the identifiers and NumPy helpers all of them share; ``demo.plan``
holds the plain data a chunk is drawn from.

Times are drawn in Asia/Shanghai (office hours) and kept as naive UTC (Shanghai is UTC+8 all
year since 1991).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from fincrm.customers.choices import ClientType, CustomerKind, RiskAppetite, SourceChannel
from fincrm.customers.geo import CITIES

from . import draws, names
from .book_lending import client_risk, draw_applications, draw_decisions, draw_facilities
from .draws import FALLBACK_COUNTIES as FALLBACK_COUNTIES  # demo.generator's fallback
from .draws import ric_number as ric_number  # demo.generator draws its named clients' IDs
from .plan import Plan
from .plan import ProductSpec as ProductSpec  # demo.generator builds the plan

#: Clients per chunk (and per transaction): about half a million rows.
CHUNK = 10_000

CHANNEL_SHARES = np.array([0.32, 0.16, 0.12, 0.22, 0.08, 0.05, 0.05])
OUTCOMES = ("reached", "reached", "interested", "no_answer", "info_sent", "issue_raised",
            "not_interested")  # fmt: skip
#: Managers' regions: clients of a region's managers are mostly in its provinces.
REGION_PROVINCES = {
    "华东区": {"上海", "江苏", "浙江", "安徽", "山东", "福建", "江西"},
    "华南区": {"广东", "广西", "海南", "湖南", "湖北", "云南", "贵州", "四川", "重庆"},
    "华北区": {"北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "河南",
              "陕西", "甘肃", "宁夏", "青海", "新疆"},
}  # fmt: skip


# --- the chunk ---------------------------------------------------------------------------


def draw_chunk(plan: Plan, number: int, start: int, size: int) -> dict[str, pl.DataFrame]:
    """Clients ``start`` … ``start + size − 1`` (chunk ``number``) and everything they own."""
    from .service import draw_service

    rng = np.random.default_rng([plan.seed, number])
    as_of = np.datetime64(plan.as_of, "D")
    frames, customers, revenue = _customers(rng, plan, start, size)
    frames.update(_companies(rng, plan, customers, revenue))
    applications, stages = draw_applications(rng, plan, customers, revenue)
    frames["applications"] = applications
    frames.update(stages)
    risk = client_risk(rng, customers, frames["statements"])
    facilities, repayments = draw_facilities(rng, plan, applications, as_of, risk)
    frames["facilities"] = facilities
    frames.update(repayments)
    frames["applications"], frames["votes"] = draw_decisions(
        plan, applications, facilities, stages["stage_changes"]
    )
    frames["interactions"] = pl.concat(
        [
            _interactions(rng, plan, customers, revenue, as_of),
            _departure_signals(rng, customers, applications, facilities, as_of),
        ],
        how="vertical_relaxed",
    )
    frames.update(draw_service(rng, plan.service, plan.as_of, customers, frames["installments"]))
    return frames


def _customers(rng, plan: Plan, start: int, n: int):
    managers = rng.integers(0, len(plan.managers), n)
    cities = _home_cities(rng, plan, managers)

    company = rng.random(n) < 0.7
    industry_codes, weights = zip(*names.INDUSTRY_WEIGHTS.items(), strict=True)
    industry = rng.choice(len(industry_codes), n, p=np.array(weights, float) / sum(weights))
    company_type = rng.choice(3, n, p=[0.84, 0.13, 0.03])
    wealthy = rng.random(n) < 0.25
    company_scale = np.array([17.0, 20.0, 18.5])[company_type]
    person_scale = np.where(wealthy, 16.5, 15.2)
    revenue = np.where(
        company, np.exp(rng.normal(company_scale, 0.9)), np.exp(rng.normal(person_scale, 0.8))
    )
    client_type = np.where(
        company,
        np.array([ClientType.SME, ClientType.LARGE_ENTERPRISE, ClientType.INSTITUTION])[
            company_type
        ],
        np.where(wealthy, ClientType.HIGH_NET_WORTH.value, ClientType.SME_OWNER.value),
    )
    firm = _company_identities(rng, plan, start, cities, industry, revenue)
    person = _person_identities(rng, cities)
    person_names = draws.person_names(rng, n)
    phones = draws.mobiles(rng, n)

    needs = _needs_levels(rng, revenue)
    street = rng.integers(1, 999, n)
    has_email = rng.random(n) < 0.6
    tagged = rng.random(n) < 0.25
    tag = rng.integers(0, len(plan.tags), n)
    owner = np.array(plan.managers)[managers]
    frame = pl.DataFrame(
        {
            "id": np.arange(n),
            "kind": np.where(company, CustomerKind.COMPANY.value, CustomerKind.PERSON.value),
            "name": np.where(company, firm["name"], person_names),
            "credit_code": firm["credit_code"],
            "id_number": pl.Series([None] * n, dtype=pl.String),
            "_county": person["county"],
            "_birthday": person["yyyymmdd"],
            "phone": np.where(company, "", phones),
            "email": [f"c{start + i}@example.cn" if e else "" for i, e in enumerate(has_email)],
            "industry": np.array(industry_codes)[industry],
            "province": [c.province for c in cities],
            "city": [c.name for c in cities],
            "city_tier": [c.tier for c in cities],
            "address": [
                f"{c.province}{c.name}某区某路{s}号"
                for c, s in zip(cities, street.tolist(), strict=True)
            ],
            "registered_capital": firm["capital"],
            "annual_revenue": draws.money(revenue),
            "employee_count": firm["staff"],
            "client_type": client_type,
            "needs_level": needs,
            "risk_appetite": draws.pick(rng, RiskAppetite.values, n, p=[0.3, 0.5, 0.2]),
            "source_channel": draws.pick(rng, SourceChannel.values, n),
            "owner_id": owner,
            "team_id": np.array(plan.manager_teams)[managers],
            "birthday": draws.dates(person["birthday"]),
            "founded_on": draws.dates(firm["founded"]),
        }
    )
    frame = frame.with_columns(referred_by_id=_referrers(plan, start, frame["source_channel"]))
    is_company = pl.Series(company)
    frame = frame.with_columns(
        *(
            pl.when(is_company).then(pl.col(c)).alias(c)
            for c in ("credit_code", "registered_capital", "employee_count", "founded_on")
        ),
        *(pl.when(~is_company).then(pl.col(c)).alias(c) for c in ("birthday", "_county")),
    )
    tags = pl.DataFrame(
        {
            "customer_id": np.flatnonzero(tagged),
            "tag_id": np.array(plan.tags)[tag[tagged]],
        }
    )
    return {"customers": frame, "customer_tags": tags}, frame, revenue


#: Share of the clients who came by referral that name the client who referred them.
REFERRER_KNOWN = 0.8


def _referrers(plan: Plan, start: int, source_channel: pl.Series) -> pl.Series:
    """The referrer (a chunk-local id) of most clients who came by referral: an earlier
    client of the same chunk, so no referral goes round in a circle. Drawn from a stream of
    its own: the rest of the book is the same as without referrals."""
    rng = np.random.default_rng([plan.seed, start, 21])
    n = source_channel.len()
    earlier = np.floor(rng.random(n) * np.arange(n)).astype(np.int64)
    linked = (source_channel == SourceChannel.REFERRAL.value).to_numpy() & (
        rng.random(n) < REFERRER_KNOWN
    )
    linked[0] = False
    return pl.Series("referred_by_id", np.where(linked, earlier, 0), dtype=pl.Int64).set(
        pl.Series(~linked), None
    )


def _needs_levels(rng, revenue: np.ndarray) -> np.ndarray:
    """Basic, comprehensive or premium: big clients (revenue from 100M CNY) need more."""
    big = revenue >= 1e8
    u = rng.random(len(revenue))
    return np.where(
        u < np.where(big, 0.2, 0.55),
        "basic",
        np.where(u < np.where(big, 0.7, 0.9), "comprehensive", "premium"),
    )


def _home_cities(rng, plan: Plan, managers: np.ndarray) -> list:
    """A city by tier weight, mostly in the manager's region: up to six draws, the first in
    the region (or 15% luck) is kept, else the last."""
    n = len(managers)
    tier_weight = {"1": 4.0, "new1": 3.0, "2": 1.6, "3": 0.8, "4": 0.5}
    city_p = np.array([tier_weight[c.tier] for c in CITIES])
    candidates = rng.choice(len(CITIES), size=(n, 6), p=city_p / city_p.sum())
    regions = sorted(set(plan.manager_regions))
    region_of = np.array([regions.index(r) for r in plan.manager_regions])[managers]
    in_region = np.array(
        [[c.province in REGION_PROVINCES.get(r, ()) for c in CITIES] for r in regions]
    )
    accepted = in_region[region_of[:, None], candidates] | (rng.random((n, 6)) < 0.15)
    first = np.where(accepted.any(axis=1), accepted.argmax(axis=1), 5)
    city = candidates[np.arange(n), first]
    return [CITIES[i] for i in city.tolist()]


def _company_identities(rng, plan: Plan, start: int, cities: list, industry, revenue) -> dict:
    """Every client drawn as a company: name, founding, credit code (county of the city),
    capital, staff (the caller keeps them for the companies only)."""
    n = len(cities)
    industry_codes = list(names.INDUSTRY_WEIGHTS)
    words = [names.INDUSTRY_WORDS[industry_codes[i]][0] for i in range(len(industry_codes))]
    word = draws.uniform_from(rng, words, industry)
    trade = draws.pick(rng, names.TRADE_WORDS, n)
    forms, form_w = zip(*names.COMPANY_FORMS, strict=True)
    form = draws.pick(rng, forms, n, p=np.array(form_w) / sum(form_w))
    founded = np.datetime64(plan.as_of, "D") - (rng.gamma(2.2, 1600, n).astype(np.int64) + 200)
    counties = draws.counties_by_year()
    city_county = draws.uniform_from(
        rng, [counties[c.area_code, 1980] or (f"{c.area_code}02",) for c in cities], np.arange(n)
    )
    serials = (start + np.arange(n) + 1) * 7919 % 999_999_937
    return {
        "name": [
            f"{c.name}{t}{w}{f}" for c, t, w, f in zip(cities, trade, word, form, strict=True)
        ],
        "founded": founded,
        "credit_code": draws.uscc_codes(np.array(city_county), serials),
        "capital": draws.money(revenue * rng.uniform(0.05, 0.4, n)),
        "staff": np.maximum(3, revenue / rng.uniform(4e5, 1.5e6, n)).astype(np.int64),
    }


def _person_identities(rng, cities: list) -> dict:
    """Every client drawn as a person: birthday and a county of the city that existed in the
    birth year (the ID number is made from them when the rows are written)."""
    n = len(cities)
    years = rng.integers(draws.FIRST_BIRTH_YEAR, draws.LAST_BIRTH_YEAR + 1, n)
    months = rng.integers(1, 13, n)
    days = rng.integers(1, 29, n)
    birthday = np.array(
        [f"{y}-{m:02d}-{d:02d}" for y, m, d in zip(years, months, days, strict=True)],
        dtype="datetime64[D]",
    )
    counties = draws.counties_by_year()
    birth_pools = [
        counties[c.area_code, int(y)] or draws.FALLBACK_COUNTIES
        for c, y in zip(cities, years.tolist(), strict=True)
    ]
    return {
        "birthday": birthday,
        "yyyymmdd": years * 10_000 + months * 100 + days,
        "county": draws.uniform_from(rng, birth_pools, np.arange(n)),
    }


def _companies(rng, plan: Plan, customers: pl.DataFrame, revenue: np.ndarray):
    """Contacts and financial statements of the companies."""
    company = np.flatnonzero(customers["kind"].to_numpy() == "company")
    # Contacts: 1–3, the first the key one.
    parent, position = draws.spread(rng.integers(1, 4, len(company)))
    n = len(parent)
    born = np.array(
        [
            f"{y}-{m:02d}-{d:02d}"
            for y, m, d in zip(
                rng.integers(1962, 1996, n), rng.integers(1, 13, n), rng.integers(1, 29, n),
                strict=True,
            )
        ],
        dtype="datetime64[D]",
    )  # fmt: skip
    contacts = pl.DataFrame(
        {
            "customer_id": company[parent],
            "_position": position,
            "_wechat": rng.random(n) < 0.7,
            "name": draws.person_names(rng, n),
            "title": np.array(names.CONTACT_TITLES, dtype=object)[position],
            "phone": draws.mobiles(rng, n),
            "birthday": draws.dates(born),
            "preferred_channel": draws.pick(rng, ("phone", "wechat", "visit", "email"), n),
            "is_key": position == 0,
        }
    )
    # Statements: 0–3 years, a growth trend, one firm in ten deteriorating in its last year.
    m = len(company)
    years = rng.choice(4, m, p=[0.08, 0.12, 0.2, 0.6])
    trend = rng.normal(0.08, 0.12, m)
    worse = rng.random(m) < 0.1
    firm_leverage, firm_margin = rng.normal(0.55, 0.14, m), rng.normal(0.18, 0.055, m)
    last_year = plan.as_of.year - 1 if plan.as_of.month > 4 else plan.as_of.year - 2
    firm, k = draws.spread(years)
    n = len(firm)
    span, bad = years[firm], worse[firm]
    growth = (1 + trend[firm]) ** (k - span + 1) * rng.normal(1, 0.04, n)
    rev = revenue[company][firm] * growth * np.where(bad & (k == span - 1), 0.75, 1)
    # Leverage and margin are the firm's own, year after year (plus a little noise): the
    # statement a lender saw a year ago still says how the firm runs, and its defaults follow.
    margin = firm_margin[firm] + rng.normal(0, 0.02, n) - np.where(bad, 0.12, 0)
    cost = rev * (1 - margin)
    assets = rev * rng.uniform(0.6, 1.8, n)
    leverage = firm_leverage[firm] + rng.normal(0, 0.04, n) + np.where(bad, 0.2, 0)
    leverage = np.clip(leverage, 0.1, 1.1)
    liabilities = assets * leverage
    current_assets = assets * rng.uniform(0.35, 0.7, n)
    inventory = current_assets * rng.uniform(0.1, 0.35, n)
    receivables = current_assets * rng.uniform(0.2, 0.45, n)
    current_liabilities = liabilities * rng.uniform(0.4, 0.8, n)
    interest = liabilities * 0.6 * rng.uniform(0.035, 0.07, n)
    opex = rev * rng.uniform(0.06, 0.12, n)
    net_profit = (rev - cost - opex - interest) * 0.75
    period_end = np.array([f"{y}-12-31" for y in last_year - (span - 1 - k)], "datetime64[D]")
    statements = pl.DataFrame(
        {
            "customer_id": company[firm],
            "period_end": draws.dates(period_end),
            "revenue": draws.money(rev),
            "cost": draws.money(cost),
            "net_profit": np.round(net_profit, 2),
            "total_assets": draws.money(assets),
            "total_liabilities": draws.money(liabilities),
            "current_assets": draws.money(current_assets),
            "current_liabilities": draws.money(current_liabilities),
            "inventory": draws.money(inventory),
            "receivables": draws.money(receivables),
            "operating_cash_flow": np.round(net_profit * rng.uniform(0.85, 1.2, n), 2),
            "interest_expense": draws.money(interest),
            "audited": rng.random(n) < 0.6,
        }
    )
    return {"contacts": contacts, "statements": statements}


def _interactions(rng, plan: Plan, customers: pl.DataFrame, revenue, as_of: np.datetime64):
    """Calls, visits, messages: about five a client over two years, ten for big ones; one
    client in eight dormant (at most one contact, long ago)."""
    n = customers.height
    big = draws.money(revenue) > 1e8
    dormant = rng.random(n) < 0.12
    counts = np.where(dormant, rng.integers(0, 2, n), rng.poisson(np.where(big, 10, 5)))
    customer, _k = draws.spread(counts)
    m = len(customer)
    channels = list(names.INTERACTION_SUBJECTS)
    channel = rng.choice(len(channels), m, p=CHANNEL_SHARES)
    back = rng.integers(0, 730, m) + np.where(dormant[customer], 400, 0)
    subjects = [names.INTERACTION_SUBJECTS[c] for c in channels]
    client = customers["name"].to_numpy()[customer]
    return pl.DataFrame(
        {
            "customer_id": customer,
            "channel": np.array(channels, dtype=object)[channel],
            "direction": np.where(np.array(channels)[channel] == "portal", "in", "out"),
            "occurred_at": draws.times(draws.office_time(rng, as_of - back)),
            "subject": draws.uniform_from(rng, subjects, channel),
            "summary": [f"与{c}沟通经营与资金需求情况。" for c in client],
            "outcome": draws.pick(rng, OUTCOMES, m),
            "next_step": draws.pick(rng, names.NEXT_STEPS, m),
            "created_by_id": customers["owner_id"].to_numpy()[customer],
        }
    )


#: What a client about to leave says in the months before its facility matures (a better
#: offer, a competitor's visit, a service failure, new owners), as a manager notes it.
DEPARTURE_NOTES = (
    ("他行给出利率更低的续贷方案，客户在比较", "not_interested"),
    ("客户提到同业报价更优惠，续贷意向不明", "info_sent"),
    ("客户反映放款流程太慢，对服务不满意", "issue_raised"),
    ("客户投诉对账单错误多次未解决", "issue_raised"),
    ("客户股东变更，新管理层倾向与其他银行合作", "not_interested"),
)
#: A renewal: an application of the client from 180 days before a maturity to 60 after.
RENEWAL_WINDOW = (np.timedelta64(180, "D"), np.timedelta64(60, "D"))


def _departure_signals(
    rng, customers: pl.DataFrame, applications: pl.DataFrame, facilities: pl.DataFrame,
    as_of: np.datetime64,
) -> pl.DataFrame:  # fmt: skip
    """Notes of the months before each maturity that tell whether the client will stay: one
    that does not renew mostly spoke of a better offer elsewhere, complained or changed
    owners first; one that renews seldom did. Noisy on purpose (a leaver may say nothing, a
    loyal client may grumble), so a churn model learns behaviour rather than the calendar."""
    maturity = facilities["maturity_date"].to_numpy().astype("datetime64[D]")
    client = facilities["customer_id"].to_numpy()
    due = maturity <= as_of + np.timedelta64(180, "D")
    created = (applications["created_at"].to_numpy() + draws.UTC_OFFSET).astype("datetime64[D]")
    by_client: dict[int, list] = {}
    for c, day in zip(applications["customer_id"].to_list(), created, strict=True):
        by_client.setdefault(c, []).append(day)
    before, after = RENEWAL_WINDOW
    renewed = np.array(
        [
            any(m - before <= d <= m + after for d in by_client.get(c, ()))
            for c, m in zip(client.tolist(), maturity, strict=True)
        ],
        dtype=bool,
    )
    counts = np.where(due, rng.poisson(np.where(renewed, 0.2, 1.4)), 0)
    facility, _k = draws.spread(counts)
    day = maturity[facility] - rng.integers(20, 240, len(facility)).astype("timedelta64[D]")
    keep = day < as_of
    facility, day = facility[keep], day[keep]
    n = len(facility)
    note = rng.integers(0, len(DEPARTURE_NOTES), n)
    return pl.DataFrame(
        {
            "customer_id": client[facility],
            "channel": draws.pick(rng, ("phone", "visit", "wechat"), n),
            "direction": np.full(n, "out"),
            "occurred_at": draws.times(draws.office_time(rng, day)),
            "subject": np.full(n, "续贷意向沟通"),
            "summary": [DEPARTURE_NOTES[i][0] for i in note.tolist()],
            "outcome": [DEPARTURE_NOTES[i][1] for i in note.tolist()],
            "next_step": np.full(n, "下月再次回访"),
            "created_by_id": customers["owner_id"].to_numpy()[client[facility]],
        }
    )
