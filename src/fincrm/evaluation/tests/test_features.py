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
    assert prefetched["repayment"].height and prefetched["statements"].height
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


def _repayment_from_rows(as_of: date) -> pl.DataFrame:
    """The definition, instalment by instalment in polars (what the run read before)."""
    from fincrm.financing.models import Installment

    rows = pl.DataFrame(
        list(
            Installment.objects.values_list(
                "facility__customer_id", "due_date", "paid_off_on", "principal_due",
                "interest_due", "amount_paid",
            )
        ),
        schema={
            "customer_id": pl.Int64, "due_date": pl.Date, "paid_off_on": pl.Date,
            "principal_due": pl.Float64, "interest_due": pl.Float64, "amount_paid": pl.Float64,
        },
        orient="row",
    ).filter((pl.col("due_date") > pl.lit(as_of) - pl.duration(days=365))
             & (pl.col("due_date") <= as_of))  # fmt: skip
    late = (pl.col("paid_off_on").fill_null(as_of) - pl.col("due_date")).dt.total_days().clip(0)
    known = pl.when(pl.col("paid_off_on") <= as_of).then(pl.col("paid_off_on")).otherwise(as_of)
    known_late = (known - pl.col("due_date")).dt.total_days().clip(0)
    before = pl.col("due_date") < as_of
    still_open = before & (pl.col("paid_off_on").is_null() | (pl.col("paid_off_on") > as_of))
    share = pl.col("amount_paid") / (pl.col("principal_due") + pl.col("interest_due"))
    return rows.group_by("customer_id").agg(
        interest_income_12m=(pl.col("interest_due") * share.clip(0, 1)).fill_nan(0).sum(),
        max_dpd_12m=late.max(),
        known_max_dpd_12m=known_late.filter(before).max(),
        known_current_dpd=(pl.lit(as_of) - pl.col("due_date"))
        .dt.total_days()
        .filter(still_open)
        .max(),
    )


def test_the_repayment_aggregate_equals_the_instalment_by_instalment_definition(rich_book):
    from fincrm.evaluation.features import _read_repayment
    from fincrm.financing.models import Installment
    from fincrm.financing.services import payment_record
    from fincrm.testing.factories import FacilityFactory, monthly_schedule

    # A second client: late, partly paid, one instalment owing nothing, one never paid.
    other = FacilityFactory(customer=rich_book["b_person"], start_date=date(2025, 11, 3))
    monthly_schedule(other, months=10, principal=Decimal("1000.50"), interest=Decimal("33.25"))
    Installment.objects.filter(facility=other, number=4).update(
        principal_due=Decimal(0), interest_due=Decimal(0)
    )
    payment_record(facility=other, amount=Decimal("1033.75"), paid_on=date(2026, 1, 20))
    payment_record(facility=other, amount=Decimal("1500"), paid_on=date(2026, 3, 9))
    for as_of in (date(2025, 12, 31), date(2026, 2, 3), date(2026, 3, 8), AS_OF, date(2027, 1, 1)):
        expected = _repayment_from_rows(as_of).sort("customer_id")
        got = _read_repayment(as_of, None).sort("customer_id")
        assert got.height == expected.height >= 1
        assert_frame_equal(got, expected, check_dtypes=False, abs_tol=1e-6)
