"""End to end: a client logs in to the portal, sees its application's stage, uploads the
missing document."""

import pytest

from fincrm.financing.models import ApplicationDocument
from fincrm.portal.models import PortalAccount
from fincrm.testing.factories import PASSWORD, ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_client_follows_its_application_and_uploads_a_document(page, book, tmp_path):
    customer = book["a_company"]
    application = ApplicationFactory(customer=customer, amount=2_000_000, stage="documents")
    document = ApplicationDocument.objects.create(application=application, kind="business_licence")
    user = UserFactory(username="client_hengrui", role="")
    PortalAccount.objects.create(user=user, customer=customer)
    pdf = tmp_path / "营业执照.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(page.base_url + "/portal/login/")
    page.fill("#id_username", "client_hengrui")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(page.base_url + "/portal/")

    assert page.locator(f"#stage-{application.pk}").inner_text() == application.get_stage_display()
    row = page.locator(f"#document-{document.pk}")
    row.locator("input[type=file]").set_input_files(str(pdf))
    row.locator("button[type=submit]").click()
    page.wait_for_selector(".msg-success")
    assert page.locator(f"#document-{document.pk} .doc-received").is_visible()
    document.refresh_from_db()
    assert document.status == "received"


def test_the_assistant_answers_the_next_repayment_from_the_clients_schedule(page, book, clock):
    from datetime import date, timedelta
    from decimal import Decimal

    from fincrm.financing.models import Installment
    from fincrm.testing.factories import FacilityFactory

    customer = book["a_company"]
    facility = FacilityFactory(customer=customer, contract_number="HT2026000042")
    for k in range(3):  # 2026-05-20 paid, 2026-06-19 next (the clock says 2026-06-15), 07-19
        Installment.objects.create(
            facility=facility,
            number=k + 1,
            due_date=date(2026, 5, 20) + timedelta(days=30 * k),
            principal_due=Decimal("250000.00"),
            interest_due=Decimal("16250.50"),
            paid_off_on=date(2026, 5, 20) if k == 0 else None,
        )
    user = UserFactory(username="client_hengrui", role="")
    PortalAccount.objects.create(user=user, customer=customer)

    page.goto(page.base_url + "/portal/login/")
    page.fill("#id_username", "client_hengrui")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(page.base_url + "/portal/")
    page.get_by_role("link", name="智能助理").click()
    page.fill("#id_question", "我下一期还款是什么时候？")
    page.get_by_role("button", name="提问").click()

    answer = page.locator("#latest-answer")
    answer.wait_for()
    text = answer.inner_text()
    assert "2026年6月19日" in text and "266,250.50 元" in text
    assert "HT2026000042" in text
