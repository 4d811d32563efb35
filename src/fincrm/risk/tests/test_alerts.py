from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from fincrm.engagement.choices import NotificationKind
from fincrm.engagement.models import Notification, Task
from fincrm.evaluation.choices import RunKind
from fincrm.evaluation.services import evaluation_run
from fincrm.financing.models import Facility
from fincrm.financing.services import facility_refresh_delinquency
from fincrm.risk.choices import AlertStatus
from fincrm.risk.models import Alert, ControlProposal, CreditAssessment, Review

from .conftest import AS_OF

pytestmark = pytest.mark.django_db


def test_a_missed_payment_reaches_the_owners_inbox_once(late_facility, book, users, login):
    facility = late_facility(days_late=35)
    facility_refresh_delinquency(facility=facility, as_of=AS_OF)
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)

    alert = Alert.objects.get(customer=book["a_company"], signal="current_dpd")
    assert alert.assigned_to == users["manager_a"]
    assert alert.severity == "medium"  # dpd_30 escalates over dpd_1 and dpd_15: one alert
    assert alert.value >= 30
    assert Notification.objects.filter(
        recipient=users["manager_a"], kind=NotificationKind.ALERT
    ).exists()

    page = login(users["manager_a"]).get(reverse("risk:alerts")).content.decode()
    assert book["a_company"].name in page
    page = login(users["manager_b"]).get(reverse("risk:alerts")).content.decode()
    assert book["a_company"].name not in page

    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    assert Alert.objects.filter(customer=book["a_company"], signal="current_dpd").count() == 1


def test_a_critical_alert_also_reaches_the_risk_officers(late_facility, book, users):
    late_facility(days_late=100)
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)

    alert = Alert.objects.get(customer=book["a_company"], signal="current_dpd")
    assert alert.severity == "critical"
    recipients = set(
        Notification.objects.filter(
            kind=NotificationKind.ALERT, customer=book["a_company"]
        ).values_list("recipient__username", flat=True)
    )
    assert recipients == {"manager_a", "risk"}


def test_closing_an_alert_needs_a_resolution(late_facility, book, users, login):
    late_facility(days_late=35)
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    alert = Alert.objects.get(customer=book["a_company"], signal="current_dpd")
    client = login(users["manager_a"])
    url = reverse("risk:alert_action", args=[alert.pk])

    client.post(url, {"action": "close", "resolution": " "})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    client.post(url, {"action": "close", "resolution": "客户已还款"})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    assert login(users["manager_b"]).post(url, {"action": "ack"}).status_code == 404


def test_every_client_is_assessed_and_scheduled_for_review(book):
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    assert CreditAssessment.objects.count() == 4
    assert set(CreditAssessment.objects.values_list("method", flat=True)) == {"expert"}
    assert Review.objects.filter(status="scheduled").count() == 4
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    assert Review.objects.filter(status="scheduled").count() == 4


def test_a_grade_change_proposes_new_controls_for_a_risk_officer(late_facility, book, users, login):
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    before = CreditAssessment.objects.filter(customer=book["a_company"]).first().grade
    late_facility(days_late=100)
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    after = CreditAssessment.objects.filter(customer=book["a_company"]).first().grade
    assert before != after

    proposal = ControlProposal.objects.get(customer=book["a_company"])
    assert (proposal.from_grade, proposal.to_grade, proposal.status) == (before, after, "pending")
    assert "max_tenor_months" in proposal.controls
    url = reverse("risk:proposal_decide", args=[proposal.pk])
    assert login(users["manager_a"]).post(url, {"decision": "approve"}).status_code == 403
    login(users["risk"]).post(url, {"decision": "approve", "note": "同意"})
    proposal.refresh_from_db()
    assert proposal.status == "approved" and proposal.decided_by == users["risk"]
    assert proposal.history.count() >= 2  # audited: created, then decided
    # Approval made the controls the facility's terms: limit capped at the grade's multiple
    # of revenue (never below what is drawn), controls recorded, audited with the reason.
    facility = Facility.objects.get(customer=book["a_company"])
    cap = (
        Decimal(str(proposal.controls["limit_revenue_multiple"])) * book["a_company"].annual_revenue
    )
    assert facility.approved_limit == max(facility.drawn_amount, min(Decimal("3000000"), cap))
    assert facility.risk_controls["grade"] == after
    assert facility.risk_controls["pricing_spread_bp"] == proposal.controls["pricing_spread_bp"]
    record = facility.history.first()
    assert record.history_user == users["risk"]
    assert record.history_change_reason == f"control proposal #{proposal.pk} approved"


def test_a_risk_officer_completes_a_review(book, users, login):
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    review = Review.objects.get(customer=book["a_company"])
    url = reverse("risk:review_complete", args=[review.pk])
    assert login(users["manager_a"]).post(url, {"decision": "keep"}).status_code == 403
    first = CreditAssessment.objects.filter(customer=book["a_company"]).first()
    login(users["risk"]).post(url, {"decision": "tighten", "notes": "增加保证"})
    review.refresh_from_db()
    assert (review.status, review.decision, review.officer) == ("done", "tighten", users["risk"])
    # The client was re-scored for the review, and its next review is scheduled.
    assert review.assessment is not None and review.assessment.pk > first.pk
    assert Review.objects.filter(customer=book["a_company"], status="scheduled").count() == 1


