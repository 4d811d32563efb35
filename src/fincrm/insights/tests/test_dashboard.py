from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from fincrm.financing.models import Application, ApplicationStageChange
from fincrm.insights.kpis import Filters, dashboard
from fincrm.service.models import Ticket
from fincrm.testing.factories import ApplicationFactory, FacilityFactory, ProductFactory

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def _at(*args):
    return datetime(*args, tzinfo=TZ)


@pytest.fixture
def kpi_book(book, users):
    from fincrm.engagement.models import Interaction

    for day in (10, 11):
        Interaction.objects.create(
            customer=book["a_company"], channel="phone", subject="回访",
            occurred_at=_at(2026, 3, day), created_by=users["manager_a"],
        )  # fmt: skip
    product = ProductFactory(code="WC01")
    # Funnel: 3 applications in March 2026 reach lead; 2 submitted; 1 disbursed.
    for i, stages in enumerate([["lead", "submitted", "documents", "due_diligence",
                                 "credit_review", "approved", "contract", "disbursed"],
                                ["lead", "submitted"], ["lead"]]):  # fmt: skip
        app = ApplicationFactory(customer=book["a_company"], product=product)
        Application.objects.filter(pk=app.pk).update(created_at=_at(2026, 3, 2 + i))
        for day, stage in enumerate(stages, start=2):
            ApplicationStageChange.objects.create(
                application=app, from_stage="", to_stage=stage, changed_at=_at(2026, 3, day)
            )
    # Delinquency: 8 m normal, 2 m special mention.
    FacilityFactory(customer=book["a_company"], product=product, drawn_amount=Decimal(8_000_000),
                    approved_limit=Decimal(8_000_000),
                    loan_class="normal", start_date=date(2026, 1, 5))  # fmt: skip
    FacilityFactory(customer=book["a_person"], product=product, drawn_amount=Decimal(2_000_000),
                    approved_limit=Decimal(3_000_000),
                    loan_class="special_mention", days_past_due=40,
                    start_date=date(2026, 2, 5))  # fmt: skip
    # Complaints in April: one handled in time, one late.
    for responded in (_at(2026, 4, 1, 10), _at(2026, 4, 9, 10)):
        Ticket.objects.create(
            customer=book["a_company"], channel="phone", subject="s", description="d",
            category="other", opened_at=_at(2026, 4, 1, 9), respond_by=_at(2026, 4, 1, 17),
            resolve_by=_at(2026, 4, 10, 17), responded_at=responded,
            resolved_at=_at(2026, 4, 9, 12), status="closed",
        )  # fmt: skip
    return book


def _figures(user, **query):
    with translation.override("en"):
        filters = Filters.from_query({"from": "2026-01", "to": "2026-06", **query})
        return {f.key: f for f in dashboard(user=user, filters=filters, use_cache=False)}


def test_kpis_match_hand_counts(kpi_book, users):
    figures = _figures(users["manager_a"])
    funnel = {r["stage"]: r for r in figures["conversion"].rows}
    assert funnel["Lead"]["reached"] == 3 and funnel["Submitted"]["reached"] == 2
    assert funnel["Disbursed"]["reached"] == 1
    assert funnel["Submitted"]["conversion_from_previous"] == pytest.approx(200 / 3)
    assert funnel["Submitted"]["median_days_from_previous"] == pytest.approx(1.0)
    classes = {r["loan_class"]: r for r in figures["delinquency"].rows}
    assert classes["Normal"]["share"] == pytest.approx(80.0)
    assert classes["Special mention"]["balance"] == pytest.approx(200.0)  # 10k CNY
    assert "20.0%" in figures["delinquency"].note  # 30+ days past due
    april = next(r for r in figures["complaints"].rows if r["month"] == "2026-04")
    assert (april["opened"], april["resolved"], april["within_sla_rate"]) == (2, 2, 50.0)
    assert figures["staff"].rows[0]["contacts"] == 2
    growth = {r["month"]: r for r in figures["growth"].rows}
    assert growth["2026-01"]["sales"] == pytest.approx(800.0)  # new limits, 10k CNY
    assert growth["2026-02"]["sales"] == pytest.approx(300.0)


def test_each_user_sees_only_their_clients_and_filters_narrow(kpi_book, users):
    assert _figures(users["manager_b"])["conversion"].rows == []
    assert _figures(users["risk"], manager=str(users["manager_b"].pk))["delinquency"].rows == []
    assert _figures(users["risk"], product="NOPE")["delinquency"].rows == []
    assert len(_figures(users["risk"])["delinquency"].rows) == 2


def test_the_page_renders_and_exports_the_table_behind_a_chart(kpi_book, users, login):
    client = login(users["manager_a"])
    url = reverse("insights:dashboard") + "?from=2026-01&to=2026-06"
    page = client.get(url)
    assert page.status_code == 200 and 'id="chart-conversion"' in page.content.decode()
    export = client.get(url + "&export=delinquency")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    # The filters applied on top ("Months 2026-01 – 2026-06"), a blank line, the table.
    assert rows[0][1] == "2026-01 – 2026-06" and not any(rows[1])
    assert len(rows) >= 5 and rows[3][1] == 1  # one normal facility
    assert sheet.freeze_panes == "A4"  # the header stays in view
    assert sheet["B4"].number_format == "#,##0"  # counts without decimals
    assert sheet.column_dimensions["A"].width >= 6
    assert client.get(url + "&export=nope").status_code == 404
    assert login(users["outsider"]).get(url).status_code == 403


