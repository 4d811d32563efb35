"""A home page per role: the service agent's queue by SLA, the risk officer's alerts,
proposals and reviews due, the others their book."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fincrm.risk.models import Alert, ControlProposal, Review
from fincrm.service.choices import TicketCategory, TicketKind
from fincrm.service.models import Ticket

pytestmark = pytest.mark.django_db


def _ticket(customer, *, subject, resolve_in_hours):
    now = timezone.now()
    return Ticket.objects.create(
        customer=customer,
        kind=TicketKind.COMPLAINT,
        channel="phone",
        subject=subject,
        description="客户来电",
        category=TicketCategory.FEES,
        opened_at=now - timedelta(hours=2),
        respond_by=now + timedelta(hours=1),
        resolve_by=now + timedelta(hours=resolve_in_hours),
    )


def test_the_service_agents_workbench_is_the_queue_by_sla(book, users, login):
    late = _ticket(book["a_company"], subject="手续费多收", resolve_in_hours=-1)
    calm = _ticket(book["b_person"], subject="开具结清证明", resolve_in_hours=72)
    page = login(users["agent"]).get(reverse("home"))
    assert page.templates[0].name == "web/home_agent.html"
    tickets = list(page.context["tickets"])
    assert tickets == [late, calm]  # breached first
    html = page.content.decode()
    assert "手续费多收" in html and "已超时" in html
    assert "Facilities past due" not in html and 'id="sla-counts"' in html


def test_the_risk_officers_workbench_shows_alerts_proposals_and_reviews_due(
    book, users, login, clock
):
    today = timezone.localdate()
    Alert.objects.create(customer=book["a_company"], rule_code="dpd_90", signal="current_dpd",
                         value=95, threshold=90, severity="critical", raised_on=today)  # fmt: skip
    ControlProposal.objects.create(customer=book["b_company"], to_grade="BB",
                                   controls={"max_tenor_months": 12})  # fmt: skip
    Review.objects.create(customer=book["a_person"], due_on=today - timedelta(days=3),
                          frequency="yearly", grade="A")  # fmt: skip
    Review.objects.create(
        customer=book["b_person"], due_on=date(2027, 6, 1), frequency="yearly", grade="A"
    )  # fmt: skip — not due for a year
    page = login(users["risk"]).get(reverse("home"))
    assert page.templates[0].name == "web/home_risk.html"
    ctx = page.context
    assert (ctx["alert_count"], ctx["critical_count"]) == (1, 1)
    assert ctx["proposal_count"] == 1
    assert (ctx["review_count"], ctx["overdue_review_count"]) == (1, 1)
    html = page.content.decode()
    assert book["a_company"].name in html and "逾期90天以上" in html


def test_managers_keep_their_book_on_the_workbench(book, users, login):
    page = login(users["manager_a"]).get(reverse("home"))
    assert page.templates[0].name == "web/home.html"


def test_proposals_name_the_security_and_review_frequency(book, users, login):
    ControlProposal.objects.create(
        customer=book["b_company"],
        to_grade="BB",
        controls={"limit_revenue_multiple": 0.3, "max_tenor_months": 12, "pricing_spread_bp": 250,
                  "guarantee": "guarantee_and_collateral", "margin_ratio": 0.2,
                  "review_frequency": "half_yearly"},
    )  # fmt: skip
    html = login(users["risk"]).get(reverse("risk:proposals")).content.decode()
    assert "担保加抵质押" in html and "每半年" in html
    assert "guarantee_and_collateral" not in html and "half_yearly" not in html


# --- account managers, team leads and executives (issue 19, point 5) ---------------------------


def _installment(facility, number, due, *, principal="100000", interest="5000", paid=None):
    from decimal import Decimal

    from fincrm.financing.models import Installment

    return Installment.objects.create(
        facility=facility, number=number, due_date=due, principal_due=Decimal(principal),
        interest_due=Decimal(interest), paid_off_on=paid,
    )  # fmt: skip


def _task(customer, owner, due, title, status="open"):
    from fincrm.engagement.models import Task

    return Task.objects.create(customer=customer, owner=owner, kind="follow_up", title=title,
                               due_on=due, status=status)  # fmt: skip


@pytest.fixture
def small_book(book, users, clock):
    """Tasks, instalments, alerts and arrears on both sides of the book, dated from today."""
    from decimal import Decimal

    from fincrm.testing.factories import FacilityFactory

    today = timezone.localdate()
    a, b = users["manager_a"], users["manager_b"]
    tasks = {
        "late": _task(book["a_company"], a, today - timedelta(days=2), "催收回访"),
        "today": _task(book["a_person"], a, today, "续贷面谈"),
        "later": _task(book["a_company"], a, today + timedelta(days=1), "寄送合同"),
        "done": _task(book["a_company"], a, today, "已完成", status="done"),
        "b_late": _task(book["b_company"], b, today - timedelta(days=5), "乙方回访"),
    }
    late = FacilityFactory(
        customer=book["a_company"], days_past_due=40, loan_class="special_mention",
        start_date=today - timedelta(days=200),
    )  # fmt: skip
    current = FacilityFactory(customer=book["a_person"], start_date=today - timedelta(days=100))
    b_facility = FacilityFactory(customer=book["b_company"], days_past_due=10,
                                 start_date=today - timedelta(days=100))  # fmt: skip
    installments = {
        # arrears of a: 100,000 + 5,000 - 5,000 paid = 100,000
        "arrear": _installment(late, 1, today - timedelta(days=40)),
        "soon": _installment(
            current, 1, today + timedelta(days=3), principal="80000", interest="4000"
        ),
        "beyond": _installment(current, 2, today + timedelta(days=10)),
        "paid": _installment(current, 3, today + timedelta(days=2), paid=today),
        "b_soon": _installment(b_facility, 1, today + timedelta(days=1)),
        "b_arrear": _installment(
            b_facility, 2, today - timedelta(days=10), principal="7000", interest="0"
        ),
    }
    from fincrm.financing.models import Installment

    Installment.objects.filter(pk=installments["arrear"].pk).update(amount_paid=Decimal(5000))
    alert = dict(signal="current_dpd", value=41, threshold=30, raised_on=today)
    alerts = {
        "mine": Alert.objects.create(
            customer=book["a_company"], rule_code="dpd_30", severity="high", assigned_to=a, **alert
        ),
        "closed": Alert.objects.create(
            customer=book["a_company"],
            rule_code="dpd_30",
            severity="critical",
            assigned_to=a,
            status="resolved",
            **alert,
        ),
        "others": Alert.objects.create(
            customer=book["b_company"],
            rule_code="dpd_30",
            severity="critical",
            assigned_to=b,
            **alert,
        ),
    }
    return {"tasks": tasks, "installments": installments, "alerts": alerts}


def test_an_account_managers_workbench_has_todays_tasks_dues_and_alerts(small_book, users, login):
    from decimal import Decimal

    page = login(users["manager_a"]).get(reverse("home"))
    assert page.templates[0].name == "web/home.html"
    ctx = page.context
    tasks = small_book["tasks"]
    assert list(ctx["due_tasks"]) == [tasks["late"], tasks["today"]]  # overdue first
    assert ctx["due_task_count"] == 2 and ctx["overdue_task_count"] == 1
    assert list(ctx["installments"]) == [small_book["installments"]["soon"]]
    assert ctx["installment_count"] == 1
    assert list(ctx["alerts"]) == [small_book["alerts"]["mine"]] and ctx["alert_count"] == 1
    assert ctx["overdue_facility_count"] == 1 and ctx["arrears_amount"] == Decimal(100_000)
    html = page.content.decode()
    assert "续贷面谈" in html and "寄送合同" not in html and "乙方回访" not in html
    assert "8.4 万元" in html  # the instalment due: 80,000 + 4,000
    assert 'id="home-installments"' in html and 'id="home-alerts"' in html


def test_a_team_leads_workbench_is_the_teams_pipeline_overdue_tasks_and_arrears(
    small_book, book, users, login
):
    from decimal import Decimal

    from fincrm.testing.factories import ApplicationFactory

    for stage in ("lead", "documents", "documents", "credit_review", "rejected"):
        ApplicationFactory(customer=book["a_company"], stage=stage)
    ApplicationFactory(customer=book["b_company"], stage="documents")  # another team's
    page = login(users["lead"]).get(reverse("home"))
    assert page.templates[0].name == "web/home_lead.html"
    ctx = page.context
    pipeline = {code: n for code, _label, n in ctx["pipeline"]}
    assert pipeline == {"lead": 1, "submitted": 0, "documents": 2, "due_diligence": 0,
                        "credit_review": 1, "approved": 0, "contract": 0}  # fmt: skip
    assert ctx["open_application_count"] == 4
    assert list(ctx["overdue_tasks"]) == [small_book["tasks"]["late"]]  # not the other team's
    assert ctx["overdue_by_owner"] == [(users["manager_a"], 1)]
    assert ctx["overdue_facility_count"] == 1 and ctx["arrears_amount"] == Decimal(100_000)
    html = page.content.decode()
    assert "资料收集" in html and "催收回访" in html and "乙方回访" not in html
    assert "documents" not in html.replace("?stage=documents", "")


def test_an_executives_workbench_shows_the_kpis_of_the_dashboard(small_book, users, login):
    from fincrm.insights import kpis
    from fincrm.web.views import EXEC_KPIS

    page = login(users["exec"]).get(reverse("home"))
    assert page.templates[0].name == "web/home_exec.html"
    figures = {
        f.key: f
        for f in kpis.dashboard(user=users["exec"], filters=kpis.Filters.from_query({}),
                                use_cache=False)
    }  # fmt: skip
    tiles = {t["key"]: t for t in page.context["tiles"]}
    balance = next(r for r in reversed(figures["growth"].rows) if r["balance"] is not None)
    assert tiles["growth-balance"]["value"] == balance["balance"]
    assert set(tiles) == {f"{key}-{column}" for key, column in EXEC_KPIS}
    assert tiles["growth-balance"]["when"] == balance["month"]
    html = page.content.decode()
    assert "逾期30天以上" in html or figures["delinquency"].note in html
    assert 'id="kpi-growth-balance"' in html


def test_every_role_has_its_workbench_and_no_raw_codes(small_book, users, login):
    expected = {"manager_a": "web/home.html", "lead": "web/home_lead.html",
                "risk": "web/home_risk.html", "agent": "web/home_agent.html",
                "exec": "web/home_exec.html", "admin": "web/home.html"}  # fmt: skip
    for role, template in expected.items():
        page = login(users[role]).get(reverse("home"))
        assert page.status_code == 200 and page.templates[0].name == template, role
        text = re.sub(r"<[^>]+>", " ", page.content.decode())  # what the reader sees
        assert "special_mention" not in text and "follow_up" not in text, role
