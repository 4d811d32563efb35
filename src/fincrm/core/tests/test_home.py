"""A home page per role: the service agent's queue by SLA, the risk officer's alerts,
proposals and reviews due, the others their book."""

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
    assert page.templates[0].name == "core/home_agent.html"
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
    assert page.templates[0].name == "core/home_risk.html"
    ctx = page.context
    assert (ctx["alert_count"], ctx["critical_count"]) == (1, 1)
    assert ctx["proposal_count"] == 1
    assert (ctx["review_count"], ctx["overdue_review_count"]) == (1, 1)
    html = page.content.decode()
    assert book["a_company"].name in html and "逾期90天以上" in html


def test_managers_keep_their_book_on_the_workbench(book, users, login):
    page = login(users["manager_a"]).get(reverse("home"))
    assert page.templates[0].name == "core/home.html"


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
