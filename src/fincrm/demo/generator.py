"""A realistic, deterministic Chinese lending book for demos, tests and benchmarks.

Same seed and as-of date, same book: every random choice comes from one seeded NumPy
generator, consumed in a fixed order. Rows are built as unsaved model instances chunk by chunk
and written with ``bulk_create`` (no per-row ``save()``, flat memory at any size).
bulk_create writes no django-simple-history rows: the demo book starts with no audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import transaction
from stdnum.cn import ric, uscc

from fincrm.accounts.choices import Role
from fincrm.accounts.models import Team, User
from fincrm.analytics.delinquency import classify
from fincrm.customers.choices import (
    ClientType,
    CustomerKind,
    NeedsLevel,
    RiskAppetite,
    SourceChannel,
)
from fincrm.customers.geo import CITIES
from fincrm.customers.models import Contact, Customer, FinancialStatement, Tag
from fincrm.engagement.models import Interaction
from fincrm.financing.choices import (
    STAGE_TRANSITIONS,
    DocumentStatus,
    FacilityStatus,
    GuaranteeType,
    ProductType,
    Stage,
)
from fincrm.financing.models import (
    Application,
    ApplicationDocument,
    ApplicationStageChange,
    Facility,
    Installment,
    Payment,
    Product,
)

from . import names

TZ = ZoneInfo("Asia/Shanghai")
CHUNK = 2_000
CENT = Decimal("0.01")

# --- organisation ----------------------------------------------------------------------

TEAMS = (
    ("总部", None),
    ("华东区", "总部"),
    ("华南区", "总部"),
    ("华北区", "总部"),
    ("上海一部", "华东区"),
    ("苏州二部", "华东区"),
    ("深圳一部", "华南区"),
    ("广州二部", "华南区"),
    ("北京一部", "华北区"),
)
#: (username, role, team, display name)
USERS = (
    ("admin", Role.ADMIN, "总部", "系统管理员"),
    ("exec", Role.EXECUTIVE, "总部", "赵总"),
    ("risk", Role.RISK_OFFICER, "总部", "风控 孙敏"),
    ("agent", Role.SERVICE_AGENT, "总部", "客服 林晓"),
    ("lead_east", Role.TEAM_LEAD, "华东区", "华东 周主管"),
    ("lead_south", Role.TEAM_LEAD, "华南区", "华南 吴主管"),
    ("lead_north", Role.TEAM_LEAD, "华北区", "华北 郑主管"),
    ("manager1", Role.ACCOUNT_MANAGER, "上海一部", "王磊"),
    ("manager2", Role.ACCOUNT_MANAGER, "上海一部", "李静"),
    ("manager3", Role.ACCOUNT_MANAGER, "苏州二部", "张伟"),
    ("manager4", Role.ACCOUNT_MANAGER, "深圳一部", "陈思远"),
    ("manager5", Role.ACCOUNT_MANAGER, "深圳一部", "刘洋"),
    ("manager6", Role.ACCOUNT_MANAGER, "广州二部", "黄丽"),
    ("manager7", Role.ACCOUNT_MANAGER, "北京一部", "杨帆"),
    ("manager8", Role.ACCOUNT_MANAGER, "北京一部", "赵敏"),
)
#: Managers' regions: clients of a region's managers are mostly in its provinces.
REGION_PROVINCES = {
    "华东区": {"上海", "江苏", "浙江", "安徽", "山东", "福建", "江西"},
    "华南区": {"广东", "广西", "海南", "湖南", "湖北", "云南", "贵州", "四川", "重庆"},
    "华北区": {"北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "河南",
              "陕西", "甘肃", "宁夏", "青海", "新疆"},
}  # fmt: skip


#: County codes valid for every birthday the demo uses (Beijing Chaoyang, Shanghai Huangpu...).
FALLBACK_COUNTIES = ("110105", "310101", "310104")


def demo_password(username: str) -> str:
    return f"demo-{username}-2026"


# --- products --------------------------------------------------------------------------

PRODUCTS = (
    # code, name, type, rate range %, tenor range months, amount range CNY, documents
    ("WC01", "流动资金贷款", ProductType.WORKING_CAPITAL, (3.8, 9.5), (6, 36),
     (500_000, 30_000_000), ["business_licence", "financial_statements", "bank_statements"]),
    ("EL01", "设备融资租赁", ProductType.EQUIPMENT_LEASING, (5.0, 11.0), (12, 60),
     (300_000, 50_000_000), ["business_licence", "financial_statements", "equipment_quote"]),
    ("FT01", "应收账款保理", ProductType.FACTORING, (4.5, 10.0), (3, 12),
     (200_000, 20_000_000), ["business_licence", "trade_contracts", "tax_records"]),
    ("SC01", "供应链订单融资", ProductType.SUPPLY_CHAIN, (4.2, 9.0), (3, 12),
     (200_000, 30_000_000), ["business_licence", "trade_contracts", "bank_statements"]),
    ("PF01", "项目融资", ProductType.PROJECT, (4.8, 8.5), (24, 120),
     (10_000_000, 500_000_000), ["business_licence", "financial_statements", "project_plan",
                                 "collateral"]),
    ("BD01", "商业汇票贴现", ProductType.BILL_DISCOUNTING, (1.8, 4.0), (1, 6),
     (100_000, 50_000_000), ["business_licence", "trade_contracts"]),
    ("PL01", "个人经营贷", ProductType.WORKING_CAPITAL, (4.5, 12.0), (6, 36),
     (100_000, 5_000_000), ["id_card", "bank_statements"]),
)  # fmt: skip

#: Target stage of applications (shares); disbursed ones become facilities.
STAGE_SHARES = {
    Stage.LEAD: 0.07, Stage.SUBMITTED: 0.05, Stage.DOCUMENTS: 0.06, Stage.DUE_DILIGENCE: 0.05,
    Stage.CREDIT_REVIEW: 0.05, Stage.APPROVED: 0.03, Stage.CONTRACT: 0.03, Stage.REJECTED: 0.08,
    Stage.WITHDRAWN: 0.04, Stage.DISBURSED: 0.54,
}  # fmt: skip
#: Repayment behaviour of facilities.
BEHAVIOUR_SHARES = {"good": 0.84, "late": 0.12, "default": 0.04}


@cache
def _valid_counties() -> dict[str, tuple[str, ...]]:
    """County codes that python-stdnum accepts, per city area code (4 digits)."""
    counties: dict[str, tuple[str, ...]] = {}
    for city in CITIES:
        found = []
        for suffix in range(1, 40):
            county = f"{city.area_code}{suffix:02d}"
            body = f"{county}19800101001"
            try:  # stdnum raises KeyError (not a validation error) for some unknown codes
                valid = ric.is_valid(body + ric.calc_check_digit(body + "0"))
            except KeyError:
                valid = False
            if valid:
                found.append(county)
        counties[city.area_code] = tuple(found)
    return counties


def make_uscc(serial: int, county: str) -> str:
    body = f"91{county}{serial:09d}"
    return body + uscc.calc_check_digit(body)


def make_ric(county: str, birthday: date, sequence: int) -> str:
    body = f"{county}{birthday:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def money(value: float) -> Decimal:
    return Decimal(str(round(max(value, 0.0), 2))).quantize(CENT)


def at(day: date, rng: np.random.Generator) -> datetime:
    return datetime.combine(day, time(9 + int(rng.integers(0, 9)), int(rng.integers(0, 60))), TZ)


@dataclass
class Org:
    teams: dict[str, Team]
    users: dict[str, User]
    managers: list[User]
    products: list[Product]
    tags: list[Tag]
    risk: User


@dataclass
class Chunk:
    customers: list[Customer] = field(default_factory=list)
    # Children are built once customers have primary keys, by a closure per customer.
    builders: list[Callable[[Customer], None]] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    statements: list[FinancialStatement] = field(default_factory=list)
    applications: list[Application] = field(default_factory=list)
    tag_links: list[tuple[int, Customer]] = field(default_factory=list)


@dataclass
class Stats:
    customers: int = 0
    contacts: int = 0
    statements: int = 0
    applications: dict[str, int] = field(default_factory=dict)
    facilities: int = 0
    installments: int = 0
    payments: int = 0
    interactions: int = 0
    late_payers: int = 0
    defaulters: int = 0


def build_org() -> Org:
    """Teams, one user per role (several managers), products and tags."""
    teams: dict[str, Team] = {}
    for name, parent in TEAMS:
        teams[name] = Team.objects.create(name=name, parent=teams.get(parent))
    users = {}
    for username, role, team, display in USERS:
        user = User(
            username=username,
            role=role,
            team=teams[team],
            first_name=display,
            email=f"{username}@demo.fincrm.cn",
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
            password=make_password(demo_password(username)),
        )
        user.save()
        users[username] = user
    products = [
        Product.objects.create(
            code=code,
            name=name,
            product_type=kind,
            min_rate=Decimal(str(rates[0])),
            max_rate=Decimal(str(rates[1])),
            min_tenor_months=tenors[0],
            max_tenor_months=tenors[1],
            min_amount=Decimal(amounts[0]),
            max_amount=Decimal(amounts[1]),
            required_documents=docs,
        )
        for code, name, kind, rates, tenors, amounts, docs in PRODUCTS
    ]
    tags = [Tag.objects.get_or_create(name=name)[0] for name in names.TAGS]
    managers = [u for u in users.values() if u.role == Role.ACCOUNT_MANAGER]
    return Org(teams, users, managers, products, tags, users["risk"])


class BookBuilder:
    """Builds the book chunk by chunk from one seeded generator."""

    def __init__(self, *, seed: int, as_of: date, org: Org):
        self.rng = np.random.default_rng(seed)
        self.as_of = as_of
        self.org = org
        self.stats = Stats()
        self.counties = _valid_counties()
        surnames, weights = zip(*names.SURNAMES, strict=True)
        self.surnames = surnames
        self.surname_p = np.array(weights) / sum(weights)
        codes, weights = zip(*names.INDUSTRY_WEIGHTS.items(), strict=True)
        self.industries = codes
        self.industry_p = np.array(weights, dtype=float) / sum(weights)
        tier_weight = {"1": 4.0, "new1": 3.0, "2": 1.6, "3": 0.8, "4": 0.5}
        self.city_p = np.array([tier_weight[c.tier] for c in CITIES])
        self.city_p /= self.city_p.sum()
        self.region_of = {}
        for manager in org.managers:
            region = manager.team.parent.name if manager.team.parent else manager.team.name
            self.region_of[manager.pk] = region
        self.contract_serial = 0
        self.uscc_serial = 0
        self.ric_sequences: dict[tuple[str, date], int] = {}

    # --- small helpers ---------------------------------------------------------------

    def choice(self, options, p=None):
        return options[int(self.rng.choice(len(options), p=p))]

    def person_name(self) -> str:
        surname = self.surnames[int(self.rng.choice(len(self.surnames), p=self.surname_p))]
        length = 1 if self.rng.random() < 0.35 else 2
        given = "".join(
            names.GIVEN_CHARS[int(i)] for i in self.rng.integers(0, len(names.GIVEN_CHARS), length)
        )
        return surname + given

    def mobile(self) -> str:
        prefix = self.choice(("13", "15", "17", "18", "19"))
        return prefix + "".join(str(int(d)) for d in self.rng.integers(0, 10, 9))

    def day_between(self, start: date, end: date) -> date:
        span = max((end - start).days, 0)
        return start + timedelta(days=int(self.rng.integers(0, span + 1)))

    # --- customers -------------------------------------------------------------------

    def chunk(self, size: int, offset: int) -> Chunk:
        chunk = Chunk()
        for i in range(size):
            self.customer(chunk, offset + i)
        return chunk

    def _city(self, manager: User):
        region = REGION_PROVINCES.get(self.region_of[manager.pk], set())
        for _attempt in range(6):
            city = CITIES[int(self.rng.choice(len(CITIES), p=self.city_p))]
            if city.province in region or self.rng.random() < 0.15:
                return city
        return city

    def customer(self, chunk: Chunk, index: int) -> None:
        rng, as_of = self.rng, self.as_of
        manager = self.org.managers[int(rng.integers(0, len(self.org.managers)))]
        city = self._city(manager)
        # The county of a person's ID must be one stdnum knows; a company's credit code just
        # carries the city's area code.
        county = self.choice(self.counties[city.area_code] or self.counties["1101"])
        region = county if county.startswith(city.area_code) else f"{city.area_code}02"
        is_company = rng.random() < 0.7
        if is_company:
            industry = self.industries[int(rng.choice(len(self.industries), p=self.industry_p))]
            client_type = self.choice(
                (ClientType.SME, ClientType.LARGE_ENTERPRISE, ClientType.INSTITUTION),
                p=[0.84, 0.13, 0.03],
            )
            scale = {"sme": 17.0, "large": 20.0, "institution": 18.5}[client_type]
            revenue = float(np.exp(rng.normal(scale, 0.9)))
            words, _purpose = names.INDUSTRY_WORDS[industry]
            form = self.choice(
                [f for f, _w in names.COMPANY_FORMS],
                p=np.array([w for _f, w in names.COMPANY_FORMS]) / 10,
            )
            name = f"{city.name}{self.choice(names.TRADE_WORDS)}{self.choice(words)}{form}"
            founded = as_of - timedelta(days=int(rng.gamma(2.2, 1600)) + 200)
            self.uscc_serial += 1
            customer = Customer(
                kind=CustomerKind.COMPANY,
                name=name,
                credit_code=make_uscc(self.uscc_serial * 7919 % 999_999_937, region),
                founded_on=founded,
                registered_capital=money(revenue * float(rng.uniform(0.05, 0.4))),
                employee_count=int(max(3, revenue / float(rng.uniform(4e5, 1.5e6)))),
            )
        else:
            industry = self.industries[int(rng.choice(len(self.industries), p=self.industry_p))]
            client_type = ClientType.HIGH_NET_WORTH if rng.random() < 0.25 else ClientType.SME_OWNER
            revenue = float(np.exp(rng.normal(15.2 if client_type == "sme_owner" else 16.5, 0.8)))
            birthday = date(int(rng.integers(1960, 1998)), int(rng.integers(1, 13)),
                            int(rng.integers(1, 29)))  # fmt: skip
            customer = Customer(
                kind=CustomerKind.PERSON,
                name=self.person_name(),
                id_number=self._unique_ric(county, birthday),
                birthday=birthday,
                phone=self.mobile(),
            )
        customer.industry = industry
        customer.province, customer.city, customer.city_tier = city.province, city.name, city.tier
        customer.client_type = client_type
        customer.annual_revenue = money(revenue)
        customer.needs_level = self.choice(
            (NeedsLevel.BASIC, NeedsLevel.COMPREHENSIVE, NeedsLevel.PREMIUM),
            p=[0.55, 0.35, 0.10] if revenue < 1e8 else [0.2, 0.5, 0.3],
        )
        customer.risk_appetite = self.choice(
            (RiskAppetite.CONSERVATIVE, RiskAppetite.STEADY, RiskAppetite.AGGRESSIVE),
            p=[0.3, 0.5, 0.2],
        )
        customer.source_channel = self.choice(SourceChannel.values)
        customer.owner, customer.team = manager, manager.team
        customer.email = f"c{index}@example.cn" if rng.random() < 0.6 else ""
        customer.address = f"{city.province}{city.name}某区某路{int(rng.integers(1, 999))}号"
        chunk.customers.append(customer)
        if rng.random() < 0.25:
            chunk.tag_links.append((int(rng.integers(0, len(self.org.tags))), customer))
        # Everything else needs the customer's primary key: build it after the insert.
        chunk.builders.append(self._children_builder(customer, revenue, chunk))

    def _unique_ric(self, county: str, birthday: date) -> str:
        """A valid ID number born in ``county`` (or a neighbour valid on that birthday).

        python-stdnum knows when each county code existed; sequence numbers 001–999 are
        handed out per county and birthday, so two persons never share a number.
        """
        city_counties = self.counties[county[:4]] or ()
        for candidate in (county, *city_counties, *FALLBACK_COUNTIES):
            key = (candidate, birthday)
            sequence = self.ric_sequences.get(key, 0) + 1
            if sequence > 999:
                continue
            number = make_ric(candidate, birthday, sequence)
            try:
                valid = ric.is_valid(number)
            except KeyError:
                valid = False
            if valid:
                self.ric_sequences[key] = sequence
                return number
        raise ValueError(f"no valid ID number left for persons born on {birthday}")

    # --- children --------------------------------------------------------------------

    def _children_builder(self, customer: Customer, revenue: float, chunk: Chunk):
        def build(saved: Customer) -> None:
            if saved.kind == CustomerKind.COMPANY:
                self.contacts(chunk, saved)
                self.statements(chunk, saved, revenue)
            self.applications(chunk, saved, revenue)

        return build

    def contacts(self, chunk: Chunk, customer: Customer) -> None:
        n = int(self.rng.integers(1, 4))
        for i in range(n):
            chunk.contacts.append(
                Contact(
                    customer=customer,
                    name=self.person_name(),
                    title=names.CONTACT_TITLES[i],
                    phone=self.mobile(),
                    email=f"contact{customer.pk}_{i}@example.cn",
                    wechat_id=f"wx_{customer.pk}_{i}" if self.rng.random() < 0.7 else "",
                    birthday=date(
                        int(self.rng.integers(1962, 1996)),
                        int(self.rng.integers(1, 13)),
                        int(self.rng.integers(1, 29)),
                    ),
                    preferred_channel=self.choice(("phone", "wechat", "visit", "email")),
                    is_key=i == 0,
                )
            )

    def statements(self, chunk: Chunk, customer: Customer, revenue: float) -> None:
        rng = self.rng
        years = int(rng.choice([0, 1, 2, 3], p=[0.08, 0.12, 0.2, 0.6]))
        trend = float(rng.normal(0.08, 0.12))
        deteriorating = rng.random() < 0.1
        last_year = self.as_of.year - 1 if self.as_of.month > 4 else self.as_of.year - 2
        for k in range(years):
            year = last_year - (years - 1 - k)
            growth = (1 + trend) ** (k - years + 1) * float(rng.normal(1, 0.04))
            rev = revenue * growth * (0.75 if deteriorating and k == years - 1 else 1)
            margin = float(rng.normal(0.18, 0.06)) - (0.12 if deteriorating else 0)
            cost = rev * (1 - margin)
            assets = rev * float(rng.uniform(0.6, 1.8))
            leverage = float(
                np.clip(rng.normal(0.55, 0.15) + (0.2 if deteriorating else 0), 0.1, 1.1)
            )
            liabilities = assets * leverage
            current_assets = assets * float(rng.uniform(0.35, 0.7))
            inventory = current_assets * float(rng.uniform(0.1, 0.35))
            receivables = current_assets * float(rng.uniform(0.2, 0.45))
            current_liabilities = liabilities * float(rng.uniform(0.4, 0.8))
            interest = liabilities * 0.6 * float(rng.uniform(0.035, 0.07))
            opex = rev * float(rng.uniform(0.06, 0.12))
            net_profit = (rev - cost - opex - interest) * 0.75
            chunk.statements.append(
                FinancialStatement(
                    customer=customer,
                    period_end=date(year, 12, 31),
                    revenue=money(rev),
                    cost=money(cost),
                    net_profit=Decimal(str(round(net_profit, 2))),
                    total_assets=money(assets),
                    total_liabilities=money(liabilities),
                    current_assets=money(current_assets),
                    current_liabilities=money(current_liabilities),
                    inventory=money(inventory),
                    receivables=money(receivables),
                    operating_cash_flow=Decimal(
                        str(round(net_profit * float(rng.uniform(0.85, 1.2)), 2))
                    ),
                    interest_expense=money(interest),
                    audited=rng.random() < 0.6,
                )
            )

    def applications(self, chunk: Chunk, customer: Customer, revenue: float) -> None:
        rng = self.rng
        n = int(rng.choice([0, 1, 2, 3], p=[0.12, 0.55, 0.23, 0.10]))
        stages, shares = zip(*STAGE_SHARES.items(), strict=True)
        person = customer.kind == CustomerKind.PERSON
        for _ in range(n):
            product = (
                self.org.products[-1]
                if person
                else self.org.products[int(rng.integers(0, len(self.org.products) - 1))]
            )
            target = stages[int(rng.choice(len(stages), p=np.array(shares)))]
            amount = float(
                np.clip(
                    revenue * float(rng.uniform(0.05, 0.3)), product.min_amount, product.max_amount
                )
            )
            amount = round(amount / 10_000) * 10_000 or float(product.min_amount)
            tenor = int(rng.integers(product.min_tenor_months, product.max_tenor_months + 1))
            closed = target in (Stage.DISBURSED, Stage.REJECTED, Stage.WITHDRAWN)
            if target == Stage.DISBURSED and rng.random() < 0.75:
                age = int(rng.integers(20, max(40, tenor * 30)))  # still running
            elif closed:
                age = int(rng.integers(20, 700))
            else:
                age = int(rng.integers(2, 90))
            created = at(self.as_of - timedelta(days=age), rng)
            _words, purpose = names.INDUSTRY_WORDS[customer.industry]
            application = Application(
                customer=customer,
                product=product,
                amount=money(amount),
                tenor_months=tenor,
                purpose=purpose,
                stage=target,
                created_at=created,
            )
            application._demo = (target, created)  # consumed by finish_applications
            chunk.applications.append(application)

    # --- after applications have primary keys ---------------------------------------------

    def _path(self, target: str) -> list[str]:
        if target == Stage.REJECTED:
            return [Stage.LEAD, Stage.SUBMITTED, Stage.DOCUMENTS, Stage.DUE_DILIGENCE,
                    Stage.CREDIT_REVIEW, Stage.REJECTED]  # fmt: skip
        if target == Stage.WITHDRAWN:
            stop = int(self.rng.integers(1, 4))
            return [*[Stage.LEAD, Stage.SUBMITTED, Stage.DOCUMENTS][:stop], Stage.WITHDRAWN]
        order = [Stage.LEAD, Stage.SUBMITTED, Stage.DOCUMENTS, Stage.DUE_DILIGENCE,
                 Stage.CREDIT_REVIEW, Stage.APPROVED, Stage.CONTRACT, Stage.DISBURSED]  # fmt: skip
        return order[: order.index(target) + 1]

    def finish_applications(self, applications: list[Application]):
        """Stage history, documents checklist and (for disbursed ones) facilities."""
        changes, documents, facilities, updates = [], [], [], []
        rng = self.rng
        for application in applications:
            target, created = application._demo
            path = self._path(target)
            when = created
            owner = application.customer.owner
            previous = ""
            for stage in path:
                if previous:
                    assert stage in STAGE_TRANSITIONS[previous], (previous, stage)
                    when = when + timedelta(
                        days=int(rng.integers(1, 9)), hours=int(rng.integers(0, 8))
                    )
                by = self.org.risk if stage in (Stage.APPROVED, Stage.REJECTED) else owner
                changes.append(
                    ApplicationStageChange(
                        application=application,
                        from_stage=previous,
                        to_stage=stage,
                        changed_at=when,
                        changed_by=by,
                        note="审批意见：同意"
                        if stage == Stage.APPROVED
                        else ("审批意见：负债率偏高，暂不受理" if stage == Stage.REJECTED else ""),
                    )
                )
                previous = stage
            if when.date() > self.as_of:
                when = at(self.as_of, rng)
            application.stage_changed_at = when
            updates.append(application)
            reached = path.index(Stage.DUE_DILIGENCE) if Stage.DUE_DILIGENCE in path else None
            for kind in application.product.required_documents:
                if reached is not None:
                    status = DocumentStatus.ACCEPTED
                elif Stage.DOCUMENTS in path:
                    status = (
                        DocumentStatus.RECEIVED if rng.random() < 0.6 else DocumentStatus.MISSING
                    )
                else:
                    status = DocumentStatus.MISSING
                documents.append(
                    ApplicationDocument(
                        application=application,
                        kind=kind,
                        status=status,
                        received_at=created + timedelta(days=3) if status != "missing" else None,
                    )
                )
            if target == Stage.DISBURSED:
                facilities.append(self.facility(application, when.date()))
        return changes, documents, facilities, updates

    def facility(self, application: Application, start: date) -> Facility:
        rng = self.rng
        product = application.product
        rate = float(rng.uniform(float(product.min_rate), float(product.max_rate)))
        self.contract_serial += 1
        limit = float(application.amount) * float(rng.choice([1.0, 0.8, 0.6], p=[0.6, 0.3, 0.1]))
        start = min(start, self.as_of)
        start = start.replace(day=min(start.day, 28))
        months = application.tenor_months
        maturity = _add_months(start, months)
        guarantee = self.choice(GuaranteeType.values, p=[0.3, 0.25, 0.25, 0.1, 0.1])
        facility = Facility(
            customer=application.customer,
            application=application,
            product=product,
            contract_number=f"HT{start:%Y%m}{self.contract_serial:07d}",
            approved_limit=money(limit),
            drawn_amount=money(limit),
            rate=Decimal(str(round(rate, 2))),
            tenor_months=months,
            start_date=start,
            maturity_date=maturity,
            guarantee_type=guarantee,
            collateral_value=money(limit * float(rng.uniform(0.8, 1.6)))
            if guarantee in ("mortgage", "pledge")
            else Decimal(0),
        )
        behaviour = self.choice(list(BEHAVIOUR_SHARES), p=list(BEHAVIOUR_SHARES.values()))
        facility._demo = behaviour
        return facility

    def repayments(self, facilities: list[Facility]):
        """Schedules, payments and the resulting arrears of each facility."""
        installments, payments, updated = [], [], []
        rng, as_of = self.rng, self.as_of
        for facility in facilities:
            behaviour = facility._demo
            months = facility.tenor_months
            principal = float(facility.approved_limit)
            monthly_rate = float(facility.rate) / 1200
            per_month = principal / months
            stop_after = int(rng.integers(2, max(3, months))) if behaviour == "default" else None
            outstanding, oldest_unpaid, paid_total = principal, None, 0.0
            for n in range(1, months + 1):
                due = _add_months(facility.start_date, n)
                interest = outstanding * monthly_rate
                share = per_month
                outstanding -= share
                row = Installment(
                    facility=facility, number=n, due_date=due,
                    principal_due=money(share), interest_due=money(interest),
                )  # fmt: skip
                owed = float(row.principal_due + row.interest_due)
                paid_on = None
                if due <= as_of and (stop_after is None or n <= stop_after):
                    delay = 0
                    if behaviour == "late" and rng.random() < 0.35:
                        delay = int(rng.integers(3, 50))
                    elif rng.random() < 0.03:
                        delay = int(rng.integers(1, 6))
                    paid_on = due + timedelta(days=delay) - timedelta(days=int(rng.integers(0, 3)))
                    if paid_on > as_of:
                        paid_on = None
                if paid_on is not None:
                    row.amount_paid, row.paid_off_on = money(owed), paid_on
                    paid_total += float(row.principal_due)
                    payments.append(
                        Payment(
                            facility=facility,
                            paid_on=paid_on,
                            amount=money(owed),
                            reference=f"{facility.contract_number}-{n:03d}",
                            recorded_at=at(paid_on, rng),
                        )
                    )
                elif due < as_of and oldest_unpaid is None:
                    oldest_unpaid = due
                installments.append(row)
            dpd = (as_of - oldest_unpaid).days if oldest_unpaid else 0
            facility.days_past_due = dpd
            facility.loan_class = classify(dpd)
            facility.drawn_amount = money(principal - paid_total)
            if facility.maturity_date < as_of and dpd == 0:
                facility.status = FacilityStatus.CLOSED
                facility.drawn_amount = Decimal(0)
            updated.append(facility)
            if behaviour == "late":
                self.stats.late_payers += 1
            elif behaviour == "default":
                self.stats.defaulters += 1
        return installments, payments, updated

    def interactions(self, customers: list[Customer]) -> list[Interaction]:
        rng, as_of = self.rng, self.as_of
        rows = []
        channels = list(names.INTERACTION_SUBJECTS)
        channel_p = np.array([0.32, 0.16, 0.12, 0.22, 0.08, 0.05, 0.05])
        outcomes = ("reached", "reached", "interested", "no_answer", "info_sent", "issue_raised",
                    "not_interested")  # fmt: skip
        for customer in customers:
            big = float(customer.annual_revenue or 0) > 1e8
            dormant = rng.random() < 0.12
            n = int(rng.poisson(10 if big else 5)) if not dormant else int(rng.integers(0, 2))
            for _ in range(n):
                channel = channels[int(rng.choice(len(channels), p=channel_p))]
                back = int(rng.integers(0, 730)) + (400 if dormant else 0)
                when = at(as_of - timedelta(days=back), rng)
                rows.append(
                    Interaction(
                        customer=customer,
                        channel=channel,
                        direction="in" if channel == "portal" else "out",
                        occurred_at=when,
                        subject=self.choice(names.INTERACTION_SUBJECTS[channel]),
                        summary=f"与{customer.name}沟通经营与资金需求情况。",
                        outcome=self.choice(outcomes),
                        next_step=self.choice(names.NEXT_STEPS),
                        created_by=customer.owner,
                    )
                )
        return rows


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for offset in range(0, total, size):
        yield offset, min(size, total - offset)


def reset_book() -> None:
    """Delete every client, its data, the demo users, teams and products (children first)."""
    from fincrm.engagement.models import Notification, Task
    from fincrm.evaluation.models import (
        Classification,
        EvaluationRun,
        PolicyVersion,
        Snapshot,
        SnapshotArchive,
        TierChange,
    )
    from fincrm.insights.models import ChurnModelReport, Prediction, Recommendation
    from fincrm.loyalty.models import PointsEntry
    from fincrm.portal.models import PortalAccount
    from fincrm.risk.models import (
        Alert,
        ControlProposal,
        CreditAssessment,
        CreditAssessmentArchive,
        Review,
        ScorecardModel,
    )
    from fincrm.service.models import Ticket
    from fincrm.surveys.models import Answer, Invitation, Question, Response, Survey

    models = [
        Recommendation, Prediction, ChurnModelReport, PointsEntry, Answer, Response, Invitation,
        Question, Survey, Ticket.history.model, Ticket,
        PortalAccount, Notification, Task, TierChange, Classification, SnapshotArchive, Snapshot,
        CreditAssessmentArchive, EvaluationRun,
        Alert, Review, ControlProposal, CreditAssessment, ScorecardModel,
        Payment, Installment, Facility, ApplicationDocument, ApplicationStageChange,
        Application, Interaction, FinancialStatement, Contact,
        Customer.tags.through, Customer,
    ]  # fmt: skip
    models += [m.history.model for m in (Payment, Facility, Application, FinancialStatement,
                                         Customer) if hasattr(m, "history")]  # fmt: skip
    models += [m.history.model for m in (ControlProposal, Review)]
    with transaction.atomic():
        for model in models:
            model.objects.all()._raw_delete(model.objects.db)
        PolicyVersion.objects.all().delete()
        Product.objects.all().delete()
        User.objects.filter(username__in=[u[0] for u in USERS] + [PORTAL_USERNAME]).delete()
        for name, _parent in reversed(TEAMS):
            Team.objects.filter(name=name).delete()


def build_book(
    *, customers: int, seed: int, as_of: date, progress: Callable[[str, int], None] | None = None
) -> tuple[Org, Stats]:
    """Create the organisation and ``customers`` clients with their whole history."""
    progress = progress or (lambda phase, n: None)
    with transaction.atomic():
        org = build_org()
        builder = BookBuilder(seed=seed, as_of=as_of, org=org)
        for offset, size in _chunks(customers, CHUNK):
            chunk = builder.chunk(size, offset)
            Customer.objects.bulk_create(chunk.customers, batch_size=CHUNK)
            Customer.tags.through.objects.bulk_create(
                [
                    Customer.tags.through(customer_id=c.pk, tag_id=org.tags[t].pk)
                    for t, c in chunk.tag_links
                ]
            )
            for customer, build in zip(chunk.customers, chunk.builders, strict=True):
                build(customer)
            Contact.objects.bulk_create(chunk.contacts, batch_size=CHUNK)
            FinancialStatement.objects.bulk_create(chunk.statements, batch_size=CHUNK)
            Application.objects.bulk_create(chunk.applications, batch_size=CHUNK)
            changes, documents, facilities, updates = builder.finish_applications(
                chunk.applications
            )
            ApplicationStageChange.objects.bulk_create(changes, batch_size=CHUNK)
            ApplicationDocument.objects.bulk_create(documents, batch_size=CHUNK)
            Application.objects.bulk_update(updates, ["stage_changed_at"], batch_size=CHUNK)
            Facility.objects.bulk_create(facilities, batch_size=CHUNK)
            installments, payments, updated = builder.repayments(facilities)
            Installment.objects.bulk_create(installments, batch_size=5_000)
            Payment.objects.bulk_create(payments, batch_size=5_000)
            Facility.objects.bulk_update(
                updated,
                ["days_past_due", "loan_class", "drawn_amount", "status"],
                batch_size=CHUNK,
            )
            interactions = builder.interactions(chunk.customers)
            Interaction.objects.bulk_create(interactions, batch_size=5_000)
            stats = builder.stats
            stats.customers += len(chunk.customers)
            stats.contacts += len(chunk.contacts)
            stats.statements += len(chunk.statements)
            for application in chunk.applications:
                stats.applications[application.stage] = (
                    stats.applications.get(application.stage, 0) + 1
                )
            stats.facilities += len(facilities)
            stats.installments += len(installments)
            stats.payments += len(payments)
            stats.interactions += len(interactions)
            progress("customers", size)
    return org, builder.stats


#: The demo's client portal login: the first company with an application waiting for
#: documents (or any open application).
PORTAL_USERNAME = "client1"


def create_portal_demo():
    """A portal account for one demo client; returns (username, client name) or None."""
    from fincrm.financing.choices import CLOSED_STAGES, Stage
    from fincrm.portal.models import PortalAccount

    open_apps = Application.objects.exclude(stage__in=CLOSED_STAGES).order_by("pk")
    application = (
        open_apps.filter(stage=Stage.DOCUMENTS, documents__status="missing").first()
        or open_apps.first()
    )
    if application is None:
        return None
    user, _created = User.objects.get_or_create(username=PORTAL_USERNAME, defaults={"role": ""})
    user.set_password(demo_password(PORTAL_USERNAME))
    user.save()
    PortalAccount.objects.update_or_create(user=user, defaults={"customer": application.customer})
    return PORTAL_USERNAME, application.customer.name
