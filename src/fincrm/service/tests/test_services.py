from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from fincrm.engagement.models import Notification, Task
from fincrm.service import services
from fincrm.service.choices import TicketStatus
from fincrm.service.models import Ticket
from fincrm.surveys.models import Invitation, Survey

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def _open(customer, **kwargs):
    defaults = {
        "subject": "放款太慢",
        "description": "审批进度拖延了两周，一直没有放款",
        "channel": "phone",
        "severity": "medium",
    }
    return services.ticket_open(customer=customer, **{**defaults, **kwargs})


def test_a_complaint_gets_its_category_from_the_text_and_deadlines_from_the_policy(book):
    # Friday 17:30: the medium SLA (8 working hours to respond, 40 to resolve) skips the weekend.
    opened = datetime(2026, 11, 20, 17, 30, tzinfo=TZ)
    ticket = _open(book["a_company"], opened_at=opened)
    assert ticket.category == "processing_speed"
    assert ticket.suggestion_source == "rules"
    assert ticket.assignee == book["a_company"].owner
    assert ticket.respond_by.astimezone(TZ) == datetime(2026, 11, 23, 16, 30, tzinfo=TZ)
    # 0.5 h on Friday + 4 × 9 h Mon–Thu + 3.5 h on Friday (working day 9:00–18:00).
    assert ticket.resolve_by.astimezone(TZ) == datetime(2026, 11, 27, 12, 30, tzinfo=TZ)


def test_a_given_category_wins_over_the_suggestion(book):
    ticket = _open(book["a_company"], category="fees")
    assert (ticket.category, ticket.suggested_category) == ("fees", "processing_speed")


def test_the_categoriser_learns_from_past_tickets(book):
    # 24 past tickets labelled "documents" whose words no rule knows.
    for i in range(24):
        Ticket.objects.create(
            customer=book["a_company"], channel="phone", subject=f"盖章问题{i}",
            description="公章 盖章 用印 流程 繁琐", category="documents",
            respond_by=datetime(2026, 1, 1, tzinfo=TZ), resolve_by=datetime(2026, 1, 2, tzinfo=TZ),
        )  # fmt: skip
    for i in range(24):
        Ticket.objects.create(
            customer=book["a_company"], channel="phone", subject=f"利率{i}",
            description="利率 太高 费用 不透明", category="fees",
            respond_by=datetime(2026, 1, 1, tzinfo=TZ), resolve_by=datetime(2026, 1, 2, tzinfo=TZ),
        )  # fmt: skip
    ticket = _open(book["a_company"], subject="用印", description="盖章 用印 流程 太繁琐")
    assert (ticket.category, ticket.suggestion_source) == ("documents", "model")


def test_closing_needs_a_resolution_then_schedules_the_follow_up_and_survey(book, users):
    survey = Survey.objects.create(name="投诉回访满意度", trigger="complaint_closed")
    survey.questions.create(kind="rating", text="处理满意度", position=1, is_overall=True)
    ticket = _open(book["a_company"])
    with pytest.raises(ValidationError):
        services.ticket_close(ticket=ticket, user=users["agent"])
    services.ticket_resolve(
        ticket=ticket, user=users["agent"], resolution="加急放款", root_cause="process"
    )
    services.ticket_close(ticket=ticket, user=users["agent"])
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None
    task = Task.objects.get(source_key=f"ticket:{ticket.pk}")
    assert (task.owner, task.kind) == (users["manager_a"], "visit")
    assert Invitation.objects.filter(survey=survey, customer=book["a_company"]).count() == 1
    with pytest.raises(ValidationError):
        services.ticket_respond(ticket=ticket, user=users["agent"])


def test_a_breached_ticket_is_escalated_once_to_the_team_lead(book, users):
    ticket = _open(book["a_company"], opened_at=datetime(2026, 11, 2, 9, tzinfo=TZ))
    now = datetime(2026, 11, 10, 9, tzinfo=TZ)
    assert services.ticket_state(ticket, now) == "breached"
    assert services.tickets_escalate(now=now) == 1
    assert services.tickets_escalate(now=now) == 0
    ticket.refresh_from_db()
    assert ticket.escalated_to == users["lead"]
    assert Notification.objects.filter(recipient=users["lead"], kind="sla_breached").exists()
    assert Task.objects.get(source_key=f"escalation:{ticket.pk}").owner == users["lead"]


def test_satisfaction_only_after_closing_and_only_1_to_5(book, users):
    ticket = _open(book["a_company"])
    with pytest.raises(ValidationError):
        services.ticket_rate(ticket=ticket, satisfaction=5)
    services.ticket_resolve(ticket=ticket, user=users["agent"], resolution="x", root_cause="staff")
    services.ticket_close(ticket=ticket, user=users["agent"])
    with pytest.raises(ValidationError):
        services.ticket_rate(ticket=ticket, satisfaction=9)
    assert services.ticket_rate(ticket=ticket, satisfaction=4).satisfaction == 4


def test_an_agent_handles_any_ticket_a_manager_only_their_clients(book, users, login):
    mine, theirs = _open(book["a_company"]), _open(book["b_company"])
    assert login(users["agent"]).get(theirs.get_absolute_url()).status_code == 200
    manager = login(users["manager_a"])
    assert manager.get(mine.get_absolute_url()).status_code == 200
    assert manager.get(theirs.get_absolute_url()).status_code == 404
    response = manager.post(reverse("service:action", args=[theirs.pk, "respond"]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.responded_at is None
    page = manager.get(reverse("service:list")).content.decode()
    assert mine.subject in page and str(theirs.get_absolute_url()) not in page
    assert login(users["outsider"]).get(mine.get_absolute_url()).status_code == 404


def test_staff_log_a_complaint_from_the_client_page(book, users, login):
    client = login(users["agent"])
    url = reverse("service:create", args=[book["b_person"].pk])
    response = client.post(
        url,
        {"kind": "complaint", "channel": "wechat", "severity": "high",
         "subject": "扣款错误", "description": "还款日重复扣款，要求退还"},
    )  # fmt: skip
    ticket = Ticket.objects.get(customer=book["b_person"])
    assert response.status_code == 302 and ticket.category == "repayment"
    assert login(users["exec"]).get(url).status_code == 403


def test_the_monthly_report_counts_categories_by_root_cause(book, users, login):
    opened = datetime(2026, 10, 12, 10, tzinfo=TZ)
    for cause in ("process", "process", "staff"):
        t = _open(book["a_company"], opened_at=opened)
        services.ticket_resolve(ticket=t, user=users["agent"], resolution="ok", root_cause=cause)
    _open(book["a_company"], subject="收费高", description="手续费太高", opened_at=opened)
    report = services_report(users["agent"], "2026-10")
    rows = {r["category"]: r for r in report["rows"]}
    speed = rows["Processing speed"]
    assert speed["total"] == 3
    causes = report["causes"]
    assert speed["counts"][causes.index("Process design")] == 2
    assert speed["counts"][causes.index("Staff conduct or skill")] == 1
    assert rows["Fees and pricing"]["counts"][0] == 1  # no root cause yet
    page = login(users["agent"]).get(reverse("service:report") + "?month=2026-10")
    assert page.status_code == 200


def services_report(user, month):
    from datetime import date

    from django.utils import translation

    from fincrm.service.selectors import monthly_report

    with translation.override("en"):
        report = monthly_report(user=user, month=date.fromisoformat(month + "-01"))
        report["rows"] = [{**r, "category": str(r["category"])} for r in report["rows"]]
        report["causes"] = [str(c) for c in report["causes"]]
    return report