def _more_of_the_year(book, users):
    """Surveys, tasks, decisions and renewals in the first half of 2026, for the cube test."""
    from fincrm.engagement.models import Task
    from fincrm.financing.choices import AutoDecision
    from fincrm.testing.factories import InvitationFactory, ResponseFactory, TaskFactory

    product = ProductFactory(code="TL02")
    for i, (nps, rating) in enumerate([(10, 5), (9, 4), (3, 2), (None, 4), (7, None)]):
        invitation = InvitationFactory(customer=book["a_company"], sent_at=_at(2026, 2, 3 + i),
                                       answered_at=_at(2026, 2, 5 + i))  # fmt: skip
        ResponseFactory(invitation=invitation, nps_score=nps, rating=rating)
    InvitationFactory(customer=book["a_person"], sent_at=_at(2026, 3, 1), product=product)
    for due, done in [(date(2026, 5, 10), _at(2026, 5, 9)), (date(2026, 5, 12), _at(2026, 5, 20)),
                      (date(2026, 6, 1), None)]:  # fmt: skip
        task = TaskFactory(customer=book["a_company"], due_on=due)
        Task.objects.filter(pk=task.pk).update(completed_at=done)
    for hours, auto in [(0.0021, AutoDecision.APPROVED), (30.5, ""), (52.25, ""), (3.75, "")]:
        app = ApplicationFactory(customer=book["a_company"], product=product)
        Application.objects.filter(pk=app.pk).update(
            submitted_at=_at(2026, 4, 2, 9), auto_decision=auto,
            decided_at=_at(2026, 4, 2, 9) + timedelta(hours=hours),
        )  # fmt: skip
    # Renewals: one renewed a month before its maturity, one not, one still in its window.
    FacilityFactory(customer=book["a_company"], product=product, start_date=date(2025, 3, 1),
                    maturity_date=date(2026, 3, 1), approved_limit=Decimal(1_000_000),
                    drawn_amount=Decimal(0))  # fmt: skip
    FacilityFactory(customer=book["a_company"], product=product, start_date=date(2026, 2, 1),
                    maturity_date=date(2027, 2, 1), approved_limit=Decimal(1_000_000),
                    drawn_amount=Decimal(0))  # fmt: skip
    FacilityFactory(customer=book["a_person"], product=product, start_date=date(2025, 1, 10),
                    maturity_date=date(2026, 1, 10), approved_limit=Decimal(500_000),
                    drawn_amount=Decimal(0))  # fmt: skip
    FacilityFactory(customer=book["a_person"], product=product, start_date=date(2025, 6, 20),
                    maturity_date=date(2026, 6, 20), approved_limit=Decimal(500_000),
                    drawn_amount=Decimal(0))  # fmt: skip


def test_the_nightly_cube_gives_the_live_figures(kpi_book, users):
    from fincrm.evaluation.models import Classification
    from fincrm.evaluation.services import evaluation_run
    from fincrm.insights.cube import cube_rebuild

    evaluation_run(kind="full", as_of=date(2026, 5, 31))
    evaluation_run(kind="full", as_of=date(2026, 6, 30))
    Classification.objects.filter(customer=kpi_book["a_company"]).update(segments=["growing"])
    _more_of_the_year(kpi_book, users)
    for who in ("manager_a", "risk", "lead"):
        live_segment = _figures(users[who], segment="growing")
        live = _figures(users[who])
        live_product = _figures(users[who], product="WC01")
        early = _figures(users[who], **{"from": "2026-01", "to": "2026-03"})  # ended before
        built = cube_rebuild(built_on=date(2026, 6, 30))
        assert built["funnel_rows"] > 0 and built["kpi_facts"] > 0
        cubed = _figures(users[who])
        cubed_segment = _figures(users[who], segment="growing")
        assert live["tier_migration"].rows, who
        assert set(cubed) == set(live)
        for key in live:  # every figure, from the facts as from the book
            assert cubed[key].rows == live[key].rows, (who, key)
            assert cubed[key].note == live[key].note, (who, key)
            assert cubed_segment[key].rows == live_segment[key].rows, (who, key, "segment")
        assert live_segment["conversion"].rows  # the segment's client has the applications
        narrowed = _figures(users[who], product="WC01", tier="core")
        assert narrowed["conversion"].rows == [] or who == "risk"
        for key, figure in _figures(users[who], product="WC01").items():
            assert figure.rows == live_product[key].rows, (who, key, "product")
        assert _figures(users[who], **{"from": "2026-01", "to": "2026-03"}) == early, who
        from fincrm.insights.models import (
            ContactCount,
            FunnelCount,
            FunnelDuration,
            KpiFact,
            Migration,
            MonthlyBalance,
        )

        cubes = (FunnelCount, FunnelDuration, MonthlyBalance, Migration, ContactCount, KpiFact)
        for model in cubes:
            model.objects.all().delete()


def test_an_export_is_named_by_its_chart_in_the_readers_language(kpi_book, users, login):
    client = login(users["manager_a"])
    url = (
        reverse("insights:dashboard")
        + "?from=2026-01&to=2026-06&team="
        + str(users["manager_a"].team_id)
    )
    sheet = load_workbook(BytesIO(client.get(url + "&export=delinquency").content)).active
    assert sheet.title == "逾期与五级分类"  # the chart's title, not the code "delinquency"
    rows = list(sheet.iter_rows(values_only=True))
    assert ("团队", "华东一组") in [row[:2] for row in rows[:3]]  # the filters on top
    header = rows.index(next(r for r in rows if r[0] == "五级分类"))
    assert sheet.freeze_panes == f"A{header + 2}"
