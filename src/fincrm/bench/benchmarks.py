"""The phases of ``fincrm bench``: each measures one path and its naive baseline.

Every phase runs in its own process (see the command) against a database prepared once, and
returns a list of result rows: ``{"path", "rows", "seconds", "peak_mib"}`` plus, for page
benchmarks, ``p50_ms``, ``p95_ms`` and ``queries`` per case. Nothing here is a test: the
numbers are printed, recorded in ``docs/benchmarks.md``, never asserted.
"""

from __future__ import annotations

import csv
import random
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from django.core.paginator import Paginator
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from fincrm.core.gc_tuning import CollectionTimer, freeze_loaded_app

#: Requests per page case (after one warm-up request).
REPEATS = 20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed_requests(view: Callable, request_for: Callable, repeats: int = REPEATS) -> dict:
    """p50/p95 wall time and SQL queries of a view over ``repeats`` requests."""
    # One request warms the caches (templates, policy, connections) and counts the queries;
    # the timed ones run without the query capture, whose debug cursor formats every SQL.
    connection.queries_log.clear()  # a bounded deque: once full, captures read as empty
    with CaptureQueriesContext(connection) as ctx:
        warm = view(request_for())
        if hasattr(warm, "render"):
            warm.render()
    queries = len(ctx.captured_queries)
    times = []
    with CollectionTimer() as collections:
        for _ in range(repeats):
            request = request_for()
            started = time.perf_counter()
            response = view(request)
            if hasattr(response, "render"):
                response.render()
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{request.get_full_path()} answered {response.status_code}")
    times.sort()
    return {
        "p50_ms": statistics.median(times),
        "p95_ms": times[max(0, round(0.95 * len(times)) - 1)],
        "queries": queries,
        "seconds": sum(times) / 1000,
        "rows": repeats,
        # Garbage collection during the timed requests: total per request, the longest pause,
        # and how many full (generation 2) collections ran.
        "gc_ms": collections.total_ms / repeats,
        "gc_max_ms": collections.longest * 1000,
        "gc_full": collections.counts[2],
    }


def web_process() -> bool:
    """Set this process up as the WSGI entry sets up a web process (``fincrm.wsgi``): the
    loaded application frozen out of the garbage collector's way. False when turned off
    (``FINCRM_GC_FREEZE=0``)."""
    return freeze_loaded_app()


def _request_factory(user):
    factory = RequestFactory()

    def build(path: str):
        def request_for():
            request = factory.get(path)
            request.user = user
            request.session = {}
            request.LANGUAGE_CODE = "zh-hans"
            return request

        return request_for

    return build


# --- list and search -------------------------------------------------------------------------


def list_cases() -> list[tuple[str, str]]:
    """(label, query string): every single filter and sort the issue asks for."""
    from fincrm.accounts.models import User
    from fincrm.customers.models import Customer

    manager = User.objects.filter(username="manager1").values_list("pk", flat=True).first()
    industry = Customer.objects.order_by().values_list("industry", flat=True).first() or "C"
    return [
        ("first page", ""),
        ("filter industry", f"?industry={industry}"),
        ("filter city tier", "?city_tier=1"),
        ("filter account manager", f"?owner={manager}"),
        ("filter tier core", "?tier=core"),
        ("filter grade A", "?grade=A"),
        ("filter lifecycle dormant", "?lifecycle=dormant"),
        ("sort revenue desc", "?ordering=-annual_revenue"),
        ("sort value score desc", "?ordering=-value_score"),
        ("filter industry + sort name", f"?industry={industry}&ordering=name"),
    ]


def search_cases() -> list[tuple[str, str]]:
    """Searches for what exists: a name fragment, a code prefix, a phone prefix."""
    from fincrm.customers.models import Customer

    rng = random.Random(7)
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:5000])
    sample = Customer.objects.filter(pk__in=rng.sample(ids, min(50, len(ids))))
    company = sample.exclude(credit_code=None).first()
    person = sample.exclude(phone="").first()
    cases = []
    if company is not None:
        cases.append(("name fragment", "?q=" + company.name[2:5]))
        cases.append(("credit code prefix", "?q=" + company.credit_code[:10]))
    if person is not None:
        cases.append(("person name", "?q=" + person.name))
        cases.append(("phone prefix", "?q=" + person.phone[:7]))
    cases.append(("no match", "?q=不存在的客户名称"))
    return cases


