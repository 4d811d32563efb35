"""The REST API: tokens, object permissions on every resource, cursor pagination, precise
errors, masking, rate limit, and a missed payment reported by loan servicing."""

import pytest
from django.utils import timezone

from fincrm.api.api import api
from fincrm.api.models import ApiToken
from fincrm.risk.models import Alert
from fincrm.testing.factories import CustomerFactory, FacilityFactory

pytestmark = pytest.mark.django_db


def test_without_a_valid_token_nothing_is_served(client, users, bearer):
    assert client.get("/api/v1/customers/").status_code == 401
    bad = client.get("/api/v1/customers/", HTTP_AUTHORIZATION="Bearer fcrm_nope_x")
    assert bad.status_code == 401 and bad.json() == {"detail": "Authentication required."}
    headers = bearer(users["manager_a"])
    ApiToken.objects.update(revoked_at=timezone.now())
    assert client.get("/api/v1/customers/", **headers).status_code == 401
    # Only a hash is stored.
    plain = headers["HTTP_AUTHORIZATION"].split()[1]
    assert not ApiToken.objects.filter(key_hash=plain).exists()


def test_manager_a_cannot_read_or_change_manager_b_clients_through_any_endpoint(
    client, book, users, bearer
):
    a = bearer(users["manager_a"])
    b_client = book["b_company"]
    facility = FacilityFactory(customer=b_client)
    listed = client.get("/api/v1/customers/?limit=200", **a).json()["results"]
    assert {c["id"] for c in listed} == {book["a_company"].pk, book["a_person"].pk}
    for method, url, body in [
        ("get", f"/api/v1/customers/{b_client.pk}", None),
        ("patch", f"/api/v1/customers/{b_client.pk}", {"name": "x"}),
        ("get", f"/api/v1/facilities/{facility.pk}", None),
        ("get", f"/api/v1/facilities/{facility.pk}/installments", None),
        ("get", f"/api/v1/facilities/{facility.pk}/payments", None),
        ("post", f"/api/v1/facilities/{facility.pk}/payments",
         {"amount": "100.00", "paid_on": "2026-01-05"}),
        ("post", "/api/v1/interactions/",
         {"customer_id": b_client.pk, "channel": "phone", "subject": "x"}),
    ]:  # fmt: skip
        call = getattr(client, method)
        kwargs = {"data": body, "content_type": "application/json"} if body else {}
        response = call(url, **kwargs, **a)
        assert response.status_code == 404, (method, url, response.status_code)
    assert client.get(f"/api/v1/facilities/?customer_id={b_client.pk}", **a).json()["results"] == []
    b_client.refresh_from_db()
    assert b_client.name != "x"


def test_lists_are_cursor_paginated_in_any_allowed_ordering(client, users, bearer):
    headers = bearer(users["admin"])
    names = [f"客户{i:02d}" for i in range(7)]
    for name in reversed(names):
        CustomerFactory(owner=users["manager_a"], name=name)
    seen, url = [], "/api/v1/customers/?ordering=name&limit=3"
    while url:
        page = client.get(url, **headers).json()
        seen += [c["name"] for c in page["results"]]
        url = page["next"] and f"/api/v1/customers/?ordering=name&limit=3&cursor={page['next']}"
    assert seen == names
    wrong = client.get("/api/v1/customers/?ordering=password", **headers)
    assert wrong.status_code == 400 and "ordering" in wrong.json()["detail"]
    broken = client.get("/api/v1/customers/?cursor=%%%", **headers)
    assert broken.status_code == 400 and "cursor" in broken.json()["detail"]
    assert client.get("/api/v1/customers/?limit=100000", **headers).status_code == 422
    twice = client.get("/api/v1/customers/?industry=C&industry=F", **headers)
    assert twice.status_code == 422 and twice.json()["detail"][0]["loc"] == ["query", "industry"]
    nul = client.get("/api/v1/facilities/?status=a%00b", **headers)
    assert nul.status_code == 422 and nul.json()["detail"][0]["loc"] == ["query", "status"]
    body_nul = client.post(
        "/api/v1/customers/",
        data={"kind": "company", "name": "测试\u0000公司"},
        content_type="application/json",
        **headers,
    )
    assert body_nul.status_code in (400, 422)  # refused as a body, before any model
    huge = client.get(f"/api/v1/customers/{2**70}", **headers)
    assert huge.status_code == 422  # not a database overflow


