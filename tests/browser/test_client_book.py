"""End to end: a manager logs in, finds a client and reads its 360° page."""

from datetime import date
from decimal import Decimal

import pytest

from fincrm.engagement.models import Interaction
from fincrm.testing.factories import PASSWORD, StatementFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_manager_searches_and_opens_the_360_page(page, log_in, users, book):
    customer = book["a_company"]
    StatementFactory(customer=customer, period_end=date(2024, 12, 31), revenue=Decimal("48000000"))
    StatementFactory(customer=customer, period_end=date(2025, 12, 31))
    Interaction.objects.create(customer=customer, channel="visit", subject="季度回访")

    log_in("manager_a", PASSWORD)
    page.click("nav.mainnav a[href='/customers/']")
    page.fill("#id_q", "恒瑞")
    page.click("form.filters button[type=submit]")
    rows = page.locator("#customer-table tbody tr")
    assert rows.count() == 1
    rows.first.locator("a").first.click()

    assert page.locator("#client-name").inner_text() == customer.name
    assert page.locator("#timeline").get_by_text("季度回访").is_visible()
    page.wait_for_selector("#fin-chart[data-rendered='1']")
    assert page.locator("#fin-chart svg").count() >= 1
    page.screenshot(path="var/screenshot-360.png", full_page=False)


def test_another_managers_client_is_not_found(page, log_in, users, book):
    log_in("manager_b", PASSWORD)
    response = page.goto(page.base_url + f"/customers/{book['a_company'].pk}/")
    assert response.status == 404
    page.goto(page.base_url + "/customers/?q=恒瑞")
    assert page.locator("#customer-table tbody tr td.empty").count() == 1


def test_pages_send_a_strict_content_security_policy(page, log_in, users, book):
    log_in("agent", PASSWORD)
    response = page.goto(page.base_url + f"/customers/{book['a_person'].pk}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    id_text = page.locator("#id-number").inner_text()
    assert "*" in id_text and id_text != book["a_person"].id_number


def test_a_closed_facilitys_schedule_loads_when_opened(page, log_in, users, book):
    from fincrm.testing.factories import FacilityFactory, monthly_schedule

    customer = book["a_company"]
    closed = FacilityFactory(
        customer=customer, contract_number="HT-OLD-1", start_date=date(2016, 1, 15), status="closed"
    )
    monthly_schedule(closed, months=12, principal=Decimal(250000), interest=Decimal(16000))
    live = FacilityFactory(customer=customer, contract_number="HT-NEW-1")
    monthly_schedule(live, months=6, principal=Decimal(500000), interest=Decimal(16000))

    log_in("manager_a", PASSWORD)
    page.goto(page.base_url + f"/customers/{customer.pk}/#facilities")
    lazy = page.locator("#facilities details.repayment-schedule[hx-get]")
    assert lazy.count() == 1  # only the closed facility's schedule waits to be asked for
    assert lazy.locator("table.inner").count() == 0
    lazy.locator("summary").click()
    page.wait_for_selector("#facilities details[hx-get] table.inner tbody tr")
    assert lazy.locator("table.inner tbody tr").count() == 12
