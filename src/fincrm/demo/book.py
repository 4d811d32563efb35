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

Times are drawn in Asia/Shanghai (office hours) and kept as naive UTC (Shanghai is UTC+8 all
year since 1991).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import pairwise

import numpy as np
import polars as pl
from stdnum.cn import ric

from fincrm.analytics.delinquency import classify_many
from fincrm.customers.choices import ClientType, CustomerKind, RiskAppetite, SourceChannel
from fincrm.customers.geo import CITIES
from fincrm.financing.choices import GuaranteeType, Stage

from . import names

#: Clients per chunk (and per transaction): about half a million rows.
CHUNK = 10_000
UTC_OFFSET = np.timedelta64(8, "h")
FIRST_BIRTH_YEAR, LAST_BIRTH_YEAR = 1960, 1997
#: County codes valid for every birthday the demo uses (Beijing Chaoyang, Shanghai Huangpu...).
FALLBACK_COUNTIES = ("110105", "310101", "310104")

#: Target stage of applications (shares); disbursed ones become facilities.
STAGE_SHARES = {
    Stage.LEAD: 0.07, Stage.SUBMITTED: 0.05, Stage.DOCUMENTS: 0.06, Stage.DUE_DILIGENCE: 0.05,
    Stage.CREDIT_REVIEW: 0.05, Stage.APPROVED: 0.03, Stage.CONTRACT: 0.03, Stage.REJECTED: 0.08,
    Stage.WITHDRAWN: 0.04, Stage.DISBURSED: 0.54,
}  # fmt: skip
#: Repayment behaviour of facilities (drawn from the client's risk: ``client_risk``).
BEHAVIOURS = ("good", "late", "default")
PIPELINE = (Stage.LEAD, Stage.SUBMITTED, Stage.DOCUMENTS, Stage.DUE_DILIGENCE,
            Stage.CREDIT_REVIEW, Stage.APPROVED, Stage.CONTRACT, Stage.DISBURSED)  # fmt: skip
#: Every stage path an application can take: along the pipeline up to its stage, rejected
#: after the credit review, or withdrawn after one to three early stages.
PATHS = (
    *(PIPELINE[: i + 1] for i in range(len(PIPELINE))),
    (*PIPELINE[:5], Stage.REJECTED),
    *((*PIPELINE[:stop], Stage.WITHDRAWN) for stop in (1, 2, 3)),
)
REJECTED_PATH = len(PIPELINE)
WITHDRAWN_PATHS = REJECTED_PATH + 1
APPROVAL_NOTE = "审批意见：同意"
REJECTION_NOTE = "审批意见：负债率偏高，暂不受理"
CHANNEL_SHARES = np.array([0.32, 0.16, 0.12, 0.22, 0.08, 0.05, 0.05])
OUTCOMES = ("reached", "reached", "interested", "no_answer", "info_sent", "issue_raised",
            "not_interested")  # fmt: skip
MOBILE_PREFIXES = ("13", "15", "17", "18", "19")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array((1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28))
#: Managers' regions: clients of a region's managers are mostly in its provinces.
REGION_PROVINCES = {
    "华东区": {"上海", "江苏", "浙江", "安徽", "山东", "福建", "江西"},
    "华南区": {"广东", "广西", "海南", "湖南", "湖北", "云南", "贵州", "四川", "重庆"},
    "华北区": {"北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "河南",
              "陕西", "甘肃", "宁夏", "青海", "新疆"},
}  # fmt: skip


@dataclass(frozen=True)
class ProductSpec:
    id: int
    min_rate: float
    max_rate: float
    min_tenor: int
    max_tenor: int
    min_amount: float
    max_amount: float
    documents: tuple[str, ...]


@dataclass(frozen=True)
class ServicePlan:
    """What the service history needs from the database, read once (see demo.service)."""

    annual_survey: int
    questions: dict[str, int]
    #: severity → (respond hours, resolve hours, business days only)
    sla: dict[str, tuple[float, float, bool]]
    #: ticket text → (suggested category, its source, its keywords)
    suggestions: dict[str, tuple[str, str, tuple[str, ...]]]
    #: survey comment → (sentiment label, keywords)
    tones: dict[str, tuple[str, tuple[str, ...]]]


@dataclass(frozen=True)
class Plan:
    """Everything a chunk needs, as plain data (it crosses process boundaries)."""

    seed: int
    as_of: date
    managers: tuple[int, ...]
    manager_teams: tuple[int, ...]
    manager_regions: tuple[str, ...]
    products: tuple[ProductSpec, ...]
    tags: tuple[int, ...]
    risk: int
    service: ServicePlan
    #: The executive who co-approves above a risk officer's authority (the policy's table).
    executive: int | None = None


