"""The per-client reads of a run, one aggregated query per source table."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl
from django.apps import apps
from django.db import connections
from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Min,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Least, NullIf
from django.utils import timezone

from fincrm.core.frames import LOCAL_DATE, fetch_for
from fincrm.customers.models import Customer
from fincrm.engagement.models import SUCCESSFUL_OUTCOMES, Interaction
from fincrm.financing.choices import FacilityStatus
from fincrm.financing.models import Application, Facility, Fee, Installment, Payment

YEAR = timedelta(days=365)

PREDICTION_SCHEMA = {
    "customer_id": pl.Int64,
    "days_to_need": pl.Int64,
    "need_confidence": pl.String,
}

REPAYMENT_SCHEMA = {
    "customer_id": pl.Int64,
    "interest_income_12m": pl.Float64,
    "max_dpd_12m": pl.Int64,
    "known_max_dpd_12m": pl.Int64,
    "known_current_dpd": pl.Int64,
}


class DaysBetween(Func):
    """Whole days from ``start`` to ``end`` (two dates): ``end - start`` on PostgreSQL."""

    output_field = IntegerField()

    def __init__(self, end, start):
        super().__init__(end, start)

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ")

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
        )


def _scan_friendly(field: str, connection_alias: str = "default"):
    """``field`` for a range filter that covers a large share of its table.

    SQLite has no statistics on a fresh database and walks the index for any range, fetching
    rows one by one, three times slower than a scan when a year of four is asked for; the
    expression hides the index from SQLite only (PostgreSQL's planner chooses by itself).
    """
    if connections[connection_alias].vendor == "sqlite":
        return Coalesce(F(field), F(field))
    return F(field)


def _read_repayment(as_of: date, ids) -> pl.DataFrame:
    """Per client, over the instalments due in the year up to and including ``as_of``:

    - ``interest_income_12m``: the interest share of what was paid on each instalment;
    - ``max_dpd_12m``: the most days any of them was (or still is) paid late;
    - ``known_max_dpd_12m``, ``known_current_dpd``: the same as known on ``as_of`` (a payment
      made later had not happened yet), over the instalments due before it, and the arrears
      of those still open then (the scorecard's point-in-time characteristics).

    Aggregated by the database: a million clients' year is 4.4M instalments, which cost more
    to send and parse than to sum where they are.
    """
    due, paid_on, day = F("due_date"), F("paid_off_on"), Value(as_of, output_field=DateField())
    owed = Cast(F("principal_due") + F("interest_due"), FloatField())
    share = Cast(F("amount_paid"), FloatField()) / NullIf(owed, Value(0.0))
    known_paid_on = Case(When(paid_off_on__lte=as_of, then=paid_on), default=day)
    before = Q(due_date__lt=as_of)
    still_open = before & (Q(paid_off_on__isnull=True) | Q(paid_off_on__gt=as_of))
    qs = (
        Installment.objects.order_by()
        .alias(due_scan=_scan_friendly("due_date"))
        .filter(due_scan__gt=as_of - YEAR, due_scan__lte=as_of)
        .values("facility__customer_id")
        .annotate(
            interest=Sum(
                Cast(F("interest_due"), FloatField())
                * Greatest(Least(share, Value(1.0)), Value(0.0))
            ),
            late=Max(Greatest(DaysBetween(Coalesce(paid_on, day), due), Value(0))),
            known_late=Max(Greatest(DaysBetween(known_paid_on, due), Value(0)), filter=before),
            known_dpd=Max(DaysBetween(day, due), filter=still_open),
        )
        .values_list("facility__customer_id", "interest", "late", "known_late", "known_dpd")
    )
    return fetch_for(qs, "facility__customer_id", ids, REPAYMENT_SCHEMA)


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in the local time zone: ranges on stored datetimes by local date."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _read_customers(ids) -> pl.DataFrame:
    return fetch_for(
        Customer.objects.order_by("pk").values_list(
            "pk",
            "kind",
            "client_type",
            "needs_level",
            "risk_appetite",
            "city_tier",
            "industry",
            "annual_revenue",
            "founded_on",
            "birthday",
            "owner_id",
            "team_id",
        ),
        "pk",
        ids,
        {
            "customer_id": pl.Int64,
            "kind": pl.String,
            "client_type": pl.String,
            "needs_level": pl.String,
            "risk_appetite": pl.String,
            "city_tier": pl.String,
            "industry": pl.String,
            "annual_revenue": pl.Float64,
            "founded_on": pl.Date,
            "birthday": pl.Date,
            "owner_id": pl.Int64,
            "team_id": pl.Int64,
        },
    )


def _read_facility_totals(ids) -> pl.DataFrame:
    live = Q(status=FacilityStatus.ACTIVE)
    return fetch_for(
        Facility.objects.order_by()
        .values("customer_id")
        .annotate(
            approved_limit=Sum("approved_limit", filter=live),
            balance=Sum("drawn_amount", filter=live),
            facility_count=Count("pk"),
            product_count=Count("product__product_type", distinct=True),
            first_start=Min("start_date"),
            last_start=Max("start_date"),
            current_dpd=Max("days_past_due", filter=live),
        )
        .values_list(
            "customer_id",
            "approved_limit",
            "balance",
            "facility_count",
            "product_count",
            "first_start",
            "last_start",
            "current_dpd",
        ),
        "customer_id",
        ids,
        {
            "customer_id": pl.Int64,
            "approved_limit": pl.Float64,
            "balance": pl.Float64,
            "facility_count": pl.Int64,
            "product_count": pl.Int64,
            "first_start": pl.Date,
            "last_start": pl.Date,
            "current_dpd": pl.Int64,
        },
    )


def _read_facility_rows(as_of: date, ids) -> pl.DataFrame:
    """Facilities started by ``as_of``, one row each (the credit features' exposure)."""
    return fetch_for(
        Facility.objects.order_by()
        .filter(start_date__lte=as_of)
        .values_list(
            "customer_id", "approved_limit", "drawn_amount", "start_date", "maturity_date"
        ),
        "customer_id",
        ids,
        {
            "customer_id": pl.Int64,
            "approved_limit": pl.Float64,
            "drawn_amount": pl.Float64,
            "start_date": pl.Date,
            "maturity_date": pl.Date,
        },
    )


def _read_last_payments(ids) -> pl.DataFrame:
    return fetch_for(
        Payment.objects.order_by()
        .values("facility__customer_id")
        .annotate(last_paid=Max("paid_on"))
        .values_list("facility__customer_id", "last_paid"),
        "facility__customer_id",
        ids,
        {"customer_id": pl.Int64, "last_paid": pl.Date},
    )


def _read_fees(as_of: date, ids) -> pl.DataFrame:
    """Fee income of the year up to ``as_of`` per client: arrangement and service fees and
    penalty interest as recorded (``financing.Fee``; a reversal books its fee back)."""
    return fetch_for(
        Fee.objects.order_by()
        .filter(charged_on__gt=as_of - YEAR, charged_on__lte=as_of)
        .values("facility__customer_id")
        .annotate(fees=Sum(Cast("amount", FloatField())))
        .values_list("facility__customer_id", "fees"),
        "facility__customer_id",
        ids,
        {"customer_id": pl.Int64, "fee_income_12m": pl.Float64},
    )


def _read_last_applications(ids) -> pl.DataFrame:
    return fetch_for(
        Application.objects.order_by()
        .values("customer_id")
        .annotate(last_application=Max("created_at"))
        .values_list("customer_id", "last_application"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64, "last_application": LOCAL_DATE},
    )


def _read_interactions(as_of: date, ids) -> pl.DataFrame:
    # Local date after a year ago, as a range on the stored datetime (no per-row date cast).
    recent = Q(occurred_at__gte=local_midnight(as_of - YEAR + timedelta(days=1)))
    reached = Q(outcome__in=SUCCESSFUL_OUTCOMES)
    return fetch_for(
        Interaction.objects.order_by()
        .values("customer_id")
        .annotate(
            interactions_12m=Count("pk", filter=recent),
            successful_interactions_12m=Count("pk", filter=recent & reached),
            last_successful=Max("occurred_at", filter=reached),
        )
        .values_list(
            "customer_id", "interactions_12m", "successful_interactions_12m", "last_successful"
        ),
        "customer_id",
        ids,
        {
            "customer_id": pl.Int64,
            "interactions_12m": pl.Int64,
            "successful_interactions_12m": pl.Int64,
            "last_successful": LOCAL_DATE,
        },
    )


def _read_predictions(as_of: date, ids) -> pl.DataFrame:
    """customer_id, days_to_need, need_confidence: the latest prediction run's next financing
    need of each client it scored (``fincrm predict``; insights sits above the evaluation,
    so its table is looked up by name, not imported). No row: no prediction yet."""
    if not apps.is_installed("fincrm.insights"):
        return pl.DataFrame(schema=PREDICTION_SCHEMA)
    prediction = apps.get_model("insights", "Prediction")
    rows = fetch_for(
        prediction.objects.order_by().values_list("customer_id", "next_need_on", "need_confidence"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64, "next_need_on": pl.Date, "need_confidence": pl.String},
    )
    return rows.select(
        "customer_id",
        days_to_need=(pl.col("next_need_on") - pl.lit(as_of)).dt.total_days(),
        need_confidence="need_confidence",
    )


def _read_satisfaction(as_of: date, ids) -> pl.DataFrame:
    """customer_id, last_nps (the 0–10 answer of the client's latest survey with one) and
    satisfaction (0–10: the latest survey's NPS answer, else its overall 1–5 rating rescaled,
    ``(rating − 1) / 4 · 10``), by ``as_of``."""
    from fincrm.analytics.surveys import CSAT_SCALE
    from fincrm.surveys.models import Response

    rows = fetch_for(
        Response.objects.order_by()
        .filter(Q(nps_score__isnull=False) | Q(rating__isnull=False))
        .filter(submitted_at__lt=local_midnight(as_of + timedelta(days=1)))
        .values_list("customer_id", "submitted_at", "nps_score", "rating"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64, "submitted_at": pl.Datetime("us", "UTC"),
         "nps": pl.Float64, "rating": pl.Float64},
    )  # fmt: skip
    scaled = (pl.col("rating").clip(1, CSAT_SCALE) - 1) / (CSAT_SCALE - 1) * 10
    return (
        rows.sort("submitted_at")
        .group_by("customer_id")
        .agg(
            last_nps=pl.col("nps").drop_nulls().last(),
            satisfaction=pl.coalesce("nps", scaled).last(),
        )
    )


def _read_event_attendance(as_of: date, ids) -> pl.DataFrame:
    """customer_id, event_attendance: of the events the client was invited to that started in
    the 12 months up to ``as_of``, the share it was checked in at. No row: never invited."""
    from fincrm.events.models import Invitee

    window = Q(event__starts_at__gte=local_midnight(as_of - YEAR + timedelta(days=1))) & Q(
        event__starts_at__lt=local_midnight(as_of + timedelta(days=1))
    )
    rows = fetch_for(
        Invitee.objects.order_by()
        .filter(window)
        .values("customer_id")
        .annotate(invited=Count("pk"), attended=Count("pk", filter=Q(checked_in_at__isnull=False)))
        .values_list("customer_id", "invited", "attended"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64, "invited": pl.Int64, "attended": pl.Int64},
    )
    return rows.select(
        "customer_id", event_attendance=pl.col("attended") / pl.col("invited").cast(pl.Float64)
    )


def _read_legal_disputes(as_of: date, ids) -> pl.DataFrame:
    """customer_id, open_legal_disputes: legal findings (checks.choices.LEGAL) open on
    ``as_of`` of every client with a completed external check by then (0 when none was
    found). No row: never checked, so unknown."""
    from fincrm.checks.selectors import legal_dispute_counts

    checked_qs, open_qs = legal_dispute_counts(as_of)
    checked = fetch_for(checked_qs, "customer_id", ids, {"customer_id": pl.Int64})
    counts = fetch_for(open_qs, "customer_id", ids, {"customer_id": pl.Int64, "n": pl.Int64})
    return (
        checked.unique()
        .join(counts, on="customer_id", how="left")
        .select("customer_id", open_legal_disputes=pl.col("n").fill_null(0).cast(pl.Float64))
    )
