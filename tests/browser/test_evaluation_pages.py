"""End to end: after an evaluation run, the tier, the alerts and the work a manager must do
are where a manager and a risk officer look for them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fincrm.evaluation.choices import RunKind
from fincrm.evaluation.services import evaluation_run
from fincrm.financing.services import facility_refresh_delinquency
from fincrm.testing.factories import PASSWORD, FacilityFactory, monthly_schedule

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def evaluated(book):
    """Manager A's firm stopped paying 100 days ago: a critical alert after the run."""
    today = timezone.localdate()
    first_due = today - timedelta(days=100)
    start = (first_due.replace(day=1) - timedelta(days=1)).replace(day=min(first_due.day, 28))
    facility = FacilityFactory(customer=book["a_company"], start_date=start)
    monthly_schedule(facility, months=12, principal=Decimal("250000"), interest=Decimal("16000"))
    facility_refresh_delinquency(facility=facility)
    evaluation_run(kind=RunKind.FULL)
    return book


def test_a_manager_sees_the_tier_and_the_alert_and_logs_a_call(page, log_in, evaluated):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in("manager_a", PASSWORD)
    page.click("nav.mainnav a[href='/risk/alerts/']")
    row = page.locator("#alerts tbody tr").filter(has_text=evaluated["a_company"].name)
    assert row.count() == 1
    row.locator("a").first.click()

    assert page.locator("#value-tier").is_visible()
    assert page.locator("#tier-reasons li").count() >= 1
    assert page.locator("#credit-grade").inner_text().strip() in {"CCC", "C", "B", "BB"}
    assert page.locator("#client-alerts li").count() >= 1

    page.click("#log-interaction")
    page.select_option("#id_channel", "phone")
    page.fill("#id_subject", "催收电话")
    page.select_option("#id_outcome", "reached")
    page.click("#interaction-form button[type=submit]")
    assert page.locator("#timeline").get_by_text("催收电话").is_visible()
    assert errors == []


def test_a_risk_officer_reads_the_portfolio_and_an_admin_previews_the_policy(
    page, log_in, log_out, evaluated
):
    log_in("risk", PASSWORD)
    page.goto(page.base_url + "/risk/portfolio/")
    assert page.locator("#loan-classes tbody tr").count() == 5
    assert page.locator("#expert-fallback").is_visible()
    page.goto(page.base_url + "/evaluation/segments/")
    assert page.locator("#segment-sizes tbody tr").count() >= 1
    log_out()
    log_in("admin", PASSWORD)
    page.goto(page.base_url + "/evaluation/policy/")
    page.click("button[name=preview]")
    # The active policy, previewed unchanged, moves nobody.
    assert page.locator("#preview-changed").inner_text() == "0"