def _naive_list_view(search: bool = False):
    """The peers' list: no select_related (a query per row for owner, team and tier), an exact
    count of every page, classification filters joined and, for search, a substring match
    anywhere in every searchable column with contacts joined (no index can serve it)."""
    from django.db.models import Q

    from fincrm.customers.filtersets import CustomerFilterSet
    from fincrm.customers.views import CustomerListView

    class NaiveFilterSet(CustomerFilterSet):
        page_by_exists = False  # classifications joined, page and count alike

        def search(self, queryset, name, value):
            return queryset.filter(
                Q(name__icontains=value)
                | Q(credit_code__icontains=value)
                | Q(id_number__icontains=value)
                | Q(phone__icontains=value)
                | Q(contacts__phone__icontains=value)
            ).distinct()

    class NaiveCustomerListView(CustomerListView):
        paginator_class = Paginator
        filterset_class = NaiveFilterSet

        def get_queryset(self):
            return super().get_queryset().select_related(None)

    return NaiveCustomerListView.as_view()


def phase_pages(kind: str, naive: bool) -> list[dict]:
    from fincrm.accounts.models import User
    from fincrm.customers.views import CustomerListView

    admin = User.objects.get(username="admin")
    build = _request_factory(admin)
    cases = list_cases() if kind == "list" else search_cases()
    view = _naive_list_view(search=kind == "search") if naive else CustomerListView.as_view()
    frozen = web_process()
    results = []
    for label, query in cases:
        result = _timed_requests(view, build("/customers/" + query))
        results.append({"path": label, **result, "peak_mib": peak_mib(), "gc_frozen": frozen})
    return results


TEN_YEAR_CLIENT = "十年老客户（基准）"


def ten_year_client():
    """A client with ten years of history (created once in the bench book): 10 annual
    statements, 20 facilities of 12 monthly instalments each, paid; 40 applications with
    their stage moves; 600 interactions; 30 complaints; 10 survey answers; 240 points
    entries."""
    from datetime import date, timedelta
    from decimal import Decimal

    from django.utils import timezone

    from fincrm.accounts.models import User
    from fincrm.customers.models import Customer
    from fincrm.financing.models import Product

    existing = Customer.objects.filter(name=TEN_YEAR_CLIENT).first()
    if existing is not None:
        return existing
    template = Customer.objects.filter(kind="company").order_by("pk").first()
    owner = User.objects.get(username="manager1")
    client = Customer.objects.create(
        kind="company", name=TEN_YEAR_CLIENT, credit_code="91110000MA00TENYR0",
        industry=template.industry, province=template.province, city=template.city,
        city_tier=template.city_tier, client_type=template.client_type, owner=owner,
        team=owner.team, annual_revenue=Decimal("80000000"), founded_on=date(2010, 5, 1),
    )  # fmt: skip
    start = timezone.localdate() - timedelta(days=3650)
    product = Product.objects.order_by("pk").first()
    _ten_years_of_statements(client, start)
    _ten_years_of_facilities(client, product, start)
    _ten_years_of_applications(client, product)
    _ten_years_of_contacts(client, owner)
    from fincrm.evaluation.choices import RunKind
    from fincrm.evaluation.services import evaluation_run

    evaluation_run(kind=RunKind.EVENT, customer_ids=[client.pk])
    return client


def _ten_years_of_statements(client, start) -> None:
    """One annual financial statement for each of the ten years from ``start``."""
    from datetime import date
    from decimal import Decimal

    from fincrm.customers.models import FinancialStatement

    money = {f: Decimal("50000000") for f in ("revenue", "total_assets", "current_assets")}
    FinancialStatement.objects.bulk_create(
        FinancialStatement(
            customer=client, period_end=date(start.year + y, 12, 31), cost=Decimal("30000000"),
            net_profit=Decimal("4000000"), total_liabilities=Decimal("25000000"),
            current_liabilities=Decimal("15000000"), inventory=Decimal("5000000"),
            receivables=Decimal("6000000"), operating_cash_flow=Decimal("3000000"),
            interest_expense=Decimal("800000"), **money,
        )
        for y in range(10)
    )  # fmt: skip


def _ten_years_of_facilities(client, product, start) -> None:
    """20 closed facilities, one every half year from ``start``, each with 12 monthly
    instalments paid on their due dates and the payments."""
    from datetime import timedelta
    from decimal import Decimal

    from fincrm.financing.models import Facility, Installment, Payment

    for k in range(20):
        begin = start + timedelta(days=182 * k)
        facility = Facility.objects.create(
            customer=client, product=product, contract_number=f"TENYR{k:04d}",
            approved_limit=Decimal("12000000"), drawn_amount=Decimal("0"), rate=Decimal("6.5"),
            tenor_months=12, start_date=begin, maturity_date=begin + timedelta(days=365),
            status="closed",
        )  # fmt: skip
        due = [begin + timedelta(days=30 * (n + 1)) for n in range(12)]
        Installment.objects.bulk_create(
            Installment(facility=facility, number=n + 1, due_date=d,
                        principal_due=Decimal("1000000"), interest_due=Decimal("65000"),
                        amount_paid=Decimal("1065000"), paid_off_on=d)
            for n, d in enumerate(due)
        )  # fmt: skip
        Payment.objects.bulk_create(
            Payment(facility=facility, amount=Decimal("1065000"), paid_on=d,
                    reference=f"TENYR{k:04d}-{n}")
            for n, d in enumerate(due)
        )  # fmt: skip


