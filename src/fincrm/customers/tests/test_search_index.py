import pytest
from django.db import connection

from fincrm.customers.filtersets import CustomerFilterSet
from fincrm.customers.models import Customer
from fincrm.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm exists on PostgreSQL")
def test_name_search_can_use_the_trigram_index():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'customers_name_trgm'")
        (definition,) = cursor.fetchone()
        assert "gin" in definition and "gin_trgm_ops" in definition
        # The planner can use it for Django's icontains SQL: with sequential and plain index
        # scans switched off, only a bitmap scan of an index on that expression remains.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        qs = Customer.objects.order_by().filter(name__icontains="精密机")
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customers_name_trgm" in plan


def test_search_finds_a_name_substring_and_codes_from_their_start(users):
    firm = CustomerFactory(owner=users["manager_a"], name="苏州恒瑞精密机械有限公司")
    CustomerFactory(owner=users["manager_a"], name="深圳华信供应链管理有限公司")
    found = CustomerFilterSet({"q": "恒瑞精密"}, queryset=Customer.objects.all()).qs
    assert list(found) == [firm]
    by_code = CustomerFilterSet({"q": firm.credit_code[:8]}, queryset=Customer.objects.all()).qs
    assert firm in by_code


def test_a_two_character_name_is_found(users):
    person = CustomerFactory(owner=users["manager_a"], person=True, name="唐桂")
    CustomerFactory(owner=users["manager_a"], person=True, name="唐建国")
    found = CustomerFilterSet({"q": "唐桂"}, queryset=Customer.objects.all()).qs
    assert list(found) == [person]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL expression index")
def test_a_two_character_search_can_use_the_bigram_index(users):
    CustomerFactory(owner=users["manager_a"], person=True, name="唐桂")
    qs = CustomerFilterSet({"q": "唐桂"}, queryset=Customer.objects.all()).qs.order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customers_name_bigram" in plan


def test_sorting_by_value_score_lists_evaluated_clients_best_first(book):
    from django.utils import timezone

    from fincrm.evaluation.models import Classification

    now = timezone.now()
    for key, score in (("a_company", 61.0), ("a_person", 75.5), ("b_company", 61.0)):
        Classification.objects.create(
            customer=book[key], tier="key", tier_since=now, value_score=score, grade="A",
            size_band="small", lifecycle="active", evaluated_at=now,
        )  # fmt: skip
    ordered = CustomerFilterSet({"ordering": "-value_score"}, queryset=Customer.objects.all()).qs
    ties = sorted([book["a_company"].pk, book["b_company"].pk], reverse=True)
    assert [c.pk for c in ordered] == [book["a_person"].pk, *ties]
    ascending = CustomerFilterSet({"ordering": "value_score"}, queryset=Customer.objects.all()).qs
    assert [c.pk for c in ascending] == [*reversed(ties), book["a_person"].pk]