# --- identifiers -------------------------------------------------------------------------


def _valid(county: str, year: int) -> bool:
    body = f"{county}{year}0101001"
    try:  # stdnum raises KeyError (not a validation error) for some unknown codes
        return ric.is_valid(body + ric.calc_check_digit(body + "0"))
    except KeyError:
        return False


@cache
def counties_by_year() -> dict[tuple[str, int], tuple[str, ...]]:
    """County codes python-stdnum accepts, per (city area code, birth year)."""
    years = range(FIRST_BIRTH_YEAR, LAST_BIRTH_YEAR + 1)
    found: dict[tuple[str, int], list[str]] = {(c.area_code, y): [] for c in CITIES for y in years}
    for city in CITIES:
        for suffix in range(1, 40):
            county = f"{city.area_code}{suffix:02d}"
            # Counties are created and merged rarely: probe a few years, all when they differ.
            probes = {_valid(county, year) for year in (1960, 1970, 1980, 1990, 1997)}
            if probes == {True}:
                valid = years
            elif probes == {False}:
                valid = ()
            else:
                valid = [year for year in years if _valid(county, year)]
            for year in valid:
                found[city.area_code, year].append(county)
    return {key: tuple(codes) for key, codes in found.items()}


def uscc_codes(regions: np.ndarray, serials: np.ndarray) -> list[str]:
    """Valid unified social credit codes ``91`` + region (6 digits) + serial (9 digits)."""
    bodies = [f"91{r}{s:09d}" for r, s in zip(regions, serials, strict=True)]
    digits = np.frombuffer("".join(bodies).encode(), dtype=np.uint8).reshape(-1, 17) - ord("0")
    check = (31 - (digits.astype(np.int64) @ USCC_WEIGHTS) % 31) % 31
    return [b + USCC_ALPHABET[c] for b, c in zip(bodies, check.tolist(), strict=True)]


def ric_number(county: str, birthday: str, sequence: int) -> str:
    """A resident ID number: county, birthday (YYYYMMDD), sequence and check digit."""
    body = f"{county}{birthday}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


# --- vector helpers ------------------------------------------------------------------------


def _spread(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``counts[i]`` children of each parent i: each child's parent and its position."""
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return parent, np.arange(len(parent)) - starts[parent]


def _pick(rng: np.random.Generator, options, n: int, p=None) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p)]


def _money(values: np.ndarray) -> np.ndarray:
    return np.round(np.maximum(values, 0.0), 2)


def _half_up(values: np.ndarray) -> np.ndarray:
    """Cents rounded half up, as ``Decimal.quantize(ROUND_HALF_UP)`` in the schedules (the
    small epsilon absorbs binary fractions such as 0.125 stored as 0.12499…)."""
    return np.floor(np.asarray(values) * 100 + 0.5 + 1e-7) / 100


def _add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """``days`` + ``months`` calendar months, the day of month capped at 28."""
    month = days.astype("datetime64[M]")
    day = np.minimum((days - month.astype("datetime64[D]")).astype(np.int64), 27)
    return (month + months).astype("datetime64[D]") + day


def office_time(rng: np.random.Generator, days: np.ndarray, *, on_the_hour: bool = False):
    """A time on each of ``days`` during office hours in Shanghai, as naive UTC."""
    n = len(days)
    hours = rng.integers(9, 18, n)
    minutes = np.zeros(n, dtype=np.int64) if on_the_hour else rng.integers(0, 60, n)
    local = days.astype("datetime64[s]") + hours * 3600 + minutes * 60
    return local - UTC_OFFSET


def _names(rng: np.random.Generator, n: int) -> list[str]:
    surnames, weights = zip(*names.SURNAMES, strict=True)
    surname = _pick(rng, surnames, n, p=np.array(weights) / sum(weights))
    chars = np.array(list(names.GIVEN_CHARS), dtype=object)
    first = chars[rng.integers(0, len(chars), n)]
    second = np.where(rng.random(n) < 0.35, "", chars[rng.integers(0, len(chars), n)])
    return (surname + first + second).tolist()


def _mobiles(rng: np.random.Generator, n: int) -> list[str]:
    prefix = _pick(rng, MOBILE_PREFIXES, n)
    rest = rng.integers(0, 1_000_000_000, n)
    return [f"{p}{r:09d}" for p, r in zip(prefix, rest.tolist(), strict=True)]


