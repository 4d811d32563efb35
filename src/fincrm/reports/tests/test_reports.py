"""Value-added reports: the PDF says what the 360° page says, goes to the client's portal and
by e-mail (PDF attached) through the messaging layer, closes the service plan's report task,
and is made once per client and month."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from fincrm.engagement.choices import TaskKind, TaskStatus
from fincrm.engagement.models import Interaction, Task
from fincrm.evaluation.models import Classification
from fincrm.messaging.choices import MessageStatus
from fincrm.messaging.models import Message
from fincrm.messaging.services import messages_deliver_due
from fincrm.portal.models import PortalAccount
from fincrm.reports.choices import ReportChannel
from fincrm.reports.models import ClientReport
from fincrm.reports.services import (
    client_report_deliver,
    client_report_generate,
    client_reports_make,
    client_reports_monthly,
    first_working_day,
)
from fincrm.testing.factories import (
    CustomerFactory,
    FacilityFactory,
    StatementFactory,
    UserFactory,
    monthly_schedule,
)

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 6, 15)  # the clock fixture's today


def _tier(customer, tier: str) -> None:
    now = timezone.now()
    Classification.objects.create(
        customer=customer, tier=tier, tier_since=now, value_score=60.0, grade="A",
        size_band="medium", lifecycle="active", evaluated_at=now,
    )  # fmt: skip


def _pdf_lines(report: ClientReport) -> list[str]:
    with report.file.open("rb") as file:
        reader = PdfReader(io.BytesIO(file.read()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return [line.strip() for line in text.splitlines() if line.strip()]


class _Tables(HTMLParser):
    """Every table of a page (nested ones apart): its attributes and its rows, each row's
    class and its cells' text."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self._stack: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            table = {"id": attrs.get("id", ""), "class": attrs.get("class", ""), "rows": []}
            self.tables.append(table)
            self._stack.append(table)
        elif self._stack and tag == "tr":
            self._stack[-1]["rows"].append({"class": attrs.get("class", ""), "cells": []})
        elif self._stack and tag in ("td", "th") and self._stack[-1]["rows"]:
            self._stack[-1]["rows"][-1]["cells"].append("")

    def handle_endtag(self, tag):
        if tag == "table" and self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if self._stack and self._stack[-1]["rows"] and self._stack[-1]["rows"][-1]["cells"]:
            cells = self._stack[-1]["rows"][-1]["cells"]
            cells[-1] = (cells[-1] + " " + data.strip()).strip()


def _tables(html: str) -> list[dict]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


@pytest.fixture
def client_book(users, book, clock):
    """Manager A's firm (a core client with e-mail) with four years of statements, two peers
    in its industry, and a facility whose schedule has an instalment paid on time, one paid
    late and one overdue."""
    customer = book["a_company"]
    customer.email = "finance@hengrui.example.cn"
    customer.save()
    _tier(customer, "core")
    for year, revenue, profit in [(2022, 40, 2.0), (2023, 44, 2.6), (2024, 50, 3.1),
                                  (2025, 56, 3.9)]:  # fmt: skip
        StatementFactory(
            customer=customer, period_end=date(year, 12, 31),
            revenue=Decimal(revenue * 1_000_000), net_profit=Decimal(int(profit * 1_000_000)),
            total_assets=Decimal(80_000_000 + year), inventory=Decimal(9_000_000 + year * 100),
        )  # fmt: skip
    for n in range(2):
        peer = CustomerFactory(owner=users["manager_b"], industry=customer.industry)
        StatementFactory(customer=peer, net_profit=Decimal(1_500_000 * (n + 1)))
    facility = FacilityFactory(
        customer=customer, contract_number="HT-RPT-1", approved_limit=Decimal("5000000"),
        drawn_amount=Decimal("3250000"), start_date=date(2026, 1, 15), days_past_due=61,
    )  # fmt: skip
    first, second, *_rest = monthly_schedule(
        facility, months=6, principal=Decimal(500_000), interest=Decimal(17_000)
    )
    for installment, paid_on in ((first, date(2026, 2, 15)), (second, date(2026, 3, 20))):
        installment.amount_paid = installment.principal_paid = Decimal(500_000)
        installment.amount_paid += Decimal(17_000)
        installment.interest_paid = Decimal(17_000)
        installment.paid_off_on = paid_on
        installment.save()
    return customer


