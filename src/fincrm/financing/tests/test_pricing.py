"""The pricing rule on the Django side: the proposed rate, the quote before opening, the
components on the application (API and page) and the floor at approval."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from fincrm.analytics.policy import default_policy
from fincrm.financing import services
from fincrm.financing.approval import control_breaches
from fincrm.financing.tests.test_lending import graded
from fincrm.testing.factories import ProductFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def product(db):
    return ProductFactory(code="PR01", min_amount=D(100_000), min_rate=D(3), max_rate=D(12),
                          max_tenor_months=36, upfront_fee_percent=D(1))  # fmt: skip


def test_a_core_client_is_proposed_the_rules_rate_and_sees_its_components(
    client, users, book, product, bearer, clock
):
    firm = graded(book["a_company"], "BBB", tier="core")
    created = client.post(
        "/api/v1/applications/",
        {"customer_id": firm.pk, "product_id": product.pk, "amount": "800000",
         "tenor_months": 24},
        content_type="application/json", **bearer(users["manager_a"]),
    )  # fmt: skip
    assert created.status_code == 201, created.content
    app = created.json()
    # 300 + 220 (BBB) + 10 (13–36 months) + 0 (a guarantee) − 20 (core) − 0 (new) = 510 bp.
    assert D(app["rate"]) == D("5.1")
    pricing = app["pricing"]
    assert [(c["code"], c["bp"]) for c in pricing["components"]] == [
        ("base", 300), ("grade_spread", 220), ("tenor", 10), ("security", 0), ("tier", -20),
        ("years", 0),
    ]  # fmt: skip
    assert D(pricing["rate"]) == D("5.1") and D(pricing["floor"]) == D("5.0")
    assert D(pricing["arrangement_fee_percent"]) == 0  # waived for the core tier

    client.force_login(users["manager_a"])
    html = client.get(reverse("financing:application", args=[app["id"]])).content.decode()
    assert 'id="pricing"' in html and "基准利率" in html and "客户层级优惠" in html


def test_a_quote_before_opening_for_the_managers_own_clients_only(
    client, users, book, product, bearer, clock
):
    firm = graded(book["a_company"], "A", tier="key")
    body = {"customer_id": firm.pk, "amount": "1000000", "tenor_months": 12,
            "guarantee_type": "mortgage", "collateral_value": "500000"}  # fmt: skip
    url = f"/api/v1/products/{product.pk}/quote"
    response = client.post(url, body, content_type="application/json",
                           **bearer(users["manager_a"]))  # fmt: skip
    assert response.status_code == 200, response.content
    quote = response.json()
    # 300 + 150 (A) + 0 + (−30 × 0.5) − 10 (key) = 425 bp; the fee halved.
    assert D(quote["rate"]) == D("4.25") and D(quote["floor"]) == D("4.15")
    assert D(quote["arrangement_fee_percent"]) == D("0.5")
    for other in ("manager_b", "risk", "outsider"):
        refused = client.post(url, body, content_type="application/json",
                              **bearer(users[other]))  # fmt: skip
        assert refused.status_code in (403, 404), other
    body["customer_id"] = book["b_company"].pk  # no grade yet: it cannot be priced
    response = client.post(url, body, content_type="application/json",
                           **bearer(users["manager_b"]))  # fmt: skip
    assert response.status_code == 422


def test_approval_refuses_a_rate_below_the_rules_floor_by_name(book, product, clock):
    firm = graded(book["a_company"], "BBB", tier="core")
    application = services.application_create(
        customer=firm, product=product, amount=D(800_000), tenor_months=24
    )
    policy = default_policy()
    assert "min_rate" not in [b.code for b in control_breaches(application, policy)]
    application.rate = D("5.0")  # the floor: 5.1 % less 10 bp of discretion
    assert "min_rate" not in [b.code for b in control_breaches(application, policy)]
    application.rate = D("4.99")
    breach = next(b for b in control_breaches(application, policy) if b.code == "min_rate")
    assert "5%" in breach.message or "5.0" in breach.message


def test_the_new_application_page_states_the_rule_in_chinese(client, users):
    client.force_login(users["manager_a"])
    html = client.get(reverse("financing:application_new")).content.decode()
    assert 'id="pricing-rule"' in html
    for text in ("基准利率", "评级加点", "期限溢价", "担保调整", "客户层级优惠", "核心 -20 个基点"):
        assert text in html, text


@pytest.mark.parametrize(("tier", "fee"), [("core", D(0)), ("key", D(4000)), ("ordinary", D(8000))])
def test_the_contract_charges_the_arrangement_fee_less_the_tiers_waiver(
    book, product, clock, tier, fee
):
    from datetime import date

    from fincrm.financing.booking import contract_prepare

    firm = graded(book["a_company"], "A", tier=tier)
    application = services.application_create(
        customer=firm, product=product, amount=D(800_000), tenor_months=12
    )
    contract_prepare(application=application, on=date(2026, 6, 15))
    application.refresh_from_db()
    assert application.upfront_fee == fee  # 1 % of 800,000: waived, halved, charged