def _ten_years_of_applications(client, product) -> None:
    """40 applications, disbursed and rejected in turn, each with its stage moves."""
    from decimal import Decimal

    from fincrm.financing.models import Application, ApplicationStageChange

    for k in range(40):
        application = Application.objects.create(
            customer=client, product=product, amount=Decimal("12000000"), tenor_months=12,
            stage="disbursed" if k % 2 == 0 else "rejected",
        )  # fmt: skip
        ApplicationStageChange.objects.bulk_create(
            ApplicationStageChange(application=application, from_stage="", to_stage=stage)
            for stage in ("lead", "submitted", "credit_review", application.stage)
        )


def _ten_years_of_contacts(client, owner) -> None:
    """600 interactions six days apart, a complaint with every 20th of them (30) and a
    points entry on each of the latest 240."""
    from datetime import timedelta

    from django.utils import timezone

    from fincrm.engagement.models import Interaction
    from fincrm.loyalty.models import PointsEntry
    from fincrm.service.models import Ticket

    moments = [timezone.now() - timedelta(days=6 * k) for k in range(600)]
    Interaction.objects.bulk_create(
        Interaction(customer=client, channel="phone", subject="回访", summary="沟通经营情况",
                    occurred_at=at, outcome="reached", created_by=owner)
        for at in moments
    )  # fmt: skip
    Ticket.objects.bulk_create(
        Ticket(customer=client, channel="phone", subject="咨询", description="还款计划咨询",
               category="repayment", status="closed", opened_at=at, respond_by=at,
               resolve_by=at, closed_at=at)
        for at in moments[::20]
    )  # fmt: skip
    PointsEntry.objects.bulk_create(
        PointsEntry(customer=client, kind="earn", reason="on_time_repayment", points=10,
                    occurred_at=at, expires_on=timezone.localdate() + timedelta(days=365),
                    key=f"tenyr:{n}")
        for n, at in enumerate(moments[:240])
    )  # fmt: skip


def _with_pk(view, pk: int):
    return lambda request: view(request, pk=pk)


def phase_dashboard() -> list[dict]:
    from fincrm.accounts.models import User
    from fincrm.evaluation.views import runs, segments
    from fincrm.insights.views import dashboard as kpi_dashboard
    from fincrm.risk.views import portfolio
    from fincrm.web.customer360 import customer_detail
    from fincrm.web.views import home

    def uncached_kpis(request):
        from django.core.cache import cache

        cache.clear()  # the page caches its figures for 10 minutes: measure the computation
        return kpi_dashboard(request)

    frozen = web_process()
    results = []
    for username, label, view, path in (
        ("manager1", "workbench (manager)", home, "/"),
        ("exec", "workbench (executive)", home, "/"),
        ("risk", "risk portfolio", portfolio, "/risk/portfolio/"),
        ("admin", "segments", segments, "/evaluation/segments/"),
        ("admin", "runs and migration", runs, "/evaluation/runs/"),
        ("admin", "KPIs, whole book", uncached_kpis, "/insights/"),
        ("lead_east", "KPIs, team lead", uncached_kpis, "/insights/"),
        ("manager1", "KPIs, manager", uncached_kpis, "/insights/"),
        ("admin", "KPIs, core tier", uncached_kpis, "/insights/?tier=core"),
        ("admin", "KPIs, one segment", uncached_kpis, "/insights/?segment=growing"),
        ("manager1", "360° page, 10 years of history", customer_detail, "/customers/{ten}/"),
    ):
        user = User.objects.get(username=username)
        if "{ten}" in path:
            client = ten_year_client()
            path = path.format(ten=client.pk)
            view = _with_pk(view, client.pk)
        result = _timed_requests(view, _request_factory(user)(path), repeats=10)
        results.append({"path": label, **result, "peak_mib": peak_mib(), "gc_frozen": frozen})
    return results


# --- import ----------------------------------------------------------------------------------

IMPORT_HEADERS = ["客户名称", "统一社会信用代码", "身份证号", "客户类型", "行业", "省份", "城市"]
IMPORT_HEADERS += ["注册资本", "年营业收入", "员工人数", "客户经理", "电话", "成立日期", "生日"]
#: One row in this many is broken on purpose (each kind of fault in turn).
BAD_EVERY = 100