def _uniform_from(rng: np.random.Generator, pools: list[tuple], which: np.ndarray) -> list:
    """One item per row from ``pools[which[row]]``, uniformly."""
    sizes = np.array([len(pool) for pool in pools])[which]
    index = (rng.random(len(which)) * sizes).astype(np.int64)
    return [pools[w][i] for w, i in zip(which.tolist(), index.tolist(), strict=True)]


def _dates(values: np.ndarray) -> pl.Series:
    return pl.Series(values.astype("datetime64[D]"), dtype=pl.Date)


def _times(values: np.ndarray) -> pl.Series:
    return pl.Series(values.astype("datetime64[us]"), dtype=pl.Datetime("us"))


# --- the chunk ---------------------------------------------------------------------------


def draw_chunk(plan: Plan, number: int, start: int, size: int) -> dict[str, pl.DataFrame]:
    """Clients ``start`` … ``start + size − 1`` (chunk ``number``) and everything they own."""
    from .service import draw_service

    rng = np.random.default_rng([plan.seed, number])
    as_of = np.datetime64(plan.as_of, "D")
    frames, customers, revenue = _customers(rng, plan, start, size)
    frames.update(_companies(rng, plan, customers, revenue))
    applications, stages = _applications(rng, plan, customers, revenue)
    frames["applications"] = applications
    frames.update(stages)
    risk = client_risk(rng, customers, frames["statements"])
    facilities, repayments = _facilities(rng, plan, applications, as_of, risk)
    frames["facilities"] = facilities
    frames.update(repayments)
    frames["applications"], frames["votes"] = _decisions(
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
    # A city by tier weight, mostly in the manager's region: up to six draws, the first in
    # the region (or 15% luck) is kept, else the last.
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
    cities = [CITIES[i] for i in city.tolist()]

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
    # Companies: name, founding, credit code (county of the city), capital, staff.
    words = [names.INDUSTRY_WORDS[industry_codes[i]][0] for i in range(len(industry_codes))]
    word = _uniform_from(rng, words, industry)
    trade = _pick(rng, names.TRADE_WORDS, n)
    forms, form_w = zip(*names.COMPANY_FORMS, strict=True)
    form = _pick(rng, forms, n, p=np.array(form_w) / sum(form_w))
    founded = np.datetime64(plan.as_of, "D") - (rng.gamma(2.2, 1600, n).astype(np.int64) + 200)
    counties = counties_by_year()
    city_county = _uniform_from(
        rng, [counties[c.area_code, 1980] or (f"{c.area_code}02",) for c in cities], np.arange(n)
    )
    serials = (start + np.arange(n) + 1) * 7919 % 999_999_937
    codes = uscc_codes(np.array(city_county), serials)
    capital = _money(revenue * rng.uniform(0.05, 0.4, n))
    staff = np.maximum(3, revenue / rng.uniform(4e5, 1.5e6, n)).astype(np.int64)
    # Persons: name, birthday, a county of the city that existed in the birth year.
    years = rng.integers(FIRST_BIRTH_YEAR, LAST_BIRTH_YEAR + 1, n)
    months = rng.integers(1, 13, n)
    days = rng.integers(1, 29, n)
    birthday = np.array(
        [f"{y}-{m:02d}-{d:02d}" for y, m, d in zip(years, months, days, strict=True)],
        dtype="datetime64[D]",
    )
    birth_pools = [
        counties[c.area_code, int(y)] or FALLBACK_COUNTIES
        for c, y in zip(cities, years.tolist(), strict=True)
    ]
    birth_county = _uniform_from(rng, birth_pools, np.arange(n))
    person_names = _names(rng, n)
    phones = _mobiles(rng, n)

    big = revenue >= 1e8
    u = rng.random(n)
    needs = np.where(
        u < np.where(big, 0.2, 0.55),
        "basic",
        np.where(u < np.where(big, 0.7, 0.9), "comprehensive", "premium"),
    )
    company_names = [
        f"{c.name}{t}{w}{f}" for c, t, w, f in zip(cities, trade, word, form, strict=True)
    ]
    street = rng.integers(1, 999, n)
    has_email = rng.random(n) < 0.6
    tagged = rng.random(n) < 0.25
    tag = rng.integers(0, len(plan.tags), n)
    owner = np.array(plan.managers)[managers]
    frame = pl.DataFrame(
        {
            "id": np.arange(n),
            "kind": np.where(company, CustomerKind.COMPANY.value, CustomerKind.PERSON.value),
            "name": np.where(company, company_names, person_names),
            "credit_code": codes,
            "id_number": pl.Series([None] * n, dtype=pl.String),
            "_county": birth_county,
            "_birthday": years * 10_000 + months * 100 + days,
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
            "registered_capital": capital,
            "annual_revenue": _money(revenue),
            "employee_count": staff,
            "client_type": client_type,
            "needs_level": needs,
            "risk_appetite": _pick(rng, RiskAppetite.values, n, p=[0.3, 0.5, 0.2]),
            "source_channel": _pick(rng, SourceChannel.values, n),
            "owner_id": owner,
            "team_id": np.array(plan.manager_teams)[managers],
            "birthday": _dates(birthday),
            "founded_on": _dates(founded),
        }
    )
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


def _companies(rng, plan: Plan, customers: pl.DataFrame, revenue: np.ndarray):
    """Contacts and financial statements of the companies."""
    company = np.flatnonzero(customers["kind"].to_numpy() == "company")
    # Contacts: 1–3, the first the key one.
    parent, position = _spread(rng.integers(1, 4, len(company)))
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
            "name": _names(rng, n),
            "title": np.array(names.CONTACT_TITLES, dtype=object)[position],
            "phone": _mobiles(rng, n),
            "birthday": _dates(born),
            "preferred_channel": _pick(rng, ("phone", "wechat", "visit", "email"), n),
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
    firm, k = _spread(years)
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
            "period_end": _dates(period_end),
            "revenue": _money(rev),
            "cost": _money(cost),
            "net_profit": np.round(net_profit, 2),
            "total_assets": _money(assets),
            "total_liabilities": _money(liabilities),
            "current_assets": _money(current_assets),
            "current_liabilities": _money(current_liabilities),
            "inventory": _money(inventory),
            "receivables": _money(receivables),
            "operating_cash_flow": np.round(net_profit * rng.uniform(0.85, 1.2, n), 2),
            "interest_expense": _money(interest),
            "audited": rng.random(n) < 0.6,
        }
    )
    return {"contacts": contacts, "statements": statements}


