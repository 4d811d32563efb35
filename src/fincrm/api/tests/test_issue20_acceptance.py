"""Issue 20's checks as the issue states them: on a fresh demo book, through the API, the
executive's and the service agent's tokens cannot log an interaction nor find a client by a
14-digit prefix of its masked ID number; a 23-digit ``owner``, ``customer`` or ``manager``
parameter and forged cursors answer 4xx, not 500."""

import base64
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from fincrm.accounts.models import User
from fincrm.api.models import ApiToken
from fincrm.customers.models import Customer
from fincrm.engagement.models import Interaction

pytestmark = pytest.mark.django_db

BIG = "9" * 23


@pytest.fixture
def demo(client):
    call_command("demo-data", customers=40, seed=7, as_of=date(2026, 6, 30), stdout=StringIO(),
                 stderr=StringIO())  # fmt: skip

    def token(username):
        _row, plain = ApiToken.issue(user=User.objects.get(username=username), name="check")
        return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}

    return token


@pytest.mark.parametrize("username", ["exec", "agent"])
def test_masked_read_only_roles_cannot_log_nor_search_by_prefix(client, demo, username):
    headers = demo(username)
    person = Customer.objects.exclude(id_number=None).order_by("pk").first()
    before = Interaction.objects.count()
    logged = client.post(
        "/api/v1/interactions/",
        data={"customer_id": person.pk, "channel": "phone", "subject": "探访"},
        content_type="application/json",
        **headers,
    )
    assert logged.status_code == 404 and Interaction.objects.count() == before
    found = client.get("/api/v1/customers/", {"q": person.id_number[:14]}, **headers)
    assert found.status_code == 200
    assert person.pk not in {row["id"] for row in found.json()["results"]}
    shown = client.get(f"/api/v1/customers/{person.pk}", **headers).json()["id_number"]
    assert shown != person.id_number  # masked, so the prefix search was the leak


def test_the_owner_still_finds_the_client_by_prefix(client, demo):
    person = Customer.objects.exclude(id_number=None).select_related("owner").first()
    found = client.get("/api/v1/customers/", {"q": person.id_number[:14]},
                       **demo(person.owner.username))  # fmt: skip
    assert person.pk in {row["id"] for row in found.json()["results"]}


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/customers/?owner_id={BIG}",
        f"/api/v1/customers/?owner={BIG}",
        f"/api/v1/applications/?customer_id={BIG}",
        f"/api/v1/facilities/?customer={BIG}",
        f"/api/v1/interactions/?manager={BIG}",
        "/api/v1/customers/?cursor=null",
        "/api/v1/customers/?cursor=1e308",
        "/api/v1/customers/?cursor=" + base64.urlsafe_b64encode(b"null").decode(),
        "/api/v1/customers/?cursor=" + base64.urlsafe_b64encode(b"1e308").decode(),
        "/api/v1/customers/?cursor="
        + base64.urlsafe_b64encode(b'{"o": "-id", "id": 1e308}').decode(),
        "/api/v1/customers/?ordering=name&cursor="
        + base64.urlsafe_b64encode(b'{"o": "name", "id": 1, "v": null}').decode(),
    ],
)
def test_huge_numbers_and_forged_cursors_are_4xx(client, demo, url):
    response = client.get(url, **demo("admin"))
    assert 400 <= response.status_code < 500, (url, response.status_code)


@pytest.mark.parametrize(
    "url",
    [
        f"/customers/?owner={BIG}",
        f"/financing/applications/?customer={BIG}",
        f"/insights/?manager={BIG}",
        f"/audit/?user={BIG}",
    ],
)
def test_the_pages_answer_4xx_too(client, demo, url):
    client.force_login(User.objects.get(username="admin"))
    assert 400 <= client.get(url).status_code < 500
