"""End to end in the browser: one application from its creation on the 360° page through
document upload and acceptance, approval within authority, contract and disbursement to its
first payment."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fincrm.evaluation.models import Classification
from fincrm.financing.models import Application, Facility, Payment
from fincrm.testing.factories import PASSWORD, ProductFactory, StatementFactory

pytestmark = pytest.mark.django_db(transaction=True)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_an_application_from_creation_to_its_first_payment(
    page, log_in, log_out, users, book, tmp_path
):
    firm = book["a_company"]
    at = datetime(2026, 6, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    Classification.objects.create(
        customer=firm,
        tier="key",
        tier_since=at,
        value_score=60,
        grade="A",
        size_band="small",
        lifecycle="active",
        evaluated_at=at,
    )
    StatementFactory(customer=firm, revenue=Decimal(80_000_000))
    product = ProductFactory(code="WC01", name="流动资金贷款", min_amount=Decimal(100_000))
    scan = tmp_path / "营业执照.pdf"
    scan.write_bytes(PDF)

    def as_user(username):
        log_out()
        log_in(username, PASSWORD)

    as_user("manager_a")
    page.goto(page.base_url + firm.get_absolute_url())
    page.click("#new-application")
    page.select_option("#id_product", str(product.pk))
    page.fill("#id_amount", "600000")
    page.fill("#id_tenor_months", "12")
    page.select_option("#id_repayment_method", "equal_instalment")
    page.fill("#id_purpose", "采购原材料")
    page.click("#application-form button[type=submit]")
    page.wait_for_selector("#documents")
    application = Application.objects.get(customer=firm)
    assert page.url.endswith(application.get_absolute_url())

    for document in application.documents.all():
        row = page.locator(f"#document-{document.pk}")
        row.locator("input[type=file]").set_input_files(str(scan))
        row.locator("form").first.locator("button").click()
        page.wait_for_load_state()
    as_user("risk")
    for document in application.documents.all():
        page.goto(page.base_url + application.get_absolute_url())
        page.locator(f"#document-{document.pk}").get_by_role("button", name="通过").click()
        page.wait_for_load_state()

    as_user("manager_a")
    page.goto(page.base_url + application.get_absolute_url())
    for stage in ("submitted", "documents", "due_diligence", "credit_review"):
        page.select_option("#move-form select[name=to_stage]", stage)
        page.click("#move-form button")
        page.wait_for_load_state()
    assert page.locator("#no-authority").is_visible()  # the maker decides nothing

    as_user("lead")
    page.goto(page.base_url + application.get_absolute_url())
    page.fill("#decision-form input[name=note]", "同意，按期回访")
    page.click("#decision-form button")
    page.wait_for_load_state()
    application.refresh_from_db()
    assert application.stage == "approved"

    as_user("manager_a")
    page.goto(page.base_url + application.get_absolute_url())
    for stage in ("contract", "disbursed"):
        page.select_option("#move-form select[name=to_stage]", stage)
        page.click("#move-form button")
        page.wait_for_load_state()
    facility = Facility.objects.get(application=application)
    page.click("#facility-link")
    page.wait_for_selector("#facilities")
    assert page.locator("#facilities").get_by_text(facility.contract_number).is_visible()

    first = facility.installments.order_by("number").first()
    page.locator("#facilities details.repayment-schedule summary").first.click()
    form = page.locator("#facilities form.payment-form").first
    form.locator("input[name=amount]").fill(str(first.total_outstanding))
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    first.refresh_from_db()
    assert first.paid_off_on is not None
    assert Payment.objects.get(facility=facility).amount == first.amount_paid + first.fee_paid