def _applications(rng, plan: Plan, customers: pl.DataFrame, revenue: np.ndarray):
    """Applications (0–3 a client), their stage history and documents checklists."""
    n_customers = customers.height
    person = customers["kind"].to_numpy() == "person"
    customer, _k = _spread(rng.choice(4, n_customers, p=[0.12, 0.55, 0.23, 0.10]))
    n = len(customer)
    products = plan.products
    product = np.where(person[customer], len(products) - 1, rng.integers(0, len(products) - 1, n))
    spec = {
        attr: np.array([getattr(p, attr) for p in products])[product]
        for attr in ("min_amount", "max_amount", "min_tenor", "max_tenor", "min_rate", "max_rate")
    }
    stages, shares = zip(*STAGE_SHARES.items(), strict=True)
    target = rng.choice(len(stages), n, p=np.array(shares))
    target_stage = np.array([s.value for s in stages])[target]
    amount = np.clip(
        revenue[customer] * rng.uniform(0.05, 0.3, n), spec["min_amount"], spec["max_amount"]
    )
    amount = np.round(amount / 10_000) * 10_000
    tenor = rng.integers(spec["min_tenor"], spec["max_tenor"] + 1)
    disbursed = target_stage == Stage.DISBURSED
    closed = disbursed | (target_stage == Stage.REJECTED) | (target_stage == Stage.WITHDRAWN)
    running = disbursed & (rng.random(n) < 0.75)
    age = np.where(
        running,
        rng.integers(20, np.maximum(40, tenor * 30)),
        np.where(closed, rng.integers(20, 1000, n), rng.integers(2, 90, n)),
    )
    age = _renewal_chains(rng, customer, disbursed, tenor, age)
    as_of = np.datetime64(plan.as_of, "D")
    created = office_time(rng, as_of - age)
    industry = customers["industry"].to_numpy()[customer]
    purpose = [names.INDUSTRY_WORDS[i][1] for i in industry]
    # Stage history along the path to the target stage, a few days per step.
    path = np.where(
        target_stage == Stage.REJECTED,
        REJECTED_PATH,
        np.where(
            target_stage == Stage.WITHDRAWN,
            WITHDRAWN_PATHS + rng.integers(0, 3, n),
            np.array([PIPELINE.index(s) if s in PIPELINE else 0 for s in target_stage]),
        ),
    )
    lengths = np.array([len(p) for p in PATHS])[path]
    app, step = _spread(lengths)
    m = len(app)
    table = np.full((len(PATHS), len(PIPELINE)), "", dtype=object)
    for i, p in enumerate(PATHS):
        table[i, : len(p)] = [s.value for s in p]
    to_stage = table[path[app], step]
    from_stage = np.where(step > 0, table[path[app], np.maximum(step - 1, 0)], "")
    delay = np.where(
        step > 0, rng.integers(1, 9, m) * 86_400 + rng.integers(0, 8, m) * 3_600, 0
    ).astype("timedelta64[s]")
    offsets = _cumsum_within(delay, app).astype(np.int64)
    last = np.cumsum(lengths) - 1
    # A path that would run past the book's day is walked faster: every step before the
    # as-of day began (nothing in the book happens after today).
    cutoff = as_of.astype("datetime64[s]") - UTC_OFFSET
    room = (cutoff - created).astype(np.int64)
    scale = np.minimum(1.0, room / np.maximum(offsets[last], 1))
    changed_at = created[app] + (offsets * scale[app]).astype("timedelta64[s]")
    finished = changed_at[last]
    late = (finished + UTC_OFFSET).astype("datetime64[D]") > as_of
    stage_changed_at = np.where(late, office_time(rng, np.full(n, as_of)), finished)
    owner = customers["owner_id"].to_numpy()
    decided = (to_stage == Stage.APPROVED) | (to_stage == Stage.REJECTED)
    changes = pl.DataFrame(
        {
            "application_id": app,
            "from_stage": from_stage,
            "to_stage": to_stage,
            "changed_at": _times(changed_at),
            "changed_by_id": np.where(decided, plan.risk, owner[customer[app]]),
            "note": np.where(
                to_stage == Stage.APPROVED,
                APPROVAL_NOTE,
                np.where(to_stage == Stage.REJECTED, REJECTION_NOTE, ""),
            ),
        }
    )
    # Documents: accepted once due diligence began, partly received while collecting them.
    docs = [p.documents for p in products]
    app_of_doc, doc = _spread(np.array([len(docs[p]) for p in product]))
    kind = [docs[p][i] for p, i in zip(product[app_of_doc], doc, strict=True)]
    reached = np.array([Stage.DUE_DILIGENCE in p for p in PATHS])[path[app_of_doc]]
    collecting = np.array([Stage.DOCUMENTS in p for p in PATHS])[path[app_of_doc]]
    status = np.where(
        reached,
        "accepted",
        np.where(collecting & (rng.random(len(kind)) < 0.6), "received", "missing"),
    )
    received = created[app_of_doc] + np.timedelta64(3, "D")
    documents = pl.DataFrame(
        {
            "application_id": app_of_doc,
            "kind": kind,
            "status": status,
            "received_at": _times(received),
        }
    ).with_columns(
        pl.when(pl.col("status") != "missing").then(pl.col("received_at")).alias("received_at")
    )
    applications = pl.DataFrame(
        {
            "id": np.arange(n),
            "customer_id": customer,
            "product_id": np.array([p.id for p in products])[product],
            "amount": amount,
            "tenor_months": tenor,
            "purpose": purpose,
            "stage": target_stage,
            "created_at": _times(created),
            "stage_changed_at": _times(stage_changed_at),
            "_start": _dates((finished + UTC_OFFSET).astype("datetime64[D]")),
            "_min_rate": spec["min_rate"],
            "_max_rate": spec["max_rate"],
        }
    )
    return applications, {"stage_changes": changes, "documents": documents}


