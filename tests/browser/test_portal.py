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
