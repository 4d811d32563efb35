"""The monthly scorecard: the selector's measures on a small book in a fixed month, the scope
of each role, the page on the KPI pages and its Excel export."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from fincrm.service.choices import TicketKind
from fincrm.staff import selectors
from fincrm.testing.factories import (
    CustomerFactory,
    FacilityFactory,
    InstallmentFactory,
    InteractionFactory,
    InvitationFactory,
    ResponseFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
MAY = date(2026, 5, 1)


def _at(day: int, month: int = 5) -> datetime:
    return datetime(2026, month, day, 10, 0, tzinfo=SH)


@pytest.fixture
def may_book(users):
    """manager_a's May: three contacts (one more in April, one on June 1st at 00:30), a
    facility booked on May 10th (limit 1,000,000, drawn 400,000, nothing due yet) beside one
    from January (drawn 600,000) with an instalment due on April 20th still unpaid on May 31st
    (41 days), a complaint and a request, two survey answers (NPS 10 and 6, ratings 5 and 3)
    and one invitation not answered. manager_b: nothing in May."""
    a = users["manager_a"]
    client = CustomerFactory(owner=a)
    for day in (2, 15, 31):
        InteractionFactory(customer=client, occurred_at=_at(day), created_by=a)
    InteractionFactory(customer=client, occurred_at=_at(30, 4), created_by=a)
    InteractionFactory(customer=client, occurred_at=datetime(2026, 6, 1, 0, 30, tzinfo=SH),
                       created_by=a)  # fmt: skip
    old = FacilityFactory(customer=client, start_date=date(2026, 1, 10),
                          drawn_amount=Decimal("600000"))  # fmt: skip
    InstallmentFactory(facility=old, due_date=date(2026, 4, 20))
    new = FacilityFactory(
        customer=client, start_date=date(2026, 5, 10), approved_limit=Decimal("1000000"),
        drawn_amount=Decimal("400000"),
    )  # fmt: skip
    InstallmentFactory(facility=new, due_date=date(2026, 6, 10))
    TicketFactory(customer=client, opened_at=_at(20))
    TicketFactory(customer=client, opened_at=_at(21), kind=TicketKind.REQUEST)
    TicketFactory(customer=client, opened_at=_at(20, 4))
    for nps, rating in ((10, 5), (6, 3)):
        invitation = InvitationFactory(customer=client, sent_at=_at(5), answered_at=_at(6))
        ResponseFactory(invitation=invitation, nps_score=nps, rating=rating)
    InvitationFactory(customer=client, sent_at=_at(5))
    return client


def test_the_months_measures_from_the_book(users, may_book):
    a, b = users["manager_a"], users["manager_b"]
    frame = selectors.staff_measures([a.pk, b.pk], MAY)
    rows = {row["staff_id"]: row for row in frame.iter_rows(named=True)}
    mine = rows[a.pk]
    assert mine["contacts"] == 3
    assert mine["complaints"] == 1
    assert (mine["new_facilities"], mine["new_amount"]) == (1, 1_000_000)
    assert mine["dpd30_share"] == pytest.approx(0.6)  # 600,000 of 1,000,000 drawn
    assert (mine["nps"], mine["csat"]) == (0.0, 50.0)  # one promoter, one detractor; 1 of 2
    assert (mine["nps_responses"], mine["csat_responses"]) == (2, 2)
    theirs = rows[b.pk]
    assert (theirs["contacts"], theirs["complaints"], theirs["new_facilities"]) == (0, 0, 0)
    assert theirs["nps"] is None and theirs["dpd30_share"] is None


def test_a_month_earlier_the_book_was_not_yet_late(users, may_book):
    april = selectors.staff_measures([users["manager_a"].pk], date(2026, 4, 1)).row(0, named=True)
    # On April 30th the April 20th instalment is 10 days late: below 30.
    assert april["dpd30_share"] == 0.0
    assert april["contacts"] == 1 and april["complaints"] == 1 and april["nps"] is None


def _rows(user, month="2026-05") -> list:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("staff:scorecard"), {"month": month})
    assert response.status_code == 200
    return response.context["card"].rows


def test_each_role_sees_its_scope(users, may_book):
    assert [r["person"].username for r in _rows(users["manager_a"])] == ["manager_a"]
    assert {r["person"].username for r in _rows(users["lead"])} == {"manager_a", "lead"}
    everyone = {r["person"].username for r in _rows(users["exec"])}
    assert {"manager_a", "manager_b", "lead"} <= everyone
    assert {r["person"].username for r in _rows(users["admin"])} == everyone
    for role in ("risk", "agent", "outsider"):
        client = Client()
        client.force_login(users[role])
        assert client.get(reverse("staff:scorecard")).status_code == 403, role


def test_the_score_follows_the_policy(users, may_book):
    row = next(r for r in _rows(users["manager_a"]))
    # Default scheme: contacts 3/40, NPS 0/40, CSAT 50/85, 1 of 2 facilities, 1.0m of 5m,
    # 30+ DPD 60% against 3% (2 − 20 → 0), one complaint against one (on target).
    expected = 100 * (0.20 * 3 / 40 + 0.10 * 0 + 0.10 * 50 / 85 + 0.15 * 0.5 + 0.15 * 0.2
                      + 0.20 * 0 + 0.10 * 1)  # fmt: skip
    assert row["score"] == pytest.approx(expected)
    assert row["complaints_points"] == pytest.approx(10.0)


def test_the_scorecard_exports_to_excel(users, may_book):
    client = Client()
    client.force_login(users["lead"])
    response = client.get(reverse("staff:scorecard"), {"month": "2026-05", "export": "1"})
    assert response.status_code == 200
    assert 'filename="fincrm-scorecard-2026-05.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    assert [sheet["A1"].value, sheet["B1"].value] == ["月份", "2026-05"]  # the reader's language
    header = [c.value for c in sheet[3]]
    assert header[:3] == ["员工", "团队", "评分"]
    assert sheet.freeze_panes == "A4"
    body = {row[0]: row for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert set(body) == {users["manager_a"].get_full_name() or "manager_a",
                         users["lead"].get_full_name() or "lead"}  # fmt: skip
    mine = body[users["manager_a"].get_full_name() or "manager_a"]
    share = header.index("逾期30天以上余额占比 %")
    assert mine[share] == pytest.approx(0.6)
    assert sheet.cell(row=4, column=share + 1).number_format == "0.0%"


def test_the_kpi_dashboard_links_the_scorecard(users, clock):
    client = Client()
    client.force_login(users["manager_a"])
    page = client.get(reverse("insights:dashboard")).content.decode()
    assert reverse("staff:scorecard") in page


def test_the_staff_kpis_carry_nps_and_csat_by_manager(users, may_book):
    from fincrm.insights.kpis import Filters, dashboard

    filters = Filters.from_query({"from": "2026-05", "to": "2026-05"})
    figures = {f.key: f for f in dashboard(user=users["lead"], filters=filters, use_cache=False)}
    staff = figures["staff"]
    assert {"nps", "csat"} <= {column for column, _label in staff.columns}
    row = next(r for r in staff.rows if r["contacts"] == 3)  # manager_a's May
    assert (row["nps"], row["csat"]) == (0.0, 50.0)