def test_bad_input_gets_a_precise_4xx_never_a_500(client, users, bearer):
    headers = bearer(users["manager_a"])
    post = lambda body: client.post(  # noqa: E731
        "/api/v1/customers/", data=body, content_type="application/json", **headers
    )
    missing = post({"kind": "company"})
    assert missing.status_code == 422
    assert {e["loc"][-1] for e in missing.json()["detail"]} >= {"name", "industry"}
    assert post({"kind": "company", "name": "x" * 500}).status_code == 422
    assert client.post(
        "/api/v1/customers/", data="{not json", content_type="application/json", **headers
    ).status_code in (400, 422)
    # Valid JSON, but the model refuses it (a company needs a valid credit code): 400 by field.
    refused = post({"kind": "company", "name": "测试公司", "credit_code": "123", "industry": "C",
                    "province": "江苏", "city": "苏州", "client_type": "sme"})  # fmt: skip
    assert refused.status_code == 400 and "credit_code" in refused.json()["detail"]


def test_personal_data_is_masked_for_roles_that_do_not_need_it(client, book, users, bearer):
    person = book["a_person"]
    url = f"/api/v1/customers/{person.pk}"
    as_agent = client.get(url, **bearer(users["agent"])).json()  # sees all, needs no PII
    as_manager = client.get(url, **bearer(users["manager_a"])).json()  # the owner does
    assert as_manager["id_number"] == person.id_number
    assert as_agent["id_number"] == person.id_number[:3] + "*" * 11 + person.id_number[-4:]


def test_a_missed_payment_reported_through_the_api_raises_its_alert_at_once(
    client, book, users, bearer, django_capture_on_commit_callbacks, clock
):
    from datetime import timedelta
    from decimal import Decimal

    from fincrm.testing.factories import monthly_schedule

    today = timezone.localdate()
    facility = FacilityFactory(
        customer=book["a_company"], start_date=(today - timedelta(days=75)).replace(day=5)
    )
    monthly_schedule(facility, months=12, principal=Decimal("100000"), interest=Decimal("5000"))
    first = facility.installments.order_by("number").first()
    url = f"/api/v1/facilities/{facility.pk}/installments/{first.pk}/missed"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, **bearer(users["manager_a"]))
    assert response.status_code == 200 and response.json()["missed_reported_at"]
    alert = Alert.objects.get(customer=book["a_company"], signal="current_dpd")
    assert alert.assigned_to == users["manager_a"]
    listed = client.get("/api/v1/alerts/?open=true", **bearer(users["manager_a"])).json()
    assert [a["id"] for a in listed["results"]] == [alert.pk]


def test_the_openapi_schema_describes_every_resource_and_a_token_is_rate_limited(
    client, users, bearer, monkeypatch
):
    schema = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/customers/", "/api/v1/applications/", "/api/v1/facilities/",
                 "/api/v1/interactions/", "/api/v1/alerts/", "/api/v1/snapshots/"):  # fmt: skip
        assert path in schema["paths"]
    from django.core.cache import cache

    cache.clear()  # the limiter's history lives in the cache, shared by the tests
    throttle = api.throttle[0]
    monkeypatch.setattr(throttle, "num_requests", 3)
    headers = bearer(users["manager_a"])
    codes = [client.get("/api/v1/customers/", **headers).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_a_user_creates_a_token_in_the_ui_sees_it_once_and_revokes_it(client, users, login):
    ui = login(users["manager_a"])
    page = ui.post("/accounts/tokens/", {"name": "核心系统"}).content.decode()
    token = ApiToken.objects.get(user=users["manager_a"])
    plain = page.split('<code class="token">')[1].split("</code>")[0]
    assert plain.startswith(f"fcrm_{token.prefix}_")
    assert plain not in ui.get("/accounts/tokens/").content.decode()  # shown once
    api_client = client.__class__()
    ok = api_client.get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert ok.status_code == 200
    # Another user cannot revoke it; its owner can.
    assert login(users["manager_b"]).post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    login(users["manager_a"]).post(f"/accounts/tokens/{token.pk}/revoke/")
    gone = api_client.get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert gone.status_code == 401


def test_the_interactive_docs_load_their_scripts_from_this_site(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn." not in html
