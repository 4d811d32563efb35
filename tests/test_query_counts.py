"""No N+1 anywhere: every list and detail page runs the same number of SQL queries whether it
shows a few rows or a full page, and a 360° page the same for a short and a long history."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fincrm.accounts.models import User
from fincrm.customers.models import Customer

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)

#: (url name, user, query string): every list page, seen by the role that works with it.
PAGES = [
    ("home", "manager1", ""),
    # Each role's workbench (the executive's reads the KPI dashboard's cached figures, and
    # the bell its cache: both pinned in core/tests instead).
    ("home", "lead_east", ""),
    ("home", "risk", ""),
    ("home", "agent", ""),
    ("home", "admin", ""),
    ("notifications", "manager1", ""),
    ("customers:list", "admin", ""),
    ("customers:list", "manager1", "?ordering=-annual_revenue"),
    ("customers:list", "lead_east", ""),
    ("customers:list", "manager1", ""),
    ("financing:applications", "manager1", ""),
    ("engagement:tasks", "manager1", ""),
    ("engagement:tasks", "lead_east", "?scope=team"),
    ("risk:alerts", "risk", ""),
    ("risk:proposals", "risk", ""),
    ("risk:reviews", "risk", ""),
    ("risk:portfolio", "risk", ""),
    ("evaluation:segments", "admin", ""),
    ("evaluation:runs", "admin", ""),
]


def _book(n: int) -> None:
    call_command(
        "demo-data", customers=n, seed=3, as_of=AS_OF, reset=True, stdout=StringIO(),
        stderr=StringIO(),
    )  # fmt: skip
    call_command("evaluate", full=True, stdout=StringIO(), stderr=StringIO())


def _queries(client, username: str, url: str) -> tuple[int, int]:
    """(queries, response size) of one GET as ``username``."""
    client.force_login(User.objects.get(username=username))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), len(response.content)


def test_list_pages_run_a_constant_number_of_queries(client):
    _book(55)  # enough for data-driven clusters, few rows per manager
    small = {
        (name, user, qs): _queries(client, user, reverse(name) + qs) for name, user, qs in PAGES
    }
    _book(250)
    large = {
        (name, user, qs): _queries(client, user, reverse(name) + qs) for name, user, qs in PAGES
    }
    grew = [page for page in PAGES if large[page][1] > small[page][1]]
    # Alerts and reviews show a full page (25 rows) on both books, and so do the lead's, the
    # risk officer's and the agent's workbenches (their lists hold 10-20 rows).
    assert len(grew) >= len(PAGES) - 8, "the larger book should show more rows on most pages"
    differing = {
        page: (small[page][0], large[page][0]) for page in PAGES if small[page][0] != large[page][0]
    }
    assert differing == {}


def test_the_360_page_runs_as_many_queries_for_a_long_history_as_for_a_short_one(client):
    _book(80)
    with_history = Customer.objects.annotate(
        n_facilities=Count("facilities", distinct=True),
        n_interactions=Count("interactions", distinct=True),
    ).filter(n_facilities__gt=0)
    short = with_history.order_by("n_facilities", "n_interactions").first()
    long = with_history.order_by("-n_facilities", "-n_interactions").first()
    assert (long.n_facilities, long.n_interactions) > (short.n_facilities, short.n_interactions)

    counts = {
        c.pk: _queries(client, "admin", reverse("customers:detail", args=[c.pk]))[0]
        for c in (short, long)
    }
    assert counts[short.pk] == counts[long.pk]
