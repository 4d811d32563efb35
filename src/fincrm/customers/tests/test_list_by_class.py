"""The client list filtered by the current classification: the same clients, order and count
whichever way the database reads them (on SQLite the page through ``EXISTS``, the count
through the join)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fincrm.customers.filtersets import CustomerFilterSet
from fincrm.customers.models import Customer
from fincrm.evaluation.models import Classification
from fincrm.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def classified(users):
    now = timezone.now()
    rows = {}
    specs = [
        ("core", "A", "active", ["growing"], users["manager_a"]),
        ("core", "BB", "dormant", [], users["manager_a"]),
        ("low", "A", "dormant", ["growing", "at_risk"], users["manager_b"]),
        ("core", "A", "active", [], users["manager_b"]),
    ]
    for n, (tier, grade, lifecycle, segments, owner) in enumerate(specs):
        client = CustomerFactory(owner=owner)
        Classification.objects.create(
            customer=client, tier=tier, tier_since=now, value_score=50.0 + n, grade=grade,
            size_band="small", lifecycle=lifecycle, segments=segments, evaluated_at=now,
        )  # fmt: skip
        rows[n] = client
    rows["unclassified"] = CustomerFactory(owner=users["manager_a"])
    return rows


def listed(client, user, query: dict):
    client.force_login(user)
    response = client.get("/customers/", query)
    assert response.status_code == 200
    page = response.context["page_obj"]
    return [c.pk for c in response.context["object_list"]], page.paginator.count


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"tier": "core"}, [0, 1, 3]),
        ({"grade": "A"}, [0, 2, 3]),
        ({"lifecycle": "dormant"}, [1, 2]),
        ({"segment": "growing"}, [0, 2]),
        ({"tier": "core", "grade": "A"}, [0, 3]),
        ({"tier": "core", "lifecycle": "dormant", "grade": "A"}, []),
        ({"size_band": "small"}, [0, 1, 2, 3]),
    ],
)
def test_a_class_filter_lists_exactly_its_clients_newest_first_and_counts_them(
    client, users, classified, query, expected
):
    ids, count = listed(client, users["admin"], query)
    newest_first = sorted((classified[n].pk for n in expected), reverse=True)
    assert ids == newest_first
    assert count == len(expected)


def test_a_class_filter_stays_within_what_the_user_may_see(client, users, classified):
    ids, count = listed(client, users["manager_a"], {"tier": "core"})
    assert ids == sorted([classified[0].pk, classified[1].pk], reverse=True)
    assert count == 2


def test_a_class_filter_with_a_sort_by_value_score(client, users, classified):
    ids, count = listed(client, users["admin"], {"grade": "A", "ordering": "-value_score"})
    assert ids == [classified[3].pk, classified[2].pk, classified[0].pk]
    assert count == 3


def test_a_class_filter_with_a_search(client, users, classified):
    classified[1].name = "杭州云栖数据科技有限公司"
    classified[1].save()
    ids, count = listed(client, users["admin"], {"tier": "core", "q": "云栖数据"})
    assert (ids, count) == ([classified[1].pk], 1)
    assert listed(client, users["admin"], {"tier": "low", "q": "云栖数据"}) == ([], 0)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the page plan is SQLite's")
def test_on_sqlite_the_page_walks_the_list_order_and_the_count_joins(rf, users, classified):
    filterset = CustomerFilterSet({"tier": "core"}, queryset=Customer.objects.all())
    page = filterset.qs
    with CaptureQueriesContext(connection) as ctx:
        list(page[:25])
        filterset.counted.count()
    page_sql, count_sql = (q["sql"] for q in ctx.captured_queries)
    assert "EXISTS" in page_sql and "JOIN" not in page_sql
    assert "INNER JOIN" in count_sql and "EXISTS" not in count_sql
    with connection.cursor() as cursor:
        sql, params = page.query.sql_with_params()
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(row[3] for row in cursor.fetchall())
    assert "TEMP B-TREE" not in plan  # no sort of every client of the class for one page


def test_without_a_class_filter_the_list_counts_its_own_rows(users, classified):
    filterset = CustomerFilterSet({"industry": "C"}, queryset=Customer.objects.all())
    assert filterset.qs.count() == 5
    assert filterset.counted is None