def test_the_pdf_shows_the_360_pages_ratios_and_repayment_figures(users, client_book, login):
    report = client_report_generate(customer=client_book, as_of=AS_OF)
    lines = _pdf_lines(report)
    html = login(users["manager_a"]).get(reverse("customers:detail", args=[client_book.pk]))
    tables = _tables(html.content.decode())

    # Ratios: the page's last three periods and the industry median, row by row.
    (ratios,) = [t for t in tables if t["id"] == "ratios"]
    header, *rows = ratios["rows"]
    assert header["cells"][-4:-1] == ["2023-12-31", "2024-12-31", "2025-12-31"]
    start = lines.index(header["cells"][-2])  # the PDF's ratio table
    assert lines[start - 3 : start + 2] == ["比率", *header["cells"][-4:]]
    assert len(rows) == 10
    for row in rows:
        label, *values = row["cells"]
        at = lines.index(label, start)
        assert lines[at : at + 5] == [label, *values[-4:]], label
        assert "n/a" not in values[-4:]  # every figure compared is a real one

    # Facilities: limit, drawn and days past due as the page prints them.
    (facilities,) = [t for t in tables if any(r["cells"][:1] == ["HT-RPT-1"] for r in t["rows"])]
    (row,) = [r for r in facilities["rows"] if r["cells"][:1] == ["HT-RPT-1"]]
    _contract, _product, limit, drawn, _rate, _term, _guarantee, dpd, *_ = row["cells"]
    at = lines.index("HT-RPT-1")
    assert lines[at + 2 : at + 4] == [limit, drawn] and lines[at + 5] == dpd == "61"
    assert lines[at + 4] == "65.0%"  # 3.25M drawn of a 5M limit

    # Repayment record: from the page's schedule of that facility.
    (schedule,) = [t for t in tables if "inner" in t["class"]]
    due = [r for r in schedule["rows"][1:] if date.fromisoformat(r["cells"][1]) <= AS_OF]
    paid = sum(Decimal(r["cells"][5].replace(",", "")) for r in due)
    overdue = [r for r in due if "overdue" in r["class"]]
    owed = sum(Decimal(r["cells"][6].replace(",", "")) for r in overdue)
    at = lines.index("HT-RPT-1", at + 1)
    assert lines[at : at + 7] == [
        "HT-RPT-1", str(len(due)), "1", "1", str(len(overdue)), f"{paid:,.2f}", f"{owed:,.2f}"
    ]  # fmt: skip
    assert (len(due), len(overdue), paid) == (5, 2, Decimal("1034000.00"))  # 15 June: due today

    # The rest of the report: points, the manager's contact, in Chinese.
    text = "\n".join(lines)
    for expected in ("增值报告", "还款记录", "积分与会员", "客户经理", client_book.name):
        assert expected in text, expected


