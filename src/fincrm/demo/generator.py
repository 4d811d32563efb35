"""A realistic, deterministic Chinese lending book for demos, tests and benchmarks.

The organisation (teams, one user per role, products, tags) is created with the ORM; the
clients and everything they own are drawn a chunk of clients at a time by ``demo.book`` (NumPy
and polars, in a helper process while this one writes) and written as whole frames by
``demo.load`` — ``COPY`` on PostgreSQL, ``executemany`` on SQLite — one transaction per chunk.
Same seed and as-of date, same book. The rows carry no django-simple-history records: the demo
book starts with no audit trail.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import polars as pl
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max

from fincrm.accounts.choices import Role
from fincrm.accounts.models import Team, User
from fincrm.core.bulk import deferred_constraints
from fincrm.customers.models import Contact, Customer, FinancialStatement, Tag
from fincrm.engagement.models import Interaction
from fincrm.financing.choices import ProductType
from fincrm.financing.models import (
    Application,
    ApplicationDocument,
    ApplicationStageChange,
    ApprovalVote,
    Facility,
    Installment,
    Payment,
    Product,
)
from fincrm.loyalty.models import PointsEntry
from fincrm.service.models import Ticket
from fincrm.surveys.models import Answer, Invitation, Response

from . import book, names
from .load import write
from .service import service_plan

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


@dataclass
class Org:
    teams: dict[str, Team]
    users: dict[str, User]
    managers: list[User]
    products: list[Product]
    tags: list[Tag]
    risk: User


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


#: What each frame of a chunk is written to, parents first.
TABLES = {
    "customers": Customer,
    "customer_tags": Customer.tags.through,
    "contacts": Contact,
    "statements": FinancialStatement,
    "applications": Application,
    "stage_changes": ApplicationStageChange,
    "votes": ApprovalVote,
    "documents": ApplicationDocument,
    "facilities": Facility,
    "installments": Installment,
    "payments": Payment,
    "interactions": Interaction,
    "invitations": Invitation,
    "responses": Response,
    "answers": Answer,
    "tickets": Ticket,
    "points": PointsEntry,
}
#: Frames whose rows carry their own id; column → the frame whose (chunk-local) ids it holds.
IDS = ("customers", "applications", "facilities", "installments", "invitations", "responses")
SHIFTS = {
    "customers": {"id": "customers", "referred_by_id": "customers"},
    "customer_tags": {"customer_id": "customers"},
    "contacts": {"customer_id": "customers"},
    "statements": {"customer_id": "customers"},
    "applications": {"id": "applications", "customer_id": "customers"},
    "stage_changes": {"application_id": "applications"},
    "votes": {"application_id": "applications"},
    "documents": {"application_id": "applications"},
    "facilities": {"id": "facilities", "customer_id": "customers",
                   "application_id": "applications"},
    "installments": {"id": "installments", "facility_id": "facilities"},
    "payments": {"facility_id": "facilities"},
    "interactions": {"customer_id": "customers"},
    "invitations": {"id": "invitations", "customer_id": "customers"},
    "responses": {"id": "responses", "invitation_id": "invitations", "customer_id": "customers"},
    "answers": {"response_id": "responses"},
    "tickets": {"customer_id": "customers"},
    "points": {"customer_id": "customers", "_installment": "installments",
               "_invitation": "invitations"},
}  # fmt: skip
#: SQLite page cache during a load (negative: KiB): 1 GiB.
SQLITE_CACHE_KIB = -1_048_576
#: Processes drawing chunks while this one writes (none for a single chunk).
WORKERS = max(1, min(2, (os.cpu_count() or 1) - 1))


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
    invitations: int = 0
    responses: int = 0
    tickets: int = 0
    points_entries: int = 0
    rows: int = 0

    def add(self, frames: dict[str, pl.DataFrame]) -> None:
        for name in (
            "customers",
            "contacts",
            "statements",
            "facilities",
            "installments",
            "payments",
            "interactions",
            "invitations",
            "responses",
            "tickets",
        ):
            setattr(self, name, getattr(self, name) + frames[name].height)  # fmt: skip
        self.points_entries += frames["points"].height
        for stage, count in frames["applications"]["stage"].value_counts().iter_rows():
            self.applications[stage] = self.applications.get(stage, 0) + count
        behaviour = frames["facilities"]["_behaviour"]
        self.late_payers += int((behaviour == "late").sum())
        self.defaulters += int((behaviour == "default").sum())
        self.rows += sum(frame.height for frame in frames.values())


def book_plan(org: Org, *, seed: int, as_of: date) -> book.Plan:
    """The organisation as plain data for the draws (and the surveys they answer)."""
    return book.Plan(
        seed=seed,
        as_of=as_of,
        managers=tuple(m.pk for m in org.managers),
        manager_teams=tuple(m.team_id for m in org.managers),
        manager_regions=tuple(
            m.team.parent.name if m.team.parent else m.team.name for m in org.managers
        ),
        products=tuple(
            book.ProductSpec(
                id=p.pk,
                min_rate=float(p.min_rate),
                max_rate=float(p.max_rate),
                min_tenor=p.min_tenor_months,
                max_tenor=p.max_tenor_months,
                min_amount=float(p.min_amount),
                max_amount=float(p.max_amount),
                documents=tuple(p.required_documents),
            )
            for p in org.products
        ),
        tags=tuple(t.pk for t in org.tags),
        risk=org.risk.pk,
        executive=org.users["exec"].pk,
        service=service_plan(),
    )


def _drawn(plan: book.Plan, customers: int, workers: int) -> Iterator[dict[str, pl.DataFrame]]:
    """The chunks in order, drawn ahead by ``workers`` helper processes (they only compute:
    the database stays with this process)."""
    chunks = [
        (number, offset, min(book.CHUNK, customers - offset))
        for number, offset in enumerate(range(0, customers, book.CHUNK))
    ]
    if workers < 1 or len(chunks) < 2:
        for chunk in chunks:
            yield book.draw_chunk(plan, *chunk)
        return
    # Spawned, not forked: a fork of a process whose polars thread pool is busy can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        waiting = iter(chunks)
        ahead = deque(pool.submit(book.draw_chunk, plan, *c) for c in chunks[: workers + 1])
        for _ in range(workers + 1):
            next(waiting, None)
        while ahead:
            frames = ahead.popleft().result()
            following = next(waiting, None)
            if following is not None:
                ahead.append(pool.submit(book.draw_chunk, plan, *following))
            yield frames


class _Placer:
    """Turns a chunk's local ids into database ids and fills what depends on them."""

    def __init__(self, seed: int):
        self.seed = seed
        self.next_id = {
            name: (TABLES[name].objects.aggregate(n=Max("pk"))["n"] or 0) + 1 for name in IDS
        }
        self.contracts = 0
        self.ric_sequences: dict[tuple[str, int], int] = {}

    def place(self, frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        base = self.next_id
        customers = frames["customers"]
        frames["customers"] = customers.with_columns(
            id_number=pl.Series(self._id_numbers(customers), dtype=pl.String)
        )
        facilities = frames["facilities"]
        serial = pl.int_range(pl.len()) + self.contracts + 1
        facilities = facilities.with_columns(
            contract_number=pl.concat_str(
                pl.lit("HT"), pl.col("start_date").dt.strftime("%Y%m"),
                serial.cast(pl.String).str.zfill(7),
            )
        )  # fmt: skip
        frames["facilities"] = facilities
        self.contracts += facilities.height
        contracts = facilities.select(
            id=pl.col("application_id"),
            contract_number=pl.col("contract_number"),
            signed_on=pl.col("start_date"),
        )
        frames["applications"] = (
            frames["applications"]
            .drop("contract_number", "signed_on", strict=False)
            .join(contracts, on="id", how="left")
            .with_columns(pl.col("contract_number").fill_null(""))
        )
        payments = frames["payments"]
        frames["payments"] = payments.with_columns(
            reference=pl.concat_str(
                facilities["contract_number"].gather(payments["facility_id"]),
                pl.lit("-"), pl.col("_number").cast(pl.String).str.zfill(3),
            )
        )  # fmt: skip
        for name, shifts in SHIFTS.items():
            frames[name] = frames[name].with_columns(
                pl.col(column) + base[target] for column, target in shifts.items()
            )
        contacts = frames["contacts"]
        who = pl.format("{}_{}", pl.col("customer_id"), pl.col("_position"))
        frames["contacts"] = contacts.with_columns(
            email=pl.format("contact{}@example.cn", who),
            wechat_id=pl.when(pl.col("_wechat"))
            .then(pl.format("wx_{}", who))
            .otherwise(pl.lit("")),
        )
        invitations = frames["invitations"]
        frames["invitations"] = invitations.with_columns(
            token_hash=pl.Series(
                [
                    hashlib.sha256(f"demo-{self.seed}-{pk}-{year}".encode()).hexdigest()
                    for pk, year in invitations.select("customer_id", "_year").iter_rows()
                ],
                dtype=pl.String,
            )
        )
        frames["points"] = frames["points"].with_columns(
            key=pl.when(pl.col("_installment").is_not_null())
            .then(pl.format("installment:{}", pl.col("_installment")))
            .otherwise(pl.format("survey:{}", pl.col("_invitation")))
        )
        for name in IDS:
            base[name] += frames[name].height
        return frames

    def _id_numbers(self, customers: pl.DataFrame) -> list[str | None]:
        """Valid ID numbers, unique: sequence numbers 001–999 are handed out per county and
        birthday (a full county passes its persons on to one valid for every birthday)."""
        out: list[str | None] = []
        sequences = self.ric_sequences
        for county, birthday in customers.select("_county", "_birthday").iter_rows():
            if county is None:
                out.append(None)
                continue
            for candidate in (county, *book.FALLBACK_COUNTIES):
                sequence = sequences.get((candidate, birthday), 0) + 1
                if sequence <= 999:
                    sequences[candidate, birthday] = sequence
                    out.append(book.ric_number(candidate, str(birthday), sequence))
                    break
            else:
                raise ValueError(f"no valid ID number left for persons born on {birthday}")
        return out


@contextmanager
def _bulk_session() -> Iterator[None]:
    """Settings for a long load on this connection, put back after: a page cache that holds
    the growing indexes (SQLite), commits that do not wait for the disk (PostgreSQL: a crash
    loses the last chunks, never consistency)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size")
            (before,) = cursor.fetchone()
            cursor.execute(f"PRAGMA cache_size = {SQLITE_CACHE_KIB}")
        elif connection.vendor == "postgresql":
            cursor.execute("SHOW synchronous_commit")
            (before,) = cursor.fetchone()
            cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"PRAGMA cache_size = {int(before)}")
            elif connection.vendor == "postgresql":
                cursor.execute("SELECT set_config('synchronous_commit', %s, false)", [before])


def build_book(
    *,
    customers: int,
    seed: int,
    as_of: date,
    progress: Callable[[int, int], None] | None = None,
    workers: int = WORKERS,
) -> tuple[Org, Stats]:
    """Create the organisation and ``customers`` clients with their whole history.

    ``progress(clients, rows)`` is called after each chunk is written.
    """
    progress = progress or (lambda clients, rows: None)
    with transaction.atomic():
        org = build_org()
        plan = book_plan(org, seed=seed, as_of=as_of)
    placer = _Placer(seed)
    stats = Stats()
    # PostgreSQL: one transaction, its foreign keys checked once at the end; SQLite: one
    # transaction per chunk (a single one would grow the write-ahead log to the book's size).
    postgresql = connection.vendor == "postgresql"
    with (
        transaction.atomic() if postgresql else nullcontext(),
        _bulk_session(),
        # Foreign keys checked once at the end, one set-based pass per key.
        deferred_constraints([m._meta.db_table for m in TABLES.values()], indexes=False),
    ):
        for frames in _drawn(plan, customers, workers):
            frames = placer.place(frames)
            with transaction.atomic():
                for name, model in TABLES.items():
                    write(model, frames[name])
            stats.add(frames)
            progress(frames["customers"].height, sum(f.height for f in frames.values()))
        if postgresql:  # ids were written explicitly: move sequences on
            with connection.cursor() as cursor:
                for name in IDS:
                    table = TABLES[name]._meta.db_table
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT COALESCE(MAX(id),"
                        f" 0) + 1 FROM {connection.ops.quote_name(table)}), false)",
                        [table],
                    )
    return org, stats


def reset_book() -> None:
    """Delete every client, its data, the demo users, teams and products (children first)."""
    from fincrm.core import partitions
    from fincrm.engagement.models import Notification, Task
    from fincrm.evaluation.models import (
        Classification,
        EvaluationRun,
        PolicyVersion,
        SegmentSize,
        Snapshot,
        SnapshotArchive,
        TierChange,
    )
    from fincrm.financing.models import (
        CollectionAction,
        FacilityModification,
        Fee,
        ModificationVote,
        ScheduleRevision,
        Tranche,
    )
    from fincrm.insights.models import ChurnModelReport, Prediction, Recommendation
    from fincrm.knowledge.models import Article
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
    from fincrm.staff.models import TrainingRecord
    from fincrm.surveys.models import Answer, Invitation, Question, Response, Survey

    models = [
        Recommendation, Prediction, ChurnModelReport, PointsEntry, Answer, Response, Invitation,
        Question, Survey, Ticket.history.model, Ticket,
        PortalAccount, Notification, Task, TierChange, Classification, SnapshotArchive, Snapshot,
        CreditAssessmentArchive, SegmentSize, EvaluationRun,
        Alert, Review, ControlProposal, CreditAssessment, ScorecardModel,
        ModificationVote, FacilityModification.history.model, FacilityModification,
        Tranche.history.model, Tranche,
        ApprovalVote, Fee, ScheduleRevision, CollectionAction.history.model, CollectionAction,
        Payment, Installment, Facility, ApplicationDocument, ApplicationStageChange,
        Application, Interaction, FinancialStatement, Contact,
        Customer.tags.through, Customer,
    ]  # fmt: skip
    audited = (Payment, Facility, Application, ApplicationDocument, FinancialStatement, Customer)
    models += [m.history.model for m in audited if hasattr(m, "history")]
    models += [m.history.model for m in (ControlProposal, Review)]
    with transaction.atomic():
        for model in models:
            model.objects.all()._raw_delete(model.objects.db)
        for model in (Snapshot, CreditAssessment):  # the runs' own partitions (PostgreSQL)
            partitions.drop_partitions(model._meta.db_table)
        PolicyVersion.objects.all().delete()
        Product.objects.all().delete()
        # The demo users' own rows (the knowledge library, training records) go before them.
        Article.objects.all().delete()
        TrainingRecord.objects.all().delete()
        User.objects.filter(username__in=[u[0] for u in USERS] + [PORTAL_USERNAME]).delete()
        for name, _parent in reversed(TEAMS):
            Team.objects.filter(name=name).delete()


#: The demo's client portal login (issue 19, point 10): a client with an application open
#: (waiting for documents if one is), a running facility with its schedule and points, and
#: an open survey to answer.
PORTAL_USERNAME = "client1"


def create_portal_demo(as_of: date | None = None):
    """A portal account for one demo client; returns (username, client name) or None. The
    client is the first (by application) with an open application, an active facility and
    points, else with fewer of these; it gets an invitation to the first active survey, open
    on the book's day ``as_of``, if it has none (``surveys.services.survey_invite``, the way
    every invitation is made)."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from django.db.models import Exists, OuterRef, Subquery, Sum
    from django.utils import timezone

    from fincrm.financing.choices import CLOSED_STAGES, FacilityStatus, Stage
    from fincrm.portal.models import PortalAccount
    from fincrm.surveys.models import Survey
    from fincrm.surveys.services import survey_invite

    running = Facility.objects.filter(customer=OuterRef("customer"), status=FacilityStatus.ACTIVE)
    points = (
        PointsEntry.objects.filter(customer=OuterRef("customer"))
        .values("customer")
        .annotate(total=Sum("points"))
        .values("total")
    )
    open_apps = Application.objects.exclude(stage__in=CLOSED_STAGES).annotate(
        running=Exists(running), points=Subquery(points)
    )
    application = None
    candidates = (
        open_apps.filter(running=True, points__gt=0),
        open_apps.filter(running=True),
        open_apps,
    )
    for apps in candidates:
        application = (
            apps.filter(stage=Stage.DOCUMENTS, documents__status="missing").order_by("pk").first()
            or apps.order_by("pk").first()
        )
        if application is not None:
            break
    if application is None:
        return None
    customer = application.customer
    survey = Survey.objects.filter(is_active=True).order_by("pk").first()
    now = timezone.now()
    if as_of is not None and as_of < timezone.localdate():  # a book of a past day
        now = datetime.combine(as_of, time(10), tzinfo=ZoneInfo("Asia/Shanghai"))
    invitations = customer.survey_invitations.filter(answered_at__isnull=True, expires_at__gt=now)
    if survey is not None and not invitations.exists():
        survey_invite(survey=survey, customer=customer, cause="portal_demo", now=now)
    user, _created = User.objects.get_or_create(username=PORTAL_USERNAME, defaults={"role": ""})
    user.set_password(demo_password(PORTAL_USERNAME))
    user.save()
    PortalAccount.objects.update_or_create(user=user, defaults={"customer": customer})
    return PORTAL_USERNAME, customer.name
