"""The search box in the top bar: results grouped by kind, each only what the user may see."""

import pytest
from django.urls import reverse

from fincrm.testing.factories import ApplicationFactory, FacilityFactory
from fincrm.web.search import global_search

pytestmark = pytest.mark.django_db


def test_it_finds_clients_applications_and_contracts_the_user_may_see(users, book):
    mine = ApplicationFactory(customer=book["a_company"], amount=1_000_000)
    theirs = ApplicationFactory(customer=book["b_company"], amount=1_000_000)
    FacilityFactory(customer=book["a_company"], contract_number="HT2026A00001")
    FacilityFactory(customer=book["b_company"], contract_number="HT2026A00002")

    found = global_search(user=users["manager_a"], query="恒瑞")
    assert [c.pk for c in found.clients] == [book["a_company"].pk]
    assert global_search(user=users["manager_a"], query="华信").clients == []  # manager_b's

    assert global_search(user=users["manager_a"], query=mine.number).applications == [mine]
    assert global_search(user=users["manager_a"], query=str(theirs.pk)).applications == []
    contracts = global_search(user=users["manager_a"], query="HT2026A")
    assert [f.contract_number for f in contracts.facilities] == ["HT2026A00001"]
    assert len(global_search(user=users["risk"], query="ht2026a").facilities) == 2


def test_a_masked_role_does_not_find_a_client_by_part_of_an_id_number(users, book):
    person = book["a_person"]
    assert global_search(user=users["agent"], query=person.id_number[:10]).clients == []
    assert global_search(user=users["agent"], query=person.id_number).clients == [person]
    assert person in global_search(user=users["manager_a"], query=person.id_number[:10]).clients


def test_a_query_too_short_or_absurd_finds_nothing(users, book):
    assert global_search(user=users["risk"], query="恒").too_short
    assert global_search(user=users["risk"], query="SQ" + "9" * 40).empty


def test_the_page_groups_the_results_and_the_top_bar_has_the_box(login, users, book):
    ApplicationFactory(customer=book["a_company"], amount=1_000_000)
    client = login(users["manager_a"])
    client.cookies["django_language"] = "zh-hans"
    html = client.get(reverse("search") + "?q=恒瑞").content.decode()
    assert 'id="search-clients"' in html and book["a_company"].name in html
    assert 'id="top-search"' in client.get(reverse("home")).content.decode()
    assert "请至少输入两个字符" in client.get(reverse("search") + "?q=恒").content.decode()


def test_the_page_needs_a_login(client):
    response = client.get(reverse("search") + "?q=恒瑞")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