@pytest.fixture
def run_tasks_now(settings):
    """Background tasks run as they are queued (the worker's part, in the test)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_monthly_generation_is_once_per_client_and_month_from_the_first_working_day(
    users, book, clock, run_tasks_now, django_capture_on_commit_callbacks
):
    _tier(book["a_company"], "core")
    _tier(book["b_company"], "key")
    _tier(book["a_person"], "ordinary")  # not a report tier

    def monthly(day: date) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return client_reports_monthly(as_of=day)

    assert first_working_day(date(2026, 10, 20)) == date(2026, 10, 8)  # after National Day
    assert monthly(date(2026, 10, 7)) == 0
    assert monthly(date(2026, 6, 1)) == 2
    assert monthly(date(2026, 6, 1)) == 0
    assert monthly(date(2026, 6, 15)) == 0  # the same month
    assert sorted(ClientReport.objects.values_list("customer__name", flat=True)) == sorted(
        [book["a_company"].name, book["b_company"].name]
    )
    assert set(ClientReport.objects.values_list("period", flat=True)) == {date(2026, 6, 1)}
    # Queued twice before the worker ran (two daily runs): made once.
    ids = [book["a_company"].pk, book["b_company"].pk]
    assert client_reports_make(customer_ids=ids, as_of=date(2026, 7, 1)) == 2
    assert client_reports_make(customer_ids=ids, as_of=date(2026, 7, 2)) == 0
    assert monthly(date(2026, 7, 3)) == 0
    # One e-mail per client and month, whatever happened.
    assert Message.objects.filter(kind="report").count() == 4


def test_the_e_mail_carries_the_pdf_and_closes_the_report_task_when_sent(users, client_book, clock):
    task = Task.objects.create(
        customer=client_book, owner=users["manager_a"], kind=TaskKind.REPORT,
        title="发送增值服务报告", due_on=AS_OF + timedelta(days=30), source_key="plan:report",
    )  # fmt: skip
    report = client_report_deliver(report=client_report_generate(customer=client_book,
                                                                 as_of=AS_OF))  # fmt: skip
    assert report.channel == ReportChannel.EMAIL and report.delivered_at is not None
    assert report.message.status == MessageStatus.QUEUED
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN  # not before the e-mail goes
    Message.objects.filter(pk=report.message.pk).update(next_attempt_at=timezone.now())
    assert messages_deliver_due() == 1

    (sent,) = mail.outbox
    assert sent.to == ["finance@hengrui.example.cn"] and "2026-06" in sent.subject
    ((name, content, mimetype),) = sent.attachments
    with report.file.open("rb") as file:
        assert content == file.read() and content.startswith(b"%PDF")
    assert (name, mimetype) == (report.filename, "application/pdf")
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert Interaction.objects.filter(customer=client_book, channel="email").count() == 1
    # Delivering again sends nothing more.
    client_report_deliver(report=report)
    assert Message.objects.filter(customer=client_book).count() == 1


def test_without_an_e_mail_address_the_portal_copy_is_the_delivery(users, book, clock):
    customer = book["b_company"]
    task = Task.objects.create(
        customer=customer, owner=users["manager_b"], kind=TaskKind.REPORT, title="报告",
        due_on=AS_OF, source_key="plan:report",
    )  # fmt: skip
    report = client_report_deliver(report=client_report_generate(customer=customer,
                                                                 as_of=AS_OF))  # fmt: skip
    assert report.channel == ReportChannel.PORTAL
    assert report.message.status == MessageStatus.BLOCKED
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert Interaction.objects.get(customer=customer).channel == "portal"


@pytest.fixture
def portal_users(book):
    accounts = {}
    for key in ("a_company", "b_company"):
        user = UserFactory(username=f"client_{key}", role="", team=None)
        accounts[key] = PortalAccount.objects.create(user=user, customer=book[key]).user
    return accounts


def test_a_client_downloads_its_own_report_and_never_anothers(book, portal_users, login, clock):
    own, other = (
        client_report_deliver(report=client_report_generate(customer=book[k], as_of=AS_OF))
        for k in ("a_company", "b_company")
    )
    client = login(portal_users["a_company"])
    page = client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:report", args=[own.pk]) in page
    assert reverse("portal:report", args=[other.pk]) not in page
    response = client.get(reverse("portal:report", args=[own.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert client.get(reverse("portal:report", args=[other.pk])).status_code == 404
    # A report not delivered yet is not in the portal.
    ClientReport.objects.filter(pk=own.pk).update(delivered_at=None)
    assert client.get(reverse("portal:report", args=[own.pk])).status_code == 404


def test_staff_preview_download_and_generate_as_their_scope_allows(users, client_book, login):
    report = client_report_deliver(report=client_report_generate(customer=client_book,
                                                                 as_of=AS_OF))  # fmt: skip
    page = login(users["manager_a"]).get(reverse("customers:detail", args=[client_book.pk]))
    html = page.content.decode()
    assert 'id="reports"' in html and reverse("reports:download", args=[report.pk]) in html
    preview = login(users["risk"]).get(reverse("reports:preview", args=[client_book.pk]))
    assert preview.status_code == 200 and "HT-RPT-1" in preview.content.decode()
    assert login(users["risk"]).get(reverse("reports:download", args=[report.pk])).status_code \
        == 200  # fmt: skip
    for user in ("manager_b", "outsider"):
        client = login(users[user])
        assert client.get(reverse("reports:preview", args=[client_book.pk])).status_code == 404
        assert client.get(reverse("reports:download", args=[report.pk])).status_code == 404
    # Generating on demand needs the right to change the client.
    generate = reverse("reports:generate", args=[client_book.pk])
    assert login(users["risk"]).post(generate).status_code == 404
    first = report.generated_at
    response = login(users["manager_a"]).post(generate)
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.generated_at > first and ClientReport.objects.count() == 1
    assert Message.objects.filter(kind="report").count() == 1  # delivered once already
