"""Accessible (issue 19, point 9): axe-core, vendored from its npm package (version in
tests/browser/vendor/axe-core/README.md), run on the main pages of a demo book as each role
meets them, in Chinese at 1,280 px: no serious or critical violation, every visible control
reachable by keyboard (none taken out of the tab order, no positive tabindex reordering it),
and the header laid out (nothing wrapped, overlapping or clipped).

One test per role, one login, the role's pages visited in turn; a failure names each violation
by rule, page and element.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.layout import HEADER_PROBLEMS

pytestmark = pytest.mark.django_db(transaction=True)

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
#: axe's serious and critical findings, one line each: rule, impact, element, what to fix.
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.filter(v => ['serious', 'critical'].includes(v.impact))
    .flatMap(v => v.nodes.map(n => `${v.id} (${v.impact}) ${n.target.join(' ')}: `
      + n.failureSummary.replace(/\\s+/g, ' ').slice(0, 220)));
}"""
#: Visible controls a keyboard cannot reach, and elements that reorder the tab sequence.
UNREACHABLE = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]')]
  .filter(e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')
  .filter(e => (e.tabIndex < 0 && !e.disabled && !e.closest('.chart')) || e.tabIndex > 0)
  .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}[name=${e.name || ''}]`
    + ` tabindex ${e.tabIndex}`)"""


def _urls(role: str) -> list[str]:
    """The pages a role works in (each main page is visited by at least one role)."""
    from fincrm.customers.models import Customer
    from fincrm.financing.models import Application
    from fincrm.service.models import Ticket

    client = (
        Customer.objects.filter(owner__username="manager1", financial_statements__isnull=False)
        .order_by("-annual_revenue")
        .first()
    )
    application = (
        Application.objects.filter(customer__owner__username="manager1").order_by("pk").first()
    )
    in_review = Application.objects.filter(stage="credit_review").order_by("pk").first()
    ticket = Ticket.objects.order_by("pk").first()
    pages = {
        "manager1": [
            "/",
            "/customers/",
            client.get_absolute_url(),
            "/financing/applications/",
            application.get_absolute_url(),
            "/engagement/tasks/",
            "/search/?q=%E5%85%AC%E5%8F%B8",  # 公司
        ],
        "lead_east": ["/", "/engagement/tasks/?scope=team", "/risk/alerts/"],
        "risk": [
            "/",
            "/risk/alerts/",
            "/risk/reviews/",
            "/risk/portfolio/",
            (in_review or application).get_absolute_url(),
        ],
        "agent": [
            "/",
            "/service/",
            ticket.get_absolute_url(),
            client.get_absolute_url(),
            "/surveys/",
        ],
        "exec": ["/", "/insights/"],
        "admin": ["/"],
        "client1": ["/portal/"],  # its forms (documents, complaint, application) are on it
    }
    return pages[role]


@pytest.mark.parametrize(
    "role", ["manager1", "lead_east", "risk", "agent", "exec", "admin", "client1"]
)
def test_the_main_pages_pass_axe_and_the_keyboard(page, demo_book, log_in_demo, role):
    page.set_viewport_size({"width": 1280, "height": 900})
    problems: list[str] = []

    def check(url: str) -> None:
        response = page.goto(page.base_url + url)
        assert response.status == 200, url
        page.wait_for_function(
            "() => [...document.querySelectorAll('.chart')].every(e => e.dataset.rendered === '1')"
        )
        page.evaluate(AXE)  # through the debugging protocol: the page's CSP allows no script
        problems.extend(f"{url}: {p}" for p in page.evaluate(AXE_RUN))
        problems.extend(f"{url}: unreachable {p}" for p in page.evaluate(UNREACHABLE))
        problems.extend(f"{url}: header {p}" for p in page.evaluate(HEADER_PROBLEMS))

    portal = role == "client1"
    check("/portal/login/" if portal else "/accounts/login/")
    log_in_demo(role)
    for url in _urls(role):
        check(url)
    assert problems == [], "\n".join(problems)
    if not portal:  # "/" outside a field goes to the top bar's search box
        page.keyboard.press("/")
        assert page.evaluate("() => document.activeElement.id") == "top-search"
