"""Raw reads into typed frames (features.fetch) on whichever backend runs the suite."""

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest
from django.db.models import Max

from fincrm.customers.models import Customer
from fincrm.engagement.models import Interaction
from fincrm.evaluation.features import LOCAL_DATE, fetch, fetch_for
from fincrm.testing.factories import CustomerFactory, UserFactory

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
