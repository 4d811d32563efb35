"""The KPI dashboard reads the book on the ``reporting`` database; writes and the 360° page
stay on the primary (docs/scaling.md, "PostgreSQL read replica for dashboards")."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fincrm.core.db import reporting
from fincrm.customers.models import Customer
from fincrm.engagement.models import Interaction
from fincrm.insights.kpis import Filters, dashboard
from fincrm.testing.factories import FacilityFactory, monthly_schedule

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "reporting"])
TZ = ZoneInfo("Asia/Shanghai")
URL = reverse("insights:dashboard") + "?from=2026-01&to=2026-06"
#: Tables only the dashboard's figures read: none of them may be read on the primary.
BOOK_TABLES = ("customers_customer", "financing_facility", "financing_installment",
               "engagement_interaction", "engagement_task", "service_ticket",
               "financing_applicationstagechange", "surveys_invitation")  # fmt: skip


@pytest.fixture
def kpi_book(book, users):
    facility = FacilityFactory(customer=book["a_company"], start_date=date(2026, 1, 5))
    monthly_schedule(facility, months=6, principal=Decimal(500_000), interest=Decimal(20_000))
    FacilityFactory(customer=book["b_company"], start_date=date(2026, 2, 5))
    Interaction.objects.create(
        customer=book["a_company"], channel="phone", subject="回访",
        occurred_at=datetime(2026, 3, 10, tzinfo=TZ), created_by=users["manager_a"],
    )  # fmt: skip
    return book


def _touching(queries: list[str], table: str) -> list[str]:
    return [sql for sql in queries if f'"{table}"' in sql or f"{table}." in sql]


def test_the_reporting_alias_mirrors_the_test_database():
    mirror = connections["reporting"].settings_dict
    assert mirror["TEST"]["MIRROR"] == "default"
    assert mirror["NAME"] == connections["default"].settings_dict["NAME"]
    assert connections["reporting"] is not connections["default"]


def _evaluated_twice():
    from fincrm.evaluation.services import evaluation_run

    evaluation_run(kind="full", as_of=date(2026, 5, 31))
    evaluation_run(kind="full", as_of=date(2026, 6, 30))


@pytest.mark.parametrize("cubed", [False, True], ids=["live", "nightly-cube"])
def test_the_dashboard_reads_its_figures_on_the_replica(kpi_book, users, login, replica, cubed):
    tables = BOOK_TABLES
    if cubed:
        from fincrm.insights.cube import cube_rebuild

        _evaluated_twice()
        cube_rebuild()
        tables = ("customers_customer", "financing_facility", "evaluation_evaluationrun",
                  "insights_monthlybalance", "insights_funnelcount", "insights_migration",
                  "insights_contactcount")  # fmt: skip
    client = login(users["risk"])
    with replica() as seen:
        page = client.get(URL)
    assert page.status_code == 200 and 'id="chart-delinquency"' in page.content.decode()
    for table in tables:
        assert _touching(seen["reporting"], table), table
        assert not _touching(seen["default"], table), table
    # The aggregates themselves (balance by month, staff KPIs...) are among the replica's reads.
    assert any("SUM(" in sql.upper() for sql in seen["reporting"])


def test_the_replica_gives_the_figures_of_the_primary_with_the_same_scoping(
    kpi_book, users, settings, replica
):
    _evaluated_twice()
    filters = Filters.from_query({"from": "2026-01", "to": "2026-06"})
    for who in ("manager_a", "manager_b", "lead", "risk"):
        assert reporting() == "reporting"
        on_replica = dashboard(user=users[who], filters=filters, use_cache=False)
        settings.FINCRM_REPORTING_DATABASE = "default"
        on_primary = dashboard(user=users[who], filters=filters, use_cache=False)
        settings.FINCRM_REPORTING_DATABASE = "reporting"
        assert [f.rows for f in on_replica] == [f.rows for f in on_primary], who
        assert next(f for f in on_replica if f.key == "tier_migration").rows, who
    # Manager A sees the balance of its own facility only (3m CNY = 300 in 10k CNY).
    mine = dashboard(user=users["manager_a"], filters=filters, use_cache=False)
    delinquency = next(f for f in mine if f.key == "delinquency")
    assert sum(r["balance"] for r in delinquency.rows) == pytest.approx(300.0)


def test_logging_an_interaction_and_the_360_page_stay_on_the_primary(
    kpi_book, users, login, replica
):
    firm = kpi_book["a_company"]
    client = login(users["manager_a"])
    with replica() as seen:
        response = client.post(
            reverse("engagement:interaction_add", args=[firm.pk]),
            {"channel": "visit", "subject": "上门回访", "summary": "扩产计划",
             "outcome": "interested"},
        )  # fmt: skip
        page = client.get(firm.get_absolute_url())
    assert response.status_code == 302 and "上门回访" in page.content.decode()
    assert seen["reporting"] == []
    assert _touching(seen["default"], "engagement_interaction")


def test_a_client_read_on_the_replica_is_saved_on_the_primary(kpi_book, replica):
    firm = Customer.objects.using(reporting()).get(pk=kpi_book["a_company"].pk)
    firm.name = "苏州恒瑞精密机械股份有限公司"
    with CaptureQueriesContext(connections["reporting"]) as mirror:
        firm.save(update_fields=["name"])
    assert mirror.captured_queries == []
    assert Customer.objects.get(pk=firm.pk).name == "苏州恒瑞精密机械股份有限公司"


def test_without_a_replica_the_dashboard_reads_the_primary(kpi_book, users, login):
    assert reporting() == "default"
    with CaptureQueriesContext(connections["reporting"]) as mirror:
        page = login(users["risk"]).get(URL)
    assert page.status_code == 200 and mirror.captured_queries == []
