"""The two leaks of issue 20, closed: a role that may not change a client cannot log an
interaction on it through the API (the API and the page agree, role by role), and a role that
sees ID numbers and phones masked cannot recover them by prefix search."""

import pytest

from fincrm.core.models import AccessAction, AccessLog
from fincrm.engagement.models import Interaction
from fincrm.testing.factories import ContactFactory

pytestmark = pytest.mark.django_db

ROLES = ("manager_a", "manager_b", "lead", "risk", "agent", "exec", "admin", "outsider")
#: Who may change which client of ``book`` (core/permissions.py's table): a manager their
#: own, the lead the clients of the teams below theirs, the administrator all, nobody else.
MAY_CHANGE = {
    "manager_a": {"a_company"},
    "manager_b": {"b_company"},
    "lead": {"a_company"},
    "admin": {"a_company", "b_company"},
}


@pytest.mark.parametrize("role", ROLES)
def test_logging_an_interaction_needs_the_change_rule_in_the_api_as_in_the_page(
    client, book, users, bearer, role
):
    user = users[role]
    headers = bearer(user)
    for key in ("a_company", "b_company"):
        customer = book[key]
        before = Interaction.objects.filter(customer=customer).count()
        api = client.post(
            "/api/v1/interactions/",
            data={"customer_id": customer.pk, "channel": "phone", "subject": "回访"},
            content_type="application/json",
            **headers,
        )
        client.force_login(user)
        page = client.post(
            f"/engagement/clients/{customer.pk}/interactions/new/",
            {"channel": "phone", "subject": "回访"},
        )
        client.logout()
        allowed = key in MAY_CHANGE.get(role, set())
        assert (api.status_code == 201) is allowed, (role, key, api.status_code)
        assert (page.status_code == 302) is allowed, (role, key, page.status_code)
        if not allowed:
            assert api.status_code == page.status_code == 404, (role, key)
        written = Interaction.objects.filter(customer=customer).count() - before
        assert written == (2 if allowed else 0), (role, key)


@pytest.fixture
def person(book):
    person = book["a_person"]
    ContactFactory(customer=book["a_company"], phone="13912345678")
    return person


def _found(client, headers, q) -> set[int]:
    response = client.get("/api/v1/customers/", {"q": q, "limit": 200}, **headers)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("role", ["exec", "agent"])
def test_a_masked_role_cannot_find_a_client_by_a_prefix_of_its_id_number(
    client, person, users, bearer, role
):
    headers = bearer(users[role])
    assert len(person.id_number) == 18
    for length in (2, 6, 14, 17):
        assert person.pk not in _found(client, headers, person.id_number[:length]), length
    assert not AccessLog.objects.filter(action=AccessAction.SEARCH_PII).exists()


@pytest.mark.parametrize("role", ["exec", "agent"])
def test_a_masked_role_finds_a_client_by_the_full_id_number_and_it_is_logged(
    client, person, book, users, bearer, role
):
    headers = bearer(users[role])
    assert _found(client, headers, person.id_number) == {person.pk}
    logged = AccessLog.objects.get(action=AccessAction.SEARCH_PII)
    assert (logged.user, logged.customer, logged.via) == (users[role], person, "api")
    # A phone likewise: a prefix finds nothing, the full number finds the client (a contact's
    # phone finds its company).
    assert book["a_company"].pk not in _found(client, headers, "1391234")
    assert book["a_company"].pk in _found(client, headers, "13912345678")
    assert AccessLog.objects.filter(
        action=AccessAction.SEARCH_PII, customer=book["a_company"]
    ).exists()


@pytest.mark.parametrize("role", ["manager_a", "lead", "risk", "admin"])
def test_roles_that_see_id_numbers_still_search_them_by_prefix(client, person, users, bearer, role):
    headers = bearer(users[role])
    assert person.pk in _found(client, headers, person.id_number[:14])
    assert not AccessLog.objects.filter(action=AccessAction.SEARCH_PII).exists()


def test_the_client_list_page_applies_the_same_rule(client, person, users, login):
    def listed(user, q):
        response = login(user).get("/customers/", {"q": q})
        assert response.status_code == 200
        return {c.pk for c in response.context["object_list"]}

    assert person.pk not in listed(users["agent"], person.id_number[:14])
    assert person.pk in listed(users["agent"], person.id_number)
    logged = AccessLog.objects.get(action=AccessAction.SEARCH_PII)
    assert (logged.user, logged.customer, logged.via) == (users["agent"], person, "page")
    assert person.pk in listed(users["manager_a"], person.id_number[:14])


@pytest.mark.parametrize("role", ROLES)
def test_every_change_to_a_client_through_the_api_follows_the_pages_rule(
    client, book, users, bearer, role
):
    """Editing the client, adding a contact or a statement: the page's edit rule (change on
    the client), refused as the page refuses it (404)."""
    headers = bearer(users[role])
    statement = {"period_end": "2025-12-31", "revenue": "1", "cost": "1", "net_profit": "0",
                 "total_assets": "1", "total_liabilities": "0", "current_assets": "1",
                 "current_liabilities": "0", "inventory": "0", "receivables": "0",
                 "operating_cash_flow": "0", "interest_expense": "0"}  # fmt: skip
    for key in ("a_company", "b_company"):
        pk = book[key].pk
        calls = [
            ("patch", f"/api/v1/customers/{pk}", {"city": "苏州"}),
            ("post", "/api/v1/contacts/", {"customer_id": pk, "name": "李四"}),
            ("post", "/api/v1/statements/", {"customer_id": pk, **statement}),
        ]
        client.force_login(users[role])
        page = client.get(f"/customers/{pk}/edit/").status_code
        client.logout()
        allowed = key in MAY_CHANGE.get(role, set())
        assert (page == 200) is allowed, (role, key, page)
        for method, url, body in calls:
            response = getattr(client, method)(
                url, data=body, content_type="application/json", **headers
            )
            if allowed:
                assert response.status_code in (200, 201), (role, url, response.content)
            else:
                assert response.status_code == 404, (role, url, response.status_code)
