"""At 390 px (a phone) neither the 360° page nor the portal is wider than the screen: wide
tables scroll inside their card, labels do not overlap."""

from datetime import date
from decimal import Decimal

import pytest

from fincrm.portal.models import PortalAccount
from fincrm.testing.factories import (
    PASSWORD,
    ApplicationFactory,
    ContactFactory,
    FacilityFactory,
    StatementFactory,
    UserFactory,
    monthly_schedule,
)

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
WIDTH = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
#: The outermost elements reaching past the screen's right edge (what to fix when it fails).
WIDEST = """() => {
  const clipped = e => { for (let a = e.parentElement; a; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; };
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !clipped(e))
    .slice(0, 8)
    .map(e => `${e.tagName}#${e.id}.${e.className} in ${e.parentElement.className}`
      + ` ${Math.round(e.getBoundingClientRect().right)}`);
}"""


def _rich_client(book):
    firm = book["a_company"]
    ContactFactory(customer=firm, name="李晓梅", title="财务总监", wechat_id="lixiaomei_hengrui_88")
    for year in (2023, 2024, 2025):
        StatementFactory(customer=firm, period_end=date(year, 12, 31))
    facility = FacilityFactory(customer=firm, start_date=date(2025, 7, 15))
    monthly_schedule(facility, months=12, principal=Decimal("250000"), interest=Decimal("16000"))
    ApplicationFactory(customer=firm, amount=2_000_000, stage="documents")
    return firm


def test_the_360_page_fits_a_phone(page, book, users):
    firm = _rich_client(book)
    users["manager_a"].set_password(PASSWORD)
    users["manager_a"].save()
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", "manager_a")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(page.base_url + "/")
    page.set_viewport_size(PHONE)
    page.goto(page.base_url + firm.get_absolute_url())
    wide = page.evaluate(WIDEST)
    assert page.evaluate(WIDTH) <= PHONE["width"], wide


def test_the_portal_fits_a_phone(page, book):
    firm = _rich_client(book)
    user = UserFactory(username="client_hengrui", role="")
    PortalAccount.objects.create(user=user, customer=firm)
    page.set_viewport_size(PHONE)
    page.goto(page.base_url + "/portal/login/")
    page.fill("#id_username", "client_hengrui")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(page.base_url + "/portal/")
    assert page.evaluate(WIDTH) <= PHONE["width"]
