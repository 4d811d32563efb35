"""The book as frames for the prediction models, read in bulk once, cut at any date.

``Book.churn_features(cutoff)`` builds each churn feature from rows dated strictly before the
cut-off only (a drawdown on the cut-off day already belongs to the label window), so a model
trained at one cut-off and tested at a later one sees no future. ``churn_labels`` looks only
after the cut-off, at the clients at risk of leaving (``churn_population``: a facility
maturing in the horizon), whether they renewed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import polars as pl
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from fincrm.analytics.churn import CHURN_FEATURES
from fincrm.core.frames import LOCAL_DATE, fetch, fetch_for
from fincrm.customers.models import Customer
from fincrm.engagement.models import Interaction
from fincrm.financing.choices import FacilityStatus
from fincrm.financing.models import Application, Facility, Installment
from fincrm.risk.models import Alert, CreditAssessment
from fincrm.service.models import Ticket
from fincrm.surveys.models import Response

DAY = pl.duration(days=1)
INSTALLMENT_SCHEMA = {
    "customer_id": pl.Int64,
    "facility_id": pl.Int64,
    "due_date": pl.Date,
    "principal": pl.Float64,
    "paid_off_on": pl.Date,
}
RUNNING_SCHEMA = {
    "customer_id": pl.Int64,
    "facility_id": pl.Int64,
    "start_date": pl.Date,
    "due_date": pl.Date,
    "principal": pl.Float64,
    "interest": pl.Float64,
    "fee": pl.Float64,
}
INTERACTION_SCHEMA = {
    "customer_id": pl.Int64,
    "on": pl.Date,
    "outcome": pl.String,
    "competitor": pl.Boolean,
}
DATED_SCHEMA = {"customer_id": pl.Int64, "on": LOCAL_DATE}
RESPONSE_SCHEMA = {"customer_id": pl.Int64, "on": LOCAL_DATE, "nps": pl.Float64}
#: A client at risk of leaving has until this long after its facility's maturity to renew.
RENEWAL_GRACE_DAYS = 60


@dataclass
class Book:
    customers: pl.DataFrame
    facilities: pl.DataFrame
    installments: pl.DataFrame
    applications: pl.DataFrame
    interactions: pl.DataFrame
    tickets: pl.DataFrame
    responses: pl.DataFrame
    alerts: pl.DataFrame
    #: The schedules of the running facilities (``running_instalments``' shape); read by
    #: :meth:`with_rows` along with the instalments, empty otherwise.
    running: pl.DataFrame = field(default_factory=lambda: _no_rows(RUNNING_SCHEMA))

    @classmethod
    def read(cls, *, competitor_words: list[str], ids: range | None = None) -> Book:
        """The whole book (or the clients of ``ids``, a range of customer ids) as frames."""
        return cls.read_clients(ids=ids).with_rows(ids, competitor_words=competitor_words)

    @classmethod
    def read_clients(cls, *, ids: range | None = None) -> Book:
        """The tables of a few rows per client — customers, facilities, applications: a
        million clients' fit in memory — with the row sets (instalments, interactions,
        tickets, responses, alerts) empty. What lifetime value, demand and recommendations
        read; :meth:`with_rows` adds the row sets of one range of clients at a time."""
        return cls(
            customers=_read_customers(ids),
            facilities=_read_facilities(ids),
            installments=_no_rows(INSTALLMENT_SCHEMA),
            applications=fetch_for(
                Application.objects.order_by().values_list("customer_id", "created_at"),
                "customer_id",
                ids,
                {"customer_id": pl.Int64, "on": LOCAL_DATE},
            ),
            interactions=_no_rows(INTERACTION_SCHEMA),
            tickets=_no_rows(DATED_SCHEMA),
            responses=_no_rows(RESPONSE_SCHEMA),
            alerts=_no_rows(DATED_SCHEMA),
        )

    def with_rows(
        self, ids: range | None, *, competitor_words: list[str], due_since: date | None = None
    ) -> Book:
        """This book cut to the clients of ``ids`` (None: every client) with their row sets
        read: one range of a streamed run. ``due_since`` leaves out the instalments due
        before it (the churn features look back a year from each cut-off, no further)."""

        def cut(frame: pl.DataFrame) -> pl.DataFrame:
            if ids is None:
                return frame
            return frame.filter(pl.col("customer_id").is_between(ids.start, ids.stop - 1))

        facilities = cut(self.facilities)
        schedules = _read_schedules(ids, facilities, due_since)
        due = schedules if due_since is None else schedules.filter(pl.col("due_date") >= due_since)
        return Book(
            customers=cut(self.customers),
            facilities=facilities,
            installments=due.select(
                "customer_id", "facility_id", "due_date", "paid_off_on", principal="principal_due"
            ),
            running=_running_shape(schedules.filter(pl.col("active") == 1)),
            applications=cut(self.applications),
            interactions=_read_interactions(competitor_words, ids),
            tickets=fetch_for(
                Ticket.objects.order_by().values_list("customer_id", "opened_at"),
                "customer_id",
                ids,
                DATED_SCHEMA,
            ),
            responses=fetch_for(
                Response.objects.order_by().values_list("customer_id", "submitted_at", "nps_score"),
                "customer_id",
                ids,
                RESPONSE_SCHEMA,
            ),
            alerts=fetch_for(
                Alert.objects.order_by().values_list("customer_id", "raised_at"),
                "customer_id",
                ids,
                DATED_SCHEMA,
            ),
        )

    # --- pieces ---------------------------------------------------------------------------

    def _count(self, frame: pl.DataFrame, start: date, end: date, name: str, where=None):
        rows = frame.filter((pl.col("on") >= start) & (pl.col("on") < end))
        if where is not None:
            rows = rows.filter(where)
        return rows.group_by("customer_id").agg(pl.len().cast(pl.Float64).alias(name))

    def balance(self, cutoff: date, name: str) -> pl.DataFrame:
        """Scheduled principal still due after ``cutoff`` on facilities drawn before it."""
        drawn = self.facilities.filter(pl.col("start_date") < cutoff).select("facility_id")
        return (
            self.installments.join(drawn, on="facility_id")
            .filter(pl.col("due_date") >= cutoff)
            .group_by("customer_id")
            .agg(pl.col("principal").sum().alias(name))
        )

    def active_at(self, day: date) -> pl.DataFrame:
        """Clients with a facility running on ``day`` (drawn before it, maturing after)."""
        running = self.facilities.filter(
            (pl.col("start_date") < day) & (pl.col("maturity_date") >= day)
        )
        return running.group_by("customer_id").agg(pl.col("limit").sum().alias("limit"))

    # --- churn ----------------------------------------------------------------------------

    def churn_features(self, cutoff: date) -> pl.DataFrame:
        """One row per client active at ``cutoff`` with the features of ``CHURN_FEATURES``
        and ``observed_to`` (the last day any of them looked at: the day before the cut-off)."""
        year, half = cutoff - timedelta(days=365), cutoff - timedelta(days=182)
        draws = self.facilities.rename({"start_date": "on"})
        recent = self._count(draws, half, cutoff, "recent")
        before = self._count(draws, year, half, "before")
        contacts = (
            self.interactions.filter(pl.col("on") < cutoff)
            .group_by("customer_id")
            .agg(pl.col("on").max().alias("last_contact"))
        )
        complaints = pl.concat(
            [
                self.tickets.select("customer_id", "on"),
                self.interactions.filter(pl.col("outcome") == "issue_raised").select(
                    "customer_id", "on"
                ),
            ]
        )
        last_nps = (
            self.responses.filter((pl.col("on") < cutoff) & pl.col("nps").is_not_null())
            .sort("on")
            .group_by("customer_id")
            .agg(pl.col("nps").last().alias("last_nps"))
        )
        maturity = (
            self.facilities.filter(
                (pl.col("start_date") < cutoff) & (pl.col("maturity_date") >= cutoff)
            )
            .group_by("customer_id")
            .agg(pl.col("maturity_date").min().alias("nearest_maturity"))
        )
        first_seen = pl.concat(
            [
                self.facilities.select("customer_id", pl.col("start_date").alias("on")),
                self.applications.select("customer_id", "on"),
            ]
        ).filter(pl.col("on") < cutoff)
        tenure = first_seen.group_by("customer_id").agg(pl.col("on").min().alias("first_seen"))
        late = self._max_days_past_due(year, cutoff)
        frame = (
            self.active_at(cutoff)
            .join(self.balance(cutoff, "balance"), on="customer_id", how="left")
            .join(self.balance(half, "balance_before"), on="customer_id", how="left")
            .join(recent, on="customer_id", how="left")
            .join(before, on="customer_id", how="left")
            .join(contacts, on="customer_id", how="left")
            .join(self._count(complaints, year, cutoff, "complaints_12m"), on="customer_id",
                  how="left")
            .join(last_nps, on="customer_id", how="left")
            .join(maturity, on="customer_id", how="left")
            .join(
                self._count(self.interactions, year, cutoff, "competitor_mentions_12m",
                            where=pl.col("competitor")),
                on="customer_id", how="left",
            )
            .join(tenure, on="customer_id", how="left")
            .join(self._count(self.alerts, cutoff - timedelta(days=90), cutoff,
                              "open_warnings"), on="customer_id", how="left")
            .join(late, on="customer_id", how="left")
        )  # fmt: skip
        return _churn_feature_columns(frame, cutoff)

    def _max_days_past_due(self, start: date, cutoff: date) -> pl.DataFrame:
        """customer_id, max_dpd_12m: the most days an instalment due from ``start`` to before
        the cut-off was paid late (one still unpaid at the cut-off counts as late until it)."""
        return (
            self.installments.filter((pl.col("due_date") >= start) & (pl.col("due_date") < cutoff))
            .with_columns(
                paid=pl.when(pl.col("paid_off_on") < cutoff)
                .then(pl.col("paid_off_on"))
                .otherwise(pl.lit(cutoff))
            )
            .group_by("customer_id")
            .agg(
                ((pl.col("paid") - pl.col("due_date")).dt.total_days().clip(0).max())
                .cast(pl.Float64)
                .alias("max_dpd_12m")
            )
        )

    def churn_population(self, cutoff: date, horizon_days: int) -> pl.DataFrame:
        """customer_id, maturity: the clients at risk of leaving over the horizon after
        ``cutoff`` — a facility running at the cut-off matures early enough in the horizon
        for a renewal to be seen (``RENEWAL_GRACE_DAYS`` before its end) — and the nearest
        such maturity. Only they are labelled, trained on and scored."""
        last = cutoff + timedelta(days=horizon_days - RENEWAL_GRACE_DAYS)
        return (
            self.facilities.filter(
                (pl.col("start_date") < cutoff)
                & (pl.col("maturity_date") >= cutoff)
                & (pl.col("maturity_date") <= last)
            )
            .group_by("customer_id")
            .agg(maturity=pl.col("maturity_date").min())
            .sort("customer_id")
        )

    def churn_labels(self, cutoff: date, horizon_days: int) -> pl.DataFrame:
        """1 for a client at risk (:meth:`churn_population`) that did not renew: no
        application and no new facility from the cut-off to ``RENEWAL_GRACE_DAYS`` after its
        maturity; else 0. Looks only after the cut-off."""
        at_risk = self.churn_population(cutoff, horizon_days)
        grace = pl.duration(days=RENEWAL_GRACE_DAYS)
        events = pl.concat(
            [
                self.facilities.select("customer_id", on=pl.col("start_date")),
                self.applications.select("customer_id", "on"),
            ]
        ).filter(pl.col("on") >= cutoff)
        renewed = (
            at_risk.join(events, on="customer_id", how="inner")
            .filter(pl.col("on") <= pl.col("maturity") + grace)
            .select("customer_id")
            .unique()
            .with_columns(kept_flag=pl.lit(1))
        )
        return at_risk.join(renewed, on="customer_id", how="left").select(
            "customer_id", churned=pl.col("kept_flag").is_null().cast(pl.Int8)
        )

    # --- lifetime value and demand ---------------------------------------------------------

    def drawdowns(self, as_of: date, *, funding_rate: float = 0.0) -> pl.DataFrame:
        """Each facility drawn before ``as_of`` as a transaction: its date, its amount and the
        interest it earns over its tenor above the cost of funds (``funding_rate`` a year):
        its value to the lender, CNY, never below zero."""
        return self.facilities.filter(pl.col("start_date") <= as_of).select(
            "customer_id",
            drawn_on=pl.col("start_date"),
            amount=pl.col("limit"),
            value=(
                pl.col("limit") * (pl.col("rate") / 100 - funding_rate) * pl.col("tenor_months")
                / 12
            ).clip(0),
        )  # fmt: skip


def _read_interactions(competitor_words: list[str], ids: range | None) -> pl.DataFrame:
    """customer_id, on, outcome, competitor (the summary names a competitor word: looked for
    by the database with ``LIKE``, so the summaries never leave it; SQLite's ``LIKE`` ignores
    the case of Latin letters, the default words are Chinese)."""
    mentions = Q()
    for word in competitor_words:
        if word:
            mentions |= Q(summary__contains=word)
    competitor = (
        Case(When(mentions, then=Value(1)), default=Value(0), output_field=IntegerField())
        if mentions
        else Value(0, output_field=IntegerField())
    )
    interactions = fetch_for(
        Interaction.objects.order_by()
        .annotate(competitor=competitor)
        .values_list("customer_id", "occurred_at", "outcome", "competitor"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64, "on": LOCAL_DATE, "outcome": pl.String, "competitor": pl.Int8},
    )
    return interactions.with_columns(pl.col("competitor").cast(pl.Boolean))


def _read_customers(ids: range | None) -> pl.DataFrame:
    return fetch_for(
        Customer.objects.order_by().values_list(
            "pk", "created_at", "industry", "owner_id", "annual_revenue"
        ),
        "pk",
        ids,
        {
            "customer_id": pl.Int64,
            "created_on": LOCAL_DATE,
            "industry": pl.String,
            "owner_id": pl.Int64,
            "revenue": pl.Float64,
        },
    )


def _read_facilities(ids: range | None) -> pl.DataFrame:
    return fetch_for(
        Facility.objects.order_by().values_list(
            "pk",
            "customer_id",
            "product__code",
            "start_date",
            "maturity_date",
            "approved_limit",
            "drawn_amount",
            "rate",
            "tenor_months",
            "status",
            "loan_class",
        ),
        "customer_id",
        ids,
        {
            "facility_id": pl.Int64,
            "customer_id": pl.Int64,
            "product": pl.String,
            "start_date": pl.Date,
            "maturity_date": pl.Date,
            "limit": pl.Float64,
            "drawn": pl.Float64,
            "rate": pl.Float64,
            "tenor_months": pl.Int64,
            "status": pl.String,
            "loan_class": pl.String,
        },
    )


def _read_schedules(
    ids: range | None, facilities: pl.DataFrame, due_since: date | None
) -> pl.DataFrame:
    """The instalments of the clients of ``ids``, read once for two uses: those due since
    ``due_since`` (every one when None) for the churn features, and every instalment of the
    running facilities (``active`` = 1) for the running book."""
    qs = Installment.objects.order_by()
    active = Q(facility__status=FacilityStatus.ACTIVE)
    if due_since is not None:
        qs = qs.filter(Q(due_date__gte=due_since) | active)
    return fetch(
        _of_facilities(qs, ids, facilities)
        .annotate(active=Case(When(active, then=Value(1)), default=Value(0),
                              output_field=IntegerField()))
        .values_list(
            "facility__customer_id", "facility_id", "facility__start_date", "due_date",
            "principal_due", "principal_paid", "interest_due", "interest_paid", "fee_due",
            "fee_paid", "paid_off_on", "active",
        ),
        {
            "customer_id": pl.Int64, "facility_id": pl.Int64, "start_date": pl.Date,
            "due_date": pl.Date, "principal_due": pl.Float64, "principal_paid": pl.Float64,
            "interest_due": pl.Float64, "interest_paid": pl.Float64, "fee_due": pl.Float64,
            "fee_paid": pl.Float64, "paid_off_on": pl.Date, "active": pl.Int8,
        },
    )  # fmt: skip


def _of_facilities(qs, ids: range | None, facilities: pl.DataFrame | None):
    """Instalments of the clients of ``ids``: also bounded by the smallest and largest id of
    their ``facilities``, so that the database walks the instalments' facility index over that
    stretch (facilities are mostly numbered client after client) instead of scanning them
    all for each range."""
    if ids is None:
        return qs
    qs = qs.filter(facility__customer_id__gte=ids.start, facility__customer_id__lt=ids.stop)
    if facilities.is_empty():
        return qs.none()
    return qs.filter(
        facility_id__gte=facilities["facility_id"].min(),
        facility_id__lte=facilities["facility_id"].max(),
    )


def _no_rows(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema={n: pl.Date if t == LOCAL_DATE else t for n, t in schema.items()})


def _churn_feature_columns(frame: pl.DataFrame, cutoff: date) -> pl.DataFrame:
    """The churn features (and ``observed_to``) from the joined pieces of
    :meth:`Book.churn_features`, sorted by client."""
    day = pl.lit(cutoff)
    return frame.select(
        "customer_id",
        activity_trend=pl.col("recent").fill_null(0) - pl.col("before").fill_null(0),
        balance_trend=pl.when(pl.col("balance_before") > 0)
        .then(pl.col("balance").fill_null(0) / pl.col("balance_before") - 1)
        .otherwise(None),
        utilisation=(pl.col("balance").fill_null(0) / pl.col("limit")).clip(0, 2),
        complaints_12m=pl.col("complaints_12m").fill_null(0),
        last_nps=pl.col("last_nps"),
        days_since_last_contact=(day - pl.col("last_contact")).dt.total_days().cast(pl.Float64),
        days_to_nearest_maturity=(pl.col("nearest_maturity") - day)
        .dt.total_days()
        .cast(pl.Float64),
        competitor_mentions_12m=pl.col("competitor_mentions_12m").fill_null(0),
        tenure_days=(day - pl.col("first_seen")).dt.total_days().cast(pl.Float64),
        open_warnings=pl.col("open_warnings").fill_null(0),
        max_dpd_12m=pl.col("max_dpd_12m").fill_null(0),
        observed_to=pl.lit(cutoff - timedelta(days=1)),
    ).sort("customer_id")


def running_instalments() -> pl.DataFrame:
    """The schedules of the running (active) facilities in ``analytics.running_book``'s
    shape: the unpaid principal, interest and fee of every instalment, CNY."""
    return Book.read_clients().with_rows(None, competitor_words=[]).running


def _running_shape(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.select(
        "customer_id", "facility_id", "start_date", "due_date",
        principal=(pl.col("principal_due") - pl.col("principal_paid")).clip(0),
        interest=(pl.col("interest_due") - pl.col("interest_paid")).clip(0),
        fee=(pl.col("fee_due") - pl.col("fee_paid")).clip(0),
    )  # fmt: skip


def latest_pds(as_of: date) -> pl.DataFrame:
    """customer_id, pd: each client's latest credit assessment up to the end of ``as_of``.

    Every client is assessed by each full run, so only assessments since the last full run
    that started by then are read (the table grows by a book's worth each night)."""
    from fincrm.evaluation.choices import RunKind, RunStatus
    from fincrm.evaluation.models import EvaluationRun

    end = timezone.make_aware(datetime.combine(as_of + timedelta(days=1), time()))
    assessed = CreditAssessment.objects.order_by().filter(assessed_at__lt=end)
    last_full = (
        EvaluationRun.objects.filter(
            status=RunStatus.SUCCEEDED, kind=RunKind.FULL, started_at__lt=end
        )
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    if last_full is not None:
        assessed = assessed.filter(assessed_at__gte=last_full)
    rows = fetch(
        assessed.values_list("pk", "customer_id", "assessed_at", "pd"),
        {"pk": pl.Int64, "customer_id": pl.Int64, "assessed_at": pl.Datetime("us", "UTC"),
         "pd": pl.Float64},
    )  # fmt: skip
    return (
        rows.sort("assessed_at", "pk")
        .unique("customer_id", keep="last")
        .select("customer_id", "pd")
        .sort("customer_id")
    )


def churn_columns() -> list[str]:
    return list(CHURN_FEATURES)
