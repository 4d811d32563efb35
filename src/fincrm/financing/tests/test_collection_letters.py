"""Collection letters: the 30-, 60- and 90-day rungs produce a letter from their template with
the client's figures, as PDF and as Word, only to whoever may work the action, each download
recorded; the day-1 SMS rung queues a reminder through messaging."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from fincrm.api.models import ApiToken
from fincrm.core.models import AccessLog
from fincrm.financing import letters
from fincrm.financing.booking import facility_book
from fincrm.financing.collections import collections_run
from fincrm.financing.letter_texts import DEFAULT_LETTERS
from fincrm.financing.models import (
    Application,
    CollectionAction,
    CollectionLetter,
    CollectionLetterTemplate,
)
from fincrm.testing.factories import ProductFactory

pytestmark = pytest.mark.django_db
D = Decimal
#: 120,000 CNY at 6 % over 12 months, equal principal, booked 10 January 2026, nothing paid:
#: on 15 June (the ``clock``) five instalments are overdue, 10,000 principal each and
#: interest of 0.5 % a month on the balance: 600 + 550 + 500 + 450 + 400.
PRINCIPAL, INTEREST = "50,000.00", "2,500.00"
TOTAL = "52,500.00"


@pytest.fixture
def facility(book):
    product = ProductFactory(code="EP02", min_amount=D(100_000))
    application = Application.objects.create(
        customer=book["a_company"], product=product, amount=D(120_000), tenor_months=12,
        rate=D(6), repayment_method="equal_principal", stage="contract", guarantor="张三",
    )  # fmt: skip
    return facility_book(application=application, on=date(2026, 1, 10))


@pytest.fixture
def letter_action(facility):
    """The day-30 rung (a formal letter), made by the nightly ladder on day 31."""
    collections_run(as_of=date(2026, 3, 13))
    return CollectionAction.objects.get(step="letter")


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def _docx_text(content: bytes) -> str:
    from docx import Document

    return "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)


def test_the_templates_are_seeded_in_chinese_with_known_placeholders():
    seeded = {t.step: t for t in CollectionLetterTemplate.objects.all()}
    assert set(seeded) >= {"letter", "guarantor", "legal"}
    for step, text in DEFAULT_LETTERS.items():
        assert not letters.unknown_placeholders(text["title"] + text["body"]), step
        assert re.search(r"[\u4e00-\u9fff]", text["body"])
    bad = CollectionLetterTemplate(step="letter", language="en", title="x", body="{clinet}")
    with pytest.raises(ValidationError):
        bad.full_clean()


def test_the_figures_are_the_overdue_amounts_of_the_day(letter_action, clock):
    owed = letters.overdue_amounts(letter_action.facility, as_of=date(2026, 6, 15))
    assert (owed["principal"], owed["interest"], owed["total"]) == (
        D("50000.00"), D("2500.00"), D("52500.00"),
    )  # fmt: skip
    assert (owed["since"], owed["days"]) == (date(2026, 2, 10), 125)


def test_the_owner_downloads_the_letter_as_pdf_with_the_clients_figures(
    letter_action, users, login, clock
):
    response = login(users["manager_a"]).get(
        reverse("financing:collection_letter", args=[letter_action.pk]), {"format": "pdf"}
    )
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    text = _pdf_text(response.content)
    assert "苏州恒瑞精密机械有限公司" in text
    assert f"合计人民币{TOTAL}元" in text
    assert PRINCIPAL in text and INTEREST in text
    assert "逾期还款催收函" in text and "2026年6月22日" in text  # pay by: 7 days
    assert letter_action.facility.contract_number in text

    record = CollectionLetter.objects.get()
    assert (record.action, record.created_by, record.file_format) == (
        letter_action, users["manager_a"], "pdf",
    )  # fmt: skip
    assert record.figures["total"] == TOTAL and record.figures["days"] == "125"
    assert record.reference == f"{letter_action.facility.contract_number}-CS-20260615"
    log = AccessLog.objects.get(action="document")
    assert log.user == users["manager_a"] and record.reference in log.fields


def test_the_word_file_carries_the_same_figures(letter_action, users, login, clock):
    response = login(users["manager_a"]).get(
        reverse("financing:collection_letter", args=[letter_action.pk]), {"format": "docx"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].endswith("wordprocessingml.document")
    text = _docx_text(response.content)
    assert "苏州恒瑞精密机械有限公司" in text and f"合计人民币{TOTAL}元" in text
    assert CollectionLetter.objects.get().file_format == "docx"


def test_the_guarantor_notice_is_addressed_to_the_guarantor(facility, users, clock):
    collections_run(as_of=date(2026, 4, 12))  # day 61
    action = CollectionAction.objects.get(step="guarantor")
    _record, content = letters.collection_letter_issue(
        action=action, user=users["risk"], file_format="docx"
    )
    text = _docx_text(content)
    assert text.splitlines()[2] == "张三：" and "担保人履行担保责任通知函" in text
    assert TOTAL in text


def test_another_managers_client_is_a_404_and_a_viewer_a_403(letter_action, users, login):
    url = reverse("financing:collection_letter", args=[letter_action.pk])
    assert login(users["manager_b"]).get(url).status_code == 404
    assert login(users["exec"]).get(url).status_code == 403
    assert not CollectionLetter.objects.exists()


def test_a_step_without_a_letter_is_refused_with_the_reason(facility, users, login, clock):
    collections_run(as_of=date(2026, 2, 14))  # day 4: a call
    action = CollectionAction.objects.get(step="call")
    response = login(users["manager_a"]).get(
        reverse("financing:collection_letter", args=[action.pk]), follow=True
    )
    assert str(letters.MSG_NOT_A_LETTER) in response.content.decode()
    assert not CollectionLetter.objects.exists()


def test_the_queue_offers_the_downloads_and_lists_the_letters(letter_action, users, login, clock):
    manager = login(users["manager_a"])
    queue = manager.get(reverse("financing:collections")).content.decode()
    url = reverse("financing:collection_letter", args=[letter_action.pk])
    assert f"{url}?format=pdf" in queue and f"{url}?format=docx" in queue
    manager.get(url, {"format": "pdf"})
    queue = manager.get(reverse("financing:collections")).content.decode()
    assert "逾期还款催收函（PDF）已于" in queue


def test_the_api_serves_the_letter_to_the_owner_only(letter_action, users, clock, client):
    url = f"/api/v1/collections/{letter_action.pk}/letter"

    def get(user, **params):
        _token, plain = ApiToken.issue(user=user, name="t")
        return client.get(url, params, HTTP_AUTHORIZATION=f"Bearer {plain}")

    response = get(users["manager_a"], format="docx")
    assert response.status_code == 200
    assert TOTAL in _docx_text(response.content)
    assert _pdf_text(get(users["risk"]).content).count(TOTAL) >= 1  # PDF by default
    assert get(users["manager_b"], format="pdf").status_code == 404
    assert get(users["manager_a"], format="txt").status_code == 422
    assert CollectionLetter.objects.count() == 2


def test_nothing_overdue_means_no_letter(letter_action, users):
    from fincrm.financing.models import Installment

    late = Installment.objects.filter(facility=letter_action.facility)
    late.update(paid_off_on=date(2026, 3, 14))
    with pytest.raises(ValidationError) as refused:
        letters.collection_letter_issue(
            action=letter_action, user=users["manager_a"], file_format="pdf",
            today=date(2026, 3, 20),
        )  # fmt: skip
    assert refused.value.code == "nothing_overdue"


# --- the day-1 SMS rung ----------------------------------------------------------------------


@pytest.fixture
def gateway(settings):
    from fincrm.messaging.tests.fakes import FakeServer

    server = FakeServer(lambda request: (200, {"ok": True}))
    settings.FINCRM_SMS_URL = f"http://{server.host}/sms"
    yield server
    server.close()


def test_the_sms_rung_queues_one_urgent_reminder_and_the_gateway_gets_it(
    facility, gateway, django_capture_on_commit_callbacks
):
    from fincrm.messaging.models import Message
    from fincrm.messaging.services import message_attempt

    customer = facility.customer
    customer.phone = "13800138000"
    customer.save(update_fields=["phone"])
    with django_capture_on_commit_callbacks(execute=False):
        collections_run(as_of=date(2026, 2, 11))  # one day late
        collections_run(as_of=date(2026, 2, 11))  # the job runs twice: nothing more
    action = CollectionAction.objects.get(step="sms")
    message = Message.objects.get()
    assert action.message == message
    assert (message.kind, message.urgent, message.channel, message.status) == (
        "dunning", True, "sms", "queued",
    )  # fmt: skip
    assert message.source_key == f"dunning:{facility.pk}:sms:20260210"
    # 10,000 principal and 600 interest due on 10 February, in Chinese.
    assert "10,600.00" in message.text and "2026年2月10日" in message.text
    assert "逾期" in message.text and facility.contract_number in message.text

    from fincrm.financing.collections import reminders_send

    assert reminders_send(actions=[action], as_of=date(2026, 2, 11), lender="x") == 1
    assert Message.objects.count() == 1  # the same source key: the same message

    sent = message_attempt(message.pk)
    assert sent.status == "sent"
    (request,) = gateway.requests
    body = request.json()
    assert body["to"] == "13800138000" and "10,600.00" in body["text"]


def test_a_reminder_that_cannot_go_is_logged_on_the_action(facility, settings):
    settings.FINCRM_SMS_URL = ""
    facility.customer.phone = ""
    facility.customer.save(update_fields=["phone"])
    collections_run(as_of=date(2026, 2, 11))
    action = CollectionAction.objects.select_related("message").get(step="sms")
    assert action.message.status in ("blocked", "failed") and action.message.reason


def test_an_administrator_edits_a_template_with_the_placeholders_listed(users, login):
    template = CollectionLetterTemplate.objects.get(step="legal")
    admin = login(users["admin"])
    url = reverse("admin:financing_collectionlettertemplate_change", args=[template.pk])
    form = admin.get(url).content.decode()
    assert "{total}" in form and "{pay_by}" in form
    data = {"step": "legal", "language": "zh-hans", "title": "律师函", "is_active": "on",
            "body": "{client}：请于{pay_by}前还款{totl}元。"}  # fmt: skip
    assert "{totl}" in admin.post(url, data).content.decode()  # refused: unknown placeholder
    data["body"] = "{client}：请于{pay_by}前还款{total}元。"
    assert admin.post(url, data).status_code == 302
    template.refresh_from_db()
    change = template.history.latest()
    assert template.title == change.title == "律师函" and change.history_user == users["admin"]


def test_the_queue_reads_letters_and_reminders_in_constant_queries(
    book, users, login, django_assert_max_num_queries
):
    from fincrm.messaging.models import Message
    from fincrm.testing.factories import FacilityFactory

    def actions(n: int) -> None:
        for _ in range(n):
            facility = FacilityFactory(customer=book["a_company"])
            message = Message.objects.create(
                customer=facility.customer, channel="sms", text="提醒", status="failed",
                reason="无网关",
            )  # fmt: skip
            for step in ("sms", "letter"):
                action = CollectionAction.objects.create(
                    facility=facility, step=step, episode=date(2026, 5, 10), days_past_due=36,
                    amount_overdue=D("1000.00"), due_on=date(2026, 6, 15),
                    assigned_to=users["manager_a"], message=message if step == "sms" else None,
                )  # fmt: skip
            CollectionLetter.objects.create(action=action, reference="x", file_format="pdf",
                                            title="逾期还款催收函", text="…",
                                            created_by=users["manager_a"])  # fmt: skip

    manager = login(users["manager_a"])
    url = reverse("financing:collections")
    actions(1)
    with django_assert_max_num_queries(30) as few:
        manager.get(url)
    actions(5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = manager.get(url).content.decode()
    assert page.count("下载 PDF") == 6 and page.count("短信: 失败 · 无网关") == 6
