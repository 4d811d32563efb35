"""Who sees which client: a test per role, through the real views (404 for the forbidden)."""

import pytest
from django.urls import reverse

from fincrm.customers.models import Customer

pytestmark = pytest.mark.django_db

VISIBLE = {
    "manager_a": {"a_company", "a_person"},
    "manager_b": {"b_company", "b_person"},
    "lead": {"a_company", "a_person"},
    "risk": {"a_company", "a_person", "b_company", "b_person"},
    "agent": {"a_company", "a_person", "b_company", "b_person"},
    "exec": {"a_company", "a_person", "b_company", "b_person"},
    "admin": {"a_company", "a_person", "b_company", "b_person"},
    "outsider": set(),
}
CHANGEABLE = {
    "manager_a": {"a_company", "a_person"},
    "manager_b": {"b_company", "b_person"},
    "lead": {"a_company", "a_person"},
    "risk": set(),
    "agent": set(),
    "exec": set(),
    "admin": {"a_company", "a_person", "b_company", "b_person"},
    "outsider": set(),
}


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_restrict_gives_each_role_exactly_its_book(who, users, book):
    user = users[who]
    names = {
        key for key, c in book.items() if Customer.objects.restrict(user).filter(pk=c.pk).exists()
    }
    assert names == VISIBLE[who]
    changeable = {
        key
        for key, c in book.items()
        if Customer.objects.restrict(user, "change").filter(pk=c.pk).exists()
    }
    assert changeable == CHANGEABLE[who]


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_detail_page_is_404_outside_the_book(who, users, book, login):
    client = login(users[who])
    for key, customer in book.items():
        response = client.get(reverse("customers:detail", args=[customer.pk]))
        expected = 200 if key in VISIBLE[who] else 404
        assert response.status_code == expected, (who, key)
        if expected == 404:
            assert customer.name not in response.content.decode()


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_list_page_shows_only_the_book(who, users, book, login):
    client = login(users[who])
    html = client.get(reverse("customers:list")).content.decode()
    for key, customer in book.items():
        assert (customer.name in html) == (key in VISIBLE[who]), (who, key)


@pytest.mark.parametrize("who", sorted(CHANGEABLE))
def test_edit_page_is_404_unless_the_user_may_change(who, users, book, login):
    client = login(users[who])
    for key, customer in book.items():
        response = client.get(reverse("customers:edit", args=[customer.pk]))
        assert response.status_code == (200 if key in CHANGEABLE[who] else 404), (who, key)


def test_a_lead_sees_sub_team_clients_but_not_a_sibling_division(users, book, teams):
    from fincrm.accounts.models import Team
    from fincrm.testing.factories import CustomerFactory, UserFactory

    deep = Team.objects.create(name="华东一组-苏州", parent=teams["east1"])
    deep_manager = UserFactory(username="deep", team=deep)
    deep_client = CustomerFactory(owner=deep_manager)
    visible = Customer.objects.restrict(users["lead"])
    assert visible.filter(pk=deep_client.pk).exists()
    assert not visible.filter(pk=book["b_company"].pk).exists()


def test_anonymous_users_are_sent_to_login(client, book):
    response = client.get(reverse("customers:detail", args=[book["a_company"].pk]))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_inactive_users_see_nothing(users, book):
    user = users["risk"]
    user.is_active = False
    assert not Customer.objects.restrict(user).exists()


def test_rules_permission_matches_restrict(users, book):
    assert users["manager_a"].has_perm("customers.view_customer", book["a_company"])
    assert not users["manager_a"].has_perm("customers.view_customer", book["b_company"])
    assert users["risk"].has_perm("customers.view_customer", book["b_company"])
    assert not users["risk"].has_perm("customers.change_customer", book["b_company"])
    assert not users["agent"].has_perm("customers.add_customer")
    assert users["manager_a"].has_perm("customers.add_customer")
