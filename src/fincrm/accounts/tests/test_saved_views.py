"""Saved views of list pages: a user's own, the team's shared ones, deleted only by their
owner; only pages of this site."""

import pytest
from django.urls import reverse

from fincrm.accounts.models import SavedView
from fincrm.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

ALERTS = "/risk/alerts/"


def _save(client, name="严重预警", shared=False, query="severity=critical&page=3"):
    data = {"name": name, "path": ALERTS, "query": query}
    if shared:
        data["shared"] = "on"
    return client.post(reverse("accounts:saved_view_save"), data)


def test_a_saved_view_opens_the_list_as_it_was_without_the_page(login, users):
    response = _save(login(users["manager_a"]))
    assert response.status_code == 302
    assert response["Location"] == ALERTS + "?severity=critical"
    view = SavedView.objects.get()
    assert (view.owner, view.query, view.shared) == (users["manager_a"], "severity=critical", False)


def test_the_list_shows_own_and_team_shared_views_only(login, users, teams):
    teammate = UserFactory(username="manager_a2", role="account_manager", team=teams["east1"])
    _save(login(users["manager_a"]), name="我的视图")
    _save(login(teammate), name="团队视图", shared=True)
    _save(login(teammate), name="私人视图")
    _save(login(users["manager_b"]), name="华南视图", shared=True)
    html = login(users["manager_a"]).get(ALERTS).content.decode()
    assert "我的视图" in html and "团队视图" in html
    assert "私人视图" not in html and "华南视图" not in html


def test_only_the_owner_deletes_a_view(login, users, teams):
    teammate = UserFactory(username="manager_a2", role="account_manager", team=teams["east1"])
    _save(login(teammate), name="团队视图", shared=True)
    view = SavedView.objects.get()
    client = login(users["manager_a"])  # sees it, may not delete it
    response = client.post(reverse("accounts:saved_view_delete"), {"view": view.pk})
    assert response.status_code == 404 and SavedView.objects.exists()
    response = login(teammate).post(reverse("accounts:saved_view_delete"), {"view": view.pk})
    assert response.status_code == 302 and not SavedView.objects.exists()


def test_it_saves_pages_of_this_site_only(login, users):
    client = login(users["manager_a"])
    for path in ("https://evil.example/", "//evil.example/", "/no/such/page/"):
        client.post(reverse("accounts:saved_view_save"), {"name": "x", "path": path, "query": ""})
    assert not SavedView.objects.exists()


def test_saving_the_same_name_again_overwrites_it(login, users):
    client = login(users["manager_a"])
    _save(client, query="severity=high")
    _save(client, query="severity=critical")
    assert list(SavedView.objects.values_list("query", flat=True)) == ["severity=critical"]


def test_anonymous_and_get_are_refused(client):
    assert client.post(reverse("accounts:saved_view_save"), {}).status_code == 302  # login
    assert client.get(reverse("accounts:saved_view_save")).status_code == 405