def test_a_review_falling_due_asks_the_owner_for_updated_statements(book, users):
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    review = Review.objects.get(customer=book["a_company"])
    Review.objects.filter(pk=review.pk).update(due_on=AS_OF + timedelta(days=10))
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)  # no second task

    tasks = Task.objects.filter(customer=book["a_company"], source_key="review:statements")
    assert tasks.count() == 1
    task = tasks.get()
    assert (task.owner, task.kind, task.due_on) == (
        users["manager_a"],
        "review",
        AS_OF + timedelta(days=3),
    )
    assert not Task.objects.filter(customer=book["b_company"], source_key="review:statements")


def test_the_risk_pages_render_for_each_role(book, users, login):
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    for who in ("manager_a", "lead", "risk", "exec"):
        client = login(users[who])
        for name in ("risk:alerts", "risk:proposals", "risk:reviews", "risk:portfolio"):
            assert client.get(reverse(name)).status_code == 200, (who, name)
    page = login(users["risk"]).get(reverse("risk:portfolio")).content.decode()
    assert 'id="expert-fallback"' in page


def test_the_360_page_shows_ratios_with_na_and_the_grade(book, users, login):
    from fincrm.testing.factories import StatementFactory

    StatementFactory(customer=book["a_company"], inventory=0, interest_expense=0)
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    page = login(users["manager_a"]).get(book["a_company"].get_absolute_url()).content.decode()
    assert 'id="credit-grade"' in page
    assert 'id="ratios"' in page and "n/a" in page


def test_alerts_are_routed_by_severity_and_emailed_once_per_person(
    late_facility, book, users, mailoutbox
):
    from fincrm.evaluation.tasks import send_alert_emails

    users["lead"].email, users["risk"].email = "lead@example.cn", "risk@example.cn"
    users["lead"].save()
    users["risk"].save()
    late_facility(days_late=65)  # high: the lead of the client's team (up the tree)
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    high = Alert.objects.get(customer=book["a_company"], signal="current_dpd")
    assert (high.severity, high.assigned_to) == ("high", users["lead"])
    notified = set(
        Notification.objects.filter(
            customer=book["a_company"], kind=NotificationKind.ALERT
        ).values_list("recipient__username", flat=True)
    )
    assert notified == {"lead", "manager_a"}  # the owner is always told

    sent = send_alert_emails.call(list(Alert.objects.values_list("pk", flat=True)))
    assert sent == len(mailoutbox) >= 1
    lead_mail = [m for m in mailoutbox if m.to == ["lead@example.cn"]]
    assert len(lead_mail) == 1 and book["a_company"].name in lead_mail[0].body


def test_an_alert_moves_through_its_workflow_with_an_action_plan_and_tasks(
    late_facility, book, users, login
):
    late_facility(days_late=35)
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    alert = Alert.objects.get(customer=book["a_company"], signal="current_dpd")
    url = reverse("risk:alert_action", args=[alert.pk])
    client = login(users["manager_a"])

    client.post(url, {"action": "start", "text": ""})  # no plan, no start
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    client.post(url, {"action": "start", "text": "上门核实经营情况，协商还款计划"})
    client.post(url, {"action": "task", "text": "上门拜访财务总监", "due_on": "2026-07-05"})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.IN_PROGRESS and alert.acknowledged_by == users["manager_a"]
    task = Task.objects.get(source_key=f"alert:{alert.pk}:1")
    assert (task.owner, task.customer, str(task.due_on)) == (
        users["manager_a"],
        book["a_company"],
        "2026-07-05",
    )
    inbox = client.get(reverse("risk:alerts")).content.decode()
    assert "上门核实经营情况" in inbox and "上门拜访财务总监" in inbox

    client.post(url, {"action": "dismiss", "text": ""})  # a dismissal needs its reason
    alert.refresh_from_db()
    assert alert.status == AlertStatus.IN_PROGRESS
    client.post(url, {"action": "dismiss", "text": "系统还款日期录入错误"})
    alert.refresh_from_db()
    assert (alert.status, alert.closed_by, alert.resolution) == (
        AlertStatus.DISMISSED,
        users["manager_a"],
        "系统还款日期录入错误",
    )
    # Every human step is audited, with who did it.
    steps = list(alert.history.order_by("history_date").values_list("status", "history_user"))
    assert steps == [("in_progress", users["manager_a"].pk), ("dismissed", users["manager_a"].pk)]
    assert book["a_company"].name not in client.get(reverse("risk:alerts")).content.decode()


def test_two_complaints_in_ninety_days_raise_the_complaints_alert(book, users):
    from datetime import datetime

    from django.utils import timezone as tz

    from fincrm.engagement.models import Interaction
    from fincrm.testing.factories import FacilityFactory

    firm = book["b_company"]
    FacilityFactory(customer=firm, start_date=AS_OF - timedelta(days=100))  # a borrower

    def days_before(n):
        return tz.make_aware(datetime.combine(AS_OF - timedelta(days=n), datetime.min.time()))

    for day in (5, 40):
        Interaction.objects.create(
            customer=firm, channel="phone", subject="投诉：放款延迟", outcome="issue_raised",
            occurred_at=days_before(day),
        )  # fmt: skip
    Interaction.objects.create(  # too old to count
        customer=book["a_company"], channel="phone", subject="投诉", outcome="issue_raised",
        occurred_at=days_before(120),
    )  # fmt: skip

    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    alert = Alert.objects.get(signal="complaints_90d")
    assert (alert.customer, alert.value, alert.assigned_to) == (firm, 2.0, users["manager_b"])
