import pytest
from django.db import connection
from django.urls import reverse

from fincrm.core import pagination
from fincrm.core.pagination import EstimatedCountPaginator, planner_estimate
from fincrm.customers.models import Customer
from fincrm.testing.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="planner estimates exist on PostgreSQL only"
)


def test_small_sets_are_counted_exactly():
    CustomerFactory.create_batch(7)
    paginator = EstimatedCountPaginator(Customer.objects.order_by("pk"), 5)
    assert paginator.count == 7
    assert paginator.num_pages == 2
    assert paginator.estimated is False


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite has no estimate")
def test_without_a_planner_estimate_the_count_is_exact(monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_BELOW", 0)
    CustomerFactory.create_batch(3)
    assert planner_estimate(Customer.objects.all()) is None
    paginator = EstimatedCountPaginator(Customer.objects.order_by("pk"), 2)
    assert (paginator.count, paginator.estimated) == (3, False)


@on_postgres
def test_large_sets_show_the_planners_estimate_as_about(monkeypatch, client):
    monkeypatch.setattr(pagination, "EXACT_BELOW", 10)
    admin = UserFactory(role="admin", is_superuser=True, is_staff=True)
    CustomerFactory.create_batch(40, owner=admin)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")

    estimate = planner_estimate(Customer.objects.all())
    assert 20 <= estimate <= 80  # the planner's guess after ANALYZE, near the true 40
    paginator = EstimatedCountPaginator(Customer.objects.order_by("pk"), 25)
    assert paginator.count == estimate and paginator.estimated is True

    client.force_login(admin)
    response = client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="en")
    assert f"about {estimate} in all" in response.content.decode()


def test_an_empty_queryset_counts_zero_without_asking_the_planner(monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_BELOW", 0)
    assert planner_estimate(Customer.objects.none()) is None
    paginator = EstimatedCountPaginator(Customer.objects.none(), 25)
    assert (paginator.count, paginator.estimated) == (0, False)