def _valid_codes(row: list[str], n: int, seen: set[str]) -> None:
    """A copied book (``demo.replicate``) marks each copy's codes with a letter, which no
    validator accepts: give such a row a valid, unique code of the same kind instead (credit
    code region 990000 + the row number; ID number of the same birth date, Beijing Chaoyang,
    next free sequence number)."""
    from stdnum.cn import ric, uscc

    code, number = row[1], row[2]
    if code and not uscc.is_valid(code):
        body = f"91990000{n:09d}"
        row[1] = body + uscc.calc_check_digit(body)
    elif number and not ric.is_valid(number):
        birth = number[6:14] if number[6:14].isdigit() else f"19{number[8:14]}"
        for sequence in range(1000):
            body = f"110105{birth}{sequence:03d}"
            candidate = body + ric.calc_check_digit(body + "0")
            if candidate not in seen and ric.is_valid(candidate):
                row[2] = candidate
                break
    if row[2]:
        seen.add(row[2])


def export_import_file(path: Path) -> dict:
    """Write the book's clients as a Chinese CSV, with one row in ``BAD_EVERY`` broken."""
    from fincrm.customers.models import Customer

    faults = (
        lambda r: r.__setitem__(1, r[1][:-1] + ("0" if r[1][-1] != "0" else "1")) if r[1] else None,
        lambda r: r.__setitem__(4, "不存在的行业"),
        lambda r: r.__setitem__(0, ""),
        lambda r: r.__setitem__(8, "一千万"),
    )
    rows = bad = 0
    seen: set[str] = set()
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(IMPORT_HEADERS)
        for values in (
            Customer.objects.order_by("pk")
            .values_list(
                "name", "credit_code", "id_number", "client_type", "industry", "province",
                "city", "registered_capital", "annual_revenue", "employee_count",
                "owner__username", "phone", "founded_on", "birthday",
            )
            .iterator(chunk_size=20_000)
        ):  # fmt: skip
            row = ["" if v is None else str(v) for v in values]
            rows += 1
            _valid_codes(row, rows, seen)
            if rows % BAD_EVERY == 0:
                faults[(rows // BAD_EVERY) % len(faults)](row)
                bad += 1
            writer.writerow(row)
    return {"rows": rows, "bad": bad}


def phase_import(path: Path, naive_sample: int, naive: bool) -> list[dict]:
    from fincrm.accounts.models import User
    from fincrm.customers.importer import customer_import

    admin = User.objects.get(username="admin")
    if not naive:
        started = time.perf_counter()
        result = customer_import(path, user=admin)
        seconds = time.perf_counter() - started
        return [
            {
                "path": "bulk import (customer_import)",
                "rows": result.good_rows + len(result.errors),
                "seconds": seconds,
                "peak_mib": peak_mib(),
                "bad_rows_reported": len({e.row for e in result.errors}),
            }
        ]
    with path.open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        sample = [row for _i, row in zip(range(naive_sample), reader, strict=False)]
    started = time.perf_counter()
    saved = _import_row_by_row(sample)
    seconds = time.perf_counter() - started
    return [
        {
            "path": "naive row-by-row ORM import",
            "rows": len(sample),
            "seconds": seconds,
            "peak_mib": peak_mib(),
            "saved": saved,
        }
    ]


def _import_row_by_row(rows: list[list[str]]) -> int:
    """The peers' import: look the owner up, validate and save one client per row, each in its
    own savepoint with its audit record; then roll everything back (a baseline, not data).
    One outer transaction spares it a commit per row: the baseline errs on the fast side."""
    saved = 0
    with transaction.atomic():
        saved = _save_each(rows)
        transaction.set_rollback(True)
    return saved


def _save_each(rows: list[list[str]]) -> int:
    from decimal import Decimal, InvalidOperation

    from django.core.exceptions import ValidationError

    from fincrm.accounts.models import User
    from fincrm.customers.models import Customer

    saved = 0
    for row in rows:
        name, code, ric, ctype, industry, province, city, capital, revenue, staff = row[:10]
        owner_name, phone, founded, birthday = row[10:14]
        try:
            with transaction.atomic():
                owner = User.objects.get(username=owner_name)
                customer = Customer(
                    kind="company" if code else "person",
                    name=name,
                    credit_code=code or None,
                    id_number=ric or None,
                    client_type=ctype,
                    industry=industry,
                    province=province,
                    city=city,
                    registered_capital=Decimal(capital or 0),
                    annual_revenue=Decimal(revenue or 0),
                    employee_count=int(staff or 0),
                    owner=owner,
                    team=owner.team,
                    phone=phone,
                    founded_on=founded or None,
                    birthday=birthday or None,
                )
                if Customer.objects.filter(
                    credit_code=code or None, id_number=ric or None
                ).exists():
                    continue
                customer.full_clean()
                customer.save()
                saved += 1
        except (ValidationError, InvalidOperation, ValueError, User.DoesNotExist):
            continue
    return saved
