"""Raw reads into typed frames (features.fetch) on whichever backend runs the suite."""

from concurrent.futures import Future
from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest
from django.db import connection, transaction
from django.db.models import Max
from polars.testing import assert_frame_equal

from fincrm.customers.models import Customer
from fincrm.engagement.models import Interaction
from fincrm.evaluation.features import LOCAL_DATE, BookReads, fetch, fetch_for
from fincrm.testing.factories import CustomerFactory, UserFactory

from .conftest import AS_OF

pytestmark = pytest.mark.django_db


def test_values_come_back_typed_and_datetimes_as_the_local_date():
    owner = UserFactory()
    a = CustomerFactory(owner=owner, annual_revenue=Decimal("1234567.89"), founded_on=None)
    b = CustomerFactory(owner=owner, annual_revenue=Decimal("0.10"), founded_on=date(2001, 2, 3))
    # 17:30 UTC on 1 March is 01:30 on 2 March in Shanghai: the local date is the 2nd.
    for when in (datetime(2026, 3, 1, 17, 30, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)):
        Interaction.objects.create(customer=a, channel="phone", subject="x", occurred_at=when)

    customers = fetch(
        Customer.objects.order_by("pk").values_list("pk", "annual_revenue", "founded_on"),
        {"customer_id": pl.Int64, "annual_revenue": pl.Float64, "founded_on": pl.Date},
    )
    assert customers.schema == {
        "customer_id": pl.Int64, "annual_revenue": pl.Float64, "founded_on": pl.Date,
    }  # fmt: skip
    assert customers.rows() == [(a.pk, 1234567.89, None), (b.pk, 0.1, date(2001, 2, 3))]

    last = fetch(
        Interaction.objects.order_by()
        .values("customer_id")
        .annotate(last=Max("occurred_at"))
        .values_list("customer_id", "last"),
        {"customer_id": pl.Int64, "last": LOCAL_DATE},
    )
    assert last.rows() == [(a.pk, date(2026, 3, 2))]


def test_no_rows_give_an_empty_frame_of_the_schema():
    schema = {"customer_id": pl.Int64, "last": LOCAL_DATE, "x": pl.Float64}
    empty = fetch_for(
        Interaction.objects.values_list("customer_id", "occurred_at", "pk"),
        "customer_id",
        [],
        schema,
    )
    assert empty.height == 0
    assert empty.schema == {"customer_id": pl.Int64, "last": pl.Date, "x": pl.Float64}


on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="reads on other connections: PostgreSQL only"
)


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_prefetched_reads_on_other_connections_equal_the_reads_on_the_run_connection(rich_book):
    with transaction.atomic():
        reads = BookReads(as_of=AS_OF, customer_ids=None)
        reads.prefetch()
        assert all(isinstance(f, Future) for f in reads._frames.values())  # other connections
        prefetched = {name: reads.get(name) for name in reads.readers}

    plain = BookReads(as_of=AS_OF, customer_ids=None)
    assert prefetched["installments"].height and prefetched["statements"].height
    for name, frame in prefetched.items():
        assert_frame_equal(frame, plain.get(name))


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_has_written_reads_on_its_own_connection(rich_book):
    before = Customer.objects.count()
    with transaction.atomic():
        CustomerFactory()  # not committed: another connection would not see it
        reads = BookReads(as_of=AS_OF, customer_ids=None)
        reads.prefetch()
        assert not reads._frames
        assert reads.get("customers").height == before + 1