#: Above this amount the demo policy's risk officer needs the executive too.
RISK_OFFICER_AUTHORITY = 10_000_000


def _decisions(
    plan: Plan, applications: pl.DataFrame, facilities: pl.DataFrame, changes: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The terms of each application (the booked ones' rate and method, proposed ones'
    method) and the approval votes behind each decision, as the approval service records
    them: the risk officer, and the executive above the officer's authority."""
    booked = facilities.select(
        id=pl.col("application_id"), rate=pl.col("rate"), _approved=pl.col("approved_limit")
    )
    owner = applications.join(
        changes.filter(pl.col("to_stage") == Stage.CREDIT_REVIEW).select(
            id=pl.col("application_id"),
            submitted_by_id=pl.col("changed_by_id"),
            submitted_at=pl.col("changed_at"),
        ),
        on="id",
        how="left",
    ).select("id", "submitted_by_id", "submitted_at")
    decided = changes.filter(pl.col("to_stage").is_in([Stage.APPROVED, Stage.REJECTED])).select(
        application_id=pl.col("application_id"),
        decided_at=pl.col("changed_at"),
        vote=pl.when(pl.col("to_stage") == Stage.APPROVED)
        .then(pl.lit("approve"))
        .otherwise(pl.lit("reject")),
        note=pl.col("note"),
    )
    applications = (
        applications.join(booked, on="id", how="left")
        .join(owner, on="id", how="left")
        .join(decided.select(id="application_id", decided_at="decided_at"), on="id", how="left")
        .with_columns(
            amount=pl.coalesce("_approved", "amount"),
            repayment_method=pl.lit("equal_principal"),
            frequency=pl.lit("monthly"),
        )
    )
    amounts = applications.select(application_id="id", amount="amount")
    votes = decided.join(amounts, on="application_id").with_columns(
        user_id=pl.lit(plan.risk), role=pl.lit("risk"), created_at=pl.col("decided_at")
    )
    if plan.executive is not None:
        committee = votes.filter(
            (pl.col("vote") == "approve") & (pl.col("amount") > RISK_OFFICER_AUTHORITY)
        ).with_columns(user_id=pl.lit(plan.executive), role=pl.lit("exec"))
        votes = pl.concat([votes, committee])
    votes = votes.select(
        "application_id", "user_id", "role", "vote", "note", "created_at", policy_version=pl.lit(1)
    )
    return applications, votes


def _renewal_chains(rng, customer, disbursed, tenor, age) -> np.ndarray:
    """Ages (days before the book's date) with each client's disbursed applications in a
    chain: every earlier facility matures within about 40 days of the next one's start (the
    next one renews it). A client with one facility renews nothing: when it matures, it
    leaves, unless a later application comes."""
    age = age.copy()
    rows = np.flatnonzero(disbursed)
    rows = rows[np.lexsort((age[rows], customer[rows]))]  # per client, newest first
    for newer, older in pairwise(rows):
        if customer[newer] == customer[older]:
            age[older] = age[newer] + round(tenor[older] * 30.4) + rng.integers(-40, 41)
    return age


def _cumsum_within(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Running sum of ``values`` restarting at each new ``group`` (groups contiguous)."""
    total = np.cumsum(values.astype(np.int64))
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    before = np.repeat(total[starts] - values.astype(np.int64)[starts], np.diff(np.r_[starts,
                       len(group)]))  # fmt: skip
    return (total - before).astype("timedelta64[s]")


#: Industry risk (log-odds of default): building, property and hospitality are cyclical;
#: technology, utilities and the public sector steadier. Others: 0.
INDUSTRY_RISK = {"E": 0.6, "K": 0.8, "H": 0.5, "F": 0.2, "C": 0.1, "A": 0.3,
                 "I": -0.3, "D": -0.4, "M": -0.3, "P": -0.5, "Q": -0.4}  # fmt: skip
#: Log-odds of a facility defaulting for a client of no particular risk.
BASE_DEFAULT_LOGIT = -2.2


def client_risk(rng, customers: pl.DataFrame, statements: pl.DataFrame) -> np.ndarray:
    """Each client's log-odds of default: what a lender expects to drive it, plus noise.

    Leverage (debt to assets), interest cover and the cash-flow trend from the client's own
    statements (their average over the years on file: a firm's habits), the industry, and an
    unobserved part (N(0, 0.4): no scorecard sees everything). A person (no statements) is
    the base plus industry and noise. Tenure and the payment history act on each facility
    (``_facilities``).
    """
    n = customers.height
    firms = statements.with_columns(
        leverage=pl.col("total_liabilities") / pl.col("total_assets"),
        cover=(pl.col("net_profit") / 0.75 + pl.col("interest_expense"))
        / pl.col("interest_expense"),
    ).group_by("customer_id").agg(
        leverage=pl.col("leverage").mean(),
        cover=pl.col("cover").mean(),
        # The cash-flow trend: operating cash flow of the last year against the first.
        trend=(pl.col("operating_cash_flow").sort_by("period_end").last()
               - pl.col("operating_cash_flow").sort_by("period_end").first())
        / pl.col("revenue").mean(),
    )  # fmt: skip
    joined = pl.DataFrame({"customer_id": np.arange(n)}).join(firms, on="customer_id", how="left")
    leverage = joined["leverage"].fill_null(0.55).to_numpy()
    cover = np.log(np.clip(joined["cover"].fill_null(3.0).to_numpy(), 0.3, 30))
    trend = np.clip(joined["trend"].fill_null(0.0).to_numpy(), -0.3, 0.3)
    industry = np.array([INDUSTRY_RISK.get(i, 0.0) for i in customers["industry"].to_list()])
    return (
        BASE_DEFAULT_LOGIT
        + 8.0 * (leverage - 0.55)
        - 1.0 * (cover - np.log(3.0))
        - 5.0 * trend
        + industry
        + rng.normal(0, 0.4, n)
    )


def _facilities(
    rng, plan: Plan, applications: pl.DataFrame, as_of: np.datetime64, risk: np.ndarray
):
    """A facility per disbursed application, its schedule, payments and arrears.

    Whether a facility is repaid well, late or not at all follows its client's ``risk``
    (:func:`client_risk`), lower the longer the client has borrowed from us; late payers are
    the riskier clients, and a facility pays late for a few months before it stops paying.
    """
    frame = applications.filter(pl.col("stage") == Stage.DISBURSED)
    n = frame.height
    rate = np.round(rng.uniform(frame["_min_rate"].to_numpy(), frame["_max_rate"].to_numpy()), 2)
    # Approved at the amount asked or less; the application records what was approved (the
    # booking service books an application's amount whole: ``_decisions``).
    limit = frame["amount"].to_numpy() * rng.choice([1.0, 0.8, 0.6], n, p=[0.6, 0.3, 0.1])
    limit = _money(limit)
    start = np.minimum(frame["_start"].to_numpy().astype("datetime64[D]"), as_of)
    start = _add_months(start, np.zeros(n, dtype=np.int64))  # the day capped at 28
    months = frame["tenor_months"].to_numpy()
    maturity = _add_months(start, months)
    guarantee = _pick(rng, GuaranteeType.values, n, p=[0.3, 0.25, 0.25, 0.1, 0.1])
    secured = (guarantee == "mortgage") | (guarantee == "pledge")
    collateral = np.where(secured, _money(limit * rng.uniform(0.8, 1.6, n)), 0.0)
    client = frame["customer_id"].to_numpy()
    # Tenure: years since the client's first facility, at this one's start.
    earliest = pl.DataFrame({"c": client, "s": start}).group_by("c").agg(pl.col("s").min())
    first_start = dict(zip(earliest["c"].to_list(), earliest["s"].to_numpy(), strict=True))
    tenure = (start - np.array([first_start[c] for c in client], dtype=start.dtype)).astype(
        np.int64
    ) / 365.0
    logit = risk[client] - 0.5 * np.minimum(tenure, 4)
    p_default = 1 / (1 + np.exp(-logit))
    p_late = (1 - p_default) * np.minimum(0.7, 1 / (1 + np.exp(-(logit + 1.0))))
    u = rng.random(n)
    behaviour = np.where(u < p_default, 2, np.where(u < p_default + p_late, 1, 0))
    late, default = behaviour == 1, behaviour == 2
    # Loans season: a facility that defaults mostly does so in its first year or so.
    stops = np.minimum(2 + rng.exponential(7, n).astype(np.int64), np.maximum(2, months - 1))
    stop_after = np.where(default, stops, np.iinfo(np.int64).max)

    # Schedule: equal principal, interest on what is still outstanding, as the booking
    # service builds it (``financing.schedule``: 30/360, the last instalment clears the cents).
    facility, k = _spread(months)
    number = k + 1
    m = len(facility)
    due = _add_months(start[facility], number)
    each = _half_up(limit / months)[facility]
    last = number == months[facility]
    principal_due = np.where(last, np.round(limit[facility] - k * each, 2), each)
    interest_due = _half_up((limit[facility] - k * each) * rate[facility] / 1200)
    owed = np.round(principal_due + interest_due, 2)
    first, second = rng.random(m), rng.random(m)
    # A defaulting facility pays late in the months before it stops paying.
    slipping = default[facility] & (number > stop_after[facility] - 4) & (first < 0.6)
    delay = np.where(
        (late[facility] & (first < 0.35)) | slipping,
        rng.integers(3, 50, m),
        np.where(second < 0.03, rng.integers(1, 6, m), 0),
    )
    paid_on = due + delay - rng.integers(0, 3, m)
    paid = (due <= as_of) & (number <= stop_after[facility]) & (paid_on <= as_of)
    unpaid_due = np.where(~paid & (due < as_of), due, np.datetime64("NaT"))
    oldest = _group_min(unpaid_due, facility, n)
    dpd = np.where(np.isnat(oldest), 0, (as_of - oldest).astype(np.int64))
    paid_total = np.bincount(facility, weights=np.where(paid, principal_due, 0.0), minlength=n)
    drawn = _money(limit - paid_total)
    closed = (maturity < as_of) & (dpd == 0)
    facilities = pl.DataFrame(
        {
            "id": np.arange(n),
            "application_id": frame["id"].to_numpy(),
            "customer_id": frame["customer_id"].to_numpy(),
            "product_id": frame["product_id"].to_numpy(),
            "approved_limit": limit,
            "drawn_amount": np.where(closed, 0.0, drawn),
            "rate": rate,
            "tenor_months": months,
            "start_date": _dates(start),
            "maturity_date": _dates(maturity),
            "guarantee_type": guarantee,
            "collateral_value": collateral,
            "status": np.where(closed, "closed", "active"),
            "repayment_method": "equal_principal",
            "frequency": "monthly",
            "day_count": "30/360",
            "penalty_rate": np.round(rate * 1.5, 3),
            "days_past_due": dpd,
            "loan_class": classify_many(dpd).astype(str),
            "_behaviour": np.array(BEHAVIOURS)[behaviour],
        }
    )
    installments = pl.DataFrame(
        {
            "id": np.arange(m),
            "facility_id": facility,
            "_customer": frame["customer_id"].to_numpy()[facility],
            "number": number,
            "due_date": _dates(due),
            "principal_due": principal_due,
            "interest_due": interest_due,
            "amount_paid": np.where(paid, owed, 0.0),
            "principal_paid": np.where(paid, principal_due, 0.0),
            "interest_paid": np.where(paid, interest_due, 0.0),
            "paid_off_on": _dates(paid_on),
        }
    ).with_columns(pl.when(pl.Series(paid)).then(pl.col("paid_off_on")).alias("paid_off_on"))
    rows = np.flatnonzero(paid)
    payments = pl.DataFrame(
        {
            "facility_id": facility[rows],
            "_number": number[rows],
            "paid_on": _dates(paid_on[rows]),
            "amount": owed[rows],
            "recorded_at": _times(office_time(rng, paid_on[rows])),
        }
    )
    return facilities, {"installments": installments, "payments": payments}


def _group_min(values: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Earliest non-NaT date per group 0…n−1 (NaT when none)."""
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    present = ~np.isnat(values)
    order = np.lexsort((values[present], group[present]))
    groups, values = group[present][order], values[present][order]
    firsts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]) if len(groups) else []
    out[groups[firsts]] = values[firsts]
    return out


def _interactions(rng, plan: Plan, customers: pl.DataFrame, revenue, as_of: np.datetime64):
    """Calls, visits, messages: about five a client over two years, ten for big ones; one
    client in eight dormant (at most one contact, long ago)."""
    n = customers.height
    big = _money(revenue) > 1e8
    dormant = rng.random(n) < 0.12
    counts = np.where(dormant, rng.integers(0, 2, n), rng.poisson(np.where(big, 10, 5)))
    customer, _k = _spread(counts)
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
            "occurred_at": _times(office_time(rng, as_of - back)),
            "subject": _uniform_from(rng, subjects, channel),
            "summary": [f"与{c}沟通经营与资金需求情况。" for c in client],
            "outcome": _pick(rng, OUTCOMES, m),
            "next_step": _pick(rng, names.NEXT_STEPS, m),
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
    created = (applications["created_at"].to_numpy() + UTC_OFFSET).astype("datetime64[D]")
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
    facility, _k = _spread(counts)
    day = maturity[facility] - rng.integers(20, 240, len(facility)).astype("timedelta64[D]")
    keep = day < as_of
    facility, day = facility[keep], day[keep]
    n = len(facility)
    note = rng.integers(0, len(DEPARTURE_NOTES), n)
    return pl.DataFrame(
        {
            "customer_id": client[facility],
            "channel": _pick(rng, ("phone", "visit", "wechat"), n),
            "direction": np.full(n, "out"),
            "occurred_at": _times(office_time(rng, day)),
            "subject": np.full(n, "续贷意向沟通"),
            "summary": [DEPARTURE_NOTES[i][0] for i in note.tolist()],
            "outcome": [DEPARTURE_NOTES[i][1] for i in note.tolist()],
            "next_step": np.full(n, "下月再次回访"),
            "created_by_id": customers["owner_id"].to_numpy()[client[facility]],
        }
    )
