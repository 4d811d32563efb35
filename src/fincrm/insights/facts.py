"""The KPI dashboard's facts (``KpiFact``): each figure's rows pre-aggregated once a night, so a
dashboard of a million clients reads a few thousand rows and no row of the book.

The database groups each kind by month, the client's manager, team, tier and segment list
(as JSON text: a handful of distinct lists), product and the kind's key; polars then spreads
each row over the segments of its list (``segment_rows``: once under "*", once per segment)
and sums again. Nothing proportional to the book leaves the database except the renewals'
facility dates (one row per facility, four columns), which need a join of each facility with
the client's others.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    F,
    FloatField,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, TruncMonth
from django.utils import timezone

from fincrm.analytics.kpi import renewal_status
from fincrm.analytics.segments import ALL_SEGMENTS
from fincrm.core.bulk import insert_frame
from fincrm.core.frames import fetch
from fincrm.engagement.models import Task
from fincrm.financing.choices import AutoDecision, FacilityStatus
from fincrm.financing.models import Application, Facility
from fincrm.service.models import Ticket
from fincrm.surveys.models import Invitation

from .models import KpiFact

DIMS = ("month", "owner_id", "team_id", "product", "tier", "key")
MEASURES = ("n", "value", "value2")
SCHEMA = {"month": pl.Date, "owner_id": pl.Int64, "team_id": pl.Int64, "product": pl.String,
          "tier": pl.String, "segments": pl.String, "key": pl.String, "n": pl.Int64,
          "value": pl.Float64, "value2": pl.Float64}  # fmt: skip


def _sum_or_null(column: str) -> pl.Expr:
    """The sum of ``column`` in a group, null when all of it is (a kind without the
    measure keeps no value)."""
    return pl.when(pl.col(column).is_not_null().any()).then(pl.col(column).sum()).alias(column)


def segment_rows(frame: pl.DataFrame, *, value_is_key: bool = False) -> pl.DataFrame:
    """``frame`` (``DIMS``, ``segments`` as JSON text, ``MEASURES``) once under segment "*" and
    once per segment of its list, summed by ``DIMS`` and ``segment`` (and by ``value`` when
    it is a dimension: the decisions' hours, whose medians need each value)."""
    members = (
        frame.with_columns(
            segment=pl.col("segments").fill_null("[]").str.json_decode(pl.List(pl.String))
        )
        .explode("segment")
        .drop_nulls("segment")
    )
    both = pl.concat(
        [
            frame.with_columns(segment=pl.lit(ALL_SEGMENTS)).drop("segments"),
            members.drop("segments"),
        ]
    )
    keys = [*DIMS, "segment", *(["value"] if value_is_key else [])]
    summed = ["value2"] if value_is_key else ["value", "value2"]
    # Sums of nulls stay null (a kind without the measure), counts add up.
    return both.group_by(*keys).agg(
        pl.col("n").sum(),
        *[_sum_or_null(m) for m in summed],
    )


def whole_book(facts: pl.DataFrame) -> pl.DataFrame:
    """``facts`` summed over managers and teams (owner and team left empty): the rows a user
    who sees the whole book reads (``cube.cube_rows``)."""
    keys = ["kind", "month", "product", "tier", "segment", "key"]
    if facts["kind"].first() == "decision":
        keys.append("value")
    summed = [m for m in MEASURES if m not in keys]
    return (
        facts.group_by(*keys)
        .agg(*[_sum_or_null(m) for m in summed])
        .with_columns(owner_id=pl.lit(None, pl.Int64), team_id=pl.lit(None, pl.Int64))
    )


def grouped_facts(rows: QuerySet, client: str, *, n, month=None, product=None, key=None,
             value=None, value2=None) -> pl.DataFrame:  # fmt: skip
    """``rows`` grouped by the database by ``month``, ``product`` and ``key`` (expressions;
    None: none) and by the client's manager, team, tier and segments (read through
    ``client``, the path to the client), with the aggregates ``n``, ``value``, ``value2``."""
    nothing = Value(None, output_field=FloatField())
    grouped = (
        rows.order_by()
        .values(
            month_=month if month is not None else Value(None, output_field=DateField()),
            owner_id_=F(f"{client}__owner_id"),
            team_id_=F(f"{client}__team_id"),
            product_=product if product is not None else Value(""),
            tier_=Coalesce(F(f"{client}__classification__tier"), Value("")),
            segments_=Cast(f"{client}__classification__segments", TextField()),
            key_=key if key is not None else Value(""),
        )
        .annotate(n_=n, value_=value if value is not None else nothing,
                  value2_=value2 if value2 is not None else nothing)
        .values_list(
            "month_", "owner_id_", "team_id_", "product_", "tier_", "segments_", "key_",
            "n_", "value_", "value2_",
        )
    )  # fmt: skip
    return fetch(grouped, SCHEMA)


def month_of(field: str):
    """The local month of a date or date-time field, as a date."""
    return TruncMonth(field, output_field=DateField())


def _surveys() -> pl.DataFrame:
    """Invitations by the month sent, keyed ``<answered>|<NPS score>|<rating>`` (0/1, empty
    when there is none): the rows ``analytics.surveys.summarise`` weighs."""
    score = Coalesce(Cast("response__nps_score", CharField()), Value(""))
    rating = Coalesce(Cast("response__rating", CharField()), Value(""))
    answered = Case(When(answered_at__isnull=False, then=Value("1")), default=Value("0"))
    return grouped_facts(
        Invitation.objects.all(), "customer", month=month_of("sent_at"),
        product=Coalesce(F("product__code"), Value("")), n=Count("pk"),
        key=Concat(answered, Value("|"), score, Value("|"), rating, output_field=CharField()),
    )  # fmt: skip


def _facilities() -> dict[str, pl.DataFrame]:
    facilities = Facility.objects.all()
    sales = grouped_facts(
        facilities, "customer", month=month_of("start_date"), product=F("product__code"),
        n=Count("pk"), value=Sum("approved_limit", output_field=FloatField()),
    )  # fmt: skip
    book = grouped_facts(
        facilities.filter(status=FacilityStatus.ACTIVE), "customer", product=F("product__code"),
        key=F("loan_class"), n=Count("pk"), value=Sum("drawn_amount", output_field=FloatField()),
        value2=Sum("drawn_amount", filter=Q(days_past_due__gte=30), output_field=FloatField()),
    )  # fmt: skip
    return {"sales": sales, "book": book}


def _renewals(clients: pl.DataFrame, built_on: date) -> pl.DataFrame:
    """Every facility matured by ``built_on``, renewed, pending or not, counted by the month
    it matured (``analytics.kpi.renewal_status`` as at ``built_on``)."""
    facilities = fetch(
        Facility.objects.order_by().values_list(
            "pk", "customer_id", "start_date", "maturity_date", "product__code"
        ),
        {"facility_id": pl.Int64, "customer_id": pl.Int64, "start_date": pl.Date,
         "maturity_date": pl.Date, "product": pl.String},
    )  # fmt: skip
    if facilities.is_empty():
        return pl.DataFrame(schema=SCHEMA)
    first = facilities["maturity_date"].min()
    assert isinstance(first, date)
    period = max((built_on - first).days + 1, 0)
    status = renewal_status(facilities, as_of=built_on, period_days=period)
    return (
        status.join(clients, on="customer_id", how="left")
        .group_by(
            month=pl.col("maturity_date").dt.truncate("1mo"), owner_id="owner_id",
            team_id="team_id", product="product", tier=pl.col("tier").fill_null(""),
            segments="segments", key="status",
        )
        .agg(n=pl.len().cast(pl.Int64))
        .with_columns(value=pl.lit(None, pl.Float64), value2=pl.lit(None, pl.Float64))
        .select(*SCHEMA)
    )  # fmt: skip


def _tickets(now: datetime) -> pl.DataFrame:
    breached = (
        Q(responded_at__gt=F("respond_by"))
        | Q(responded_at__isnull=True, respond_by__lt=now)
        | Q(resolved_at__gt=F("resolve_by"))
        | Q(resolved_at__isnull=True, resolve_by__lt=now)
    )
    resolved = Case(When(resolved_at__isnull=False, then=Value("1")), default=Value("0"))
    within = Case(When(breached, then=Value("0")), default=Value("1"))
    return grouped_facts(
        Ticket.objects.all(), "customer", month=month_of("opened_at"), n=Count("pk"),
        key=Concat(resolved, Value("|"), within, output_field=CharField()),
        value=Sum("satisfaction", output_field=FloatField()), value2=Count("satisfaction"),
    )  # fmt: skip


def _decisions(clients: pl.DataFrame, tz) -> pl.DataFrame:
    """Credit decisions by month, by the rule or people, and the hours they took (to the
    minute): one row per client's distinct value, summed by the dimensions."""
    rows = fetch(
        Application.objects.order_by().filter(decided_at__isnull=False)
        .values_list("customer_id", "decided_at", "submitted_at", "auto_decision"),
        {"customer_id": pl.Int64, "decided_at": pl.Datetime("us", "UTC"),
         "submitted_at": pl.Datetime("us", "UTC"), "auto_decision": pl.String},
    )  # fmt: skip
    minutes = (pl.col("decided_at") - pl.col("submitted_at")).dt.total_seconds() / 60
    return (
        rows.join(clients, on="customer_id", how="left")
        .group_by(
            month=pl.col("decided_at").dt.convert_time_zone(tz).dt.date().dt.truncate("1mo"),
            owner_id="owner_id", team_id="team_id", product=pl.lit(""),
            tier=pl.col("tier").fill_null(""), segments="segments",
            key=pl.when(pl.col("auto_decision") == AutoDecision.APPROVED)
            .then(pl.lit("auto")).otherwise(pl.lit("people")),
            value=minutes.round(0) / 60,
        )
        .agg(n=pl.len().cast(pl.Int64))
        .with_columns(value2=pl.lit(None, pl.Float64))
        .select(*SCHEMA)
    )  # fmt: skip


def _tasks(built_on: date) -> pl.DataFrame:
    on_time = Q(completed_at__date__lte=F("due_on"))
    return grouped_facts(
        Task.objects.filter(due_on__lte=built_on, customer__isnull=False), "customer",
        month=month_of("due_on"), key=Cast("owner_id", CharField()), n=Count("pk"),
        value=Count("pk", filter=on_time),
    )  # fmt: skip


def facts_rebuild(clients: pl.DataFrame, *, built_on: date | None = None) -> int:
    """Replace every ``KpiFact`` by tonight's; returns how many rows. ``clients``:
    customer_id, owner_id, team_id, tier, segments (JSON text), as ``cube._clients``."""
    from django.conf import settings

    built_on = built_on or timezone.localdate()
    now = timezone.make_aware(datetime.combine(built_on + timedelta(days=1), time.min))
    now = min(now, timezone.now())
    parts = {
        "survey": _surveys(),
        **_facilities(),
        "renewal": _renewals(clients, built_on),
        "ticket": _tickets(now),
        "decision": _decisions(clients, settings.TIME_ZONE),
        "task": _tasks(built_on),
    }
    columns = ["kind", "month", "owner_id", "team_id", "product", "tier", "segment", "key",
               "n", "value", "value2"]  # fmt: skip
    by_manager = [
        segment_rows(frame, value_is_key=kind == "decision").with_columns(kind=pl.lit(kind))
        for kind, frame in parts.items()
    ]
    facts = pl.concat(
        [frame.select(columns).with_columns(whole_book=pl.lit(False)) for frame in by_manager]
        + [whole_book(frame).select(columns).with_columns(whole_book=pl.lit(True))
           for frame in by_manager]
    )  # fmt: skip
    KpiFact.objects.all().delete()
    return insert_frame(KpiFact, facts, constants={"built_on": built_on})
