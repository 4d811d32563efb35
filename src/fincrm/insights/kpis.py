"""The KPI dashboard's figures: each a table (the chart draws it, the page shows it, Excel
exports it), computed by ``fincrm.analytics.kpi`` and ``surveys`` over the clients the user may
see, narrowed by the filters (period, team, manager, tier, segment, product).

Every figure reads the book on the reporting database (``fincrm.core.db.reporting``: the read
replica when there is one), passed down as ``db``; the policy and the filters' team tree come
from the primary.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import polars as pl
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fincrm.analytics.kpi import (
    decision_speed,
    growth,
    migration_matrix,
    renewal_status,
    staff_kpis,
)
from fincrm.analytics.policy import TIERS
from fincrm.analytics.surveys import summarise
from fincrm.core.db import reporting
from fincrm.core.frames import LOCAL_DATE, fetch
from fincrm.core.params import query_id
from fincrm.customers.models import Customer
from fincrm.engagement.models import Interaction, Task
from fincrm.evaluation.choices import RunKind, RunStatus, Tier
from fincrm.evaluation.models import EvaluationRun
from fincrm.financing.choices import Stage
from fincrm.financing.models import ApplicationStageChange, Facility, Installment
from fincrm.service.models import Ticket
from fincrm.surveys.models import Invitation

#: Pipeline stages of the funnel, in order (rejected and withdrawn leave it).
FUNNEL_STAGES = [Stage.LEAD, Stage.SUBMITTED, Stage.DOCUMENTS, Stage.DUE_DILIGENCE,
                 Stage.CREDIT_REVIEW, Stage.APPROVED, Stage.CONTRACT, Stage.DISBURSED]  # fmt: skip
CACHE_SECONDS = 600


@dataclass
class Filters:
    start: date
    end: date  # exclusive
    team: int | None = None
    manager: int | None = None
    tier: str = ""
    segment: str = ""
    product: str = ""

    @classmethod
    def from_query(cls, query) -> Filters:
        today = timezone.localdate()
        default_start = date(today.year - 1, today.month, 1)

        def month(name: str, default: date) -> date:
            try:
                return date.fromisoformat(query.get(name, "") + "-01")
            except ValueError:
                return default

        start = month("from", default_start)
        last = month("to", today.replace(day=1))
        end = date(last.year + last.month // 12, last.month % 12 + 1, 1)

        return cls(
            start=min(start, last),
            end=end,
            team=query_id(query, "team"),
            manager=query_id(query, "manager"),
            tier=query.get("tier", "") if query.get("tier", "") in TIERS else "",
            segment=query.get("segment", "")[:40],
            product=query.get("product", "")[:20],
        )

    def between(self, field_name: str) -> dict:
        """A datetime field within the period, as a range an index can serve (a ``__date``
        lookup computes a function per row)."""
        start = timezone.make_aware(datetime.combine(self.start, time.min))
        end = timezone.make_aware(datetime.combine(self.end, time.min))
        return {f"{field_name}__gte": start, f"{field_name}__lt": end}

    @property
    def last(self) -> date:
        """The last month included (``end`` is the first day after the period)."""
        return (self.end - timedelta(days=1)).replace(day=1)

    def key(self, user) -> str:
        raw = json.dumps([user.pk, self.__dict__], default=str, sort_keys=True)
        return "kpi:" + hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class Figure:
    key: str
    title: str
    chart: str  # line | bar | funnel | matrix | table
    columns: list[tuple[str, str]]  # (column, label)
    rows: list[dict]
    x: str = ""
    series: list[str] = field(default_factory=list)
    note: str = ""


def _client_qs(user, f: Filters, db: str):
    qs = Customer.objects.using(db).restrict(user, "view")
    if f.team:
        from fincrm.accounts.models import Team

        team = Team.objects.filter(pk=f.team).first()
        qs = qs.filter(team_id__in=team.subtree_ids()) if team else qs.none()
    if f.manager:
        qs = qs.filter(owner_id=f.manager)
    if f.tier:
        qs = qs.filter(classification__tier=f.tier)
    if f.segment:  # the JSON list as text contains the quoted code (SQLite and PostgreSQL)
        qs = qs.filter(classification__segments__icontains=f'"{f.segment}"')
    return qs


def _clients(user, f: Filters, db: str) -> pl.DataFrame:
    qs = _client_qs(user, f, db)
    return fetch(
        qs.order_by().values_list("pk", "owner_id"), {"customer_id": pl.Int64, "owner_id": pl.Int64}
    )


def _product_filter(f: Filters, field_name: str) -> Q:
    return Q(**{field_name: f.product}) if f.product else Q()


def _months(f: Filters) -> list[date]:
    months, day = [], f.start
    while day < f.end:
        months.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months


def _table(frame: pl.DataFrame) -> list[dict]:
    return [
        {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
        for row in frame.iter_rows(named=True)
    ]


def _survey_rows(clients: pl.DataFrame, f: Filters, db: str) -> pl.DataFrame:
    """Invitations sent in the period to the clients (with their owner), answered or not."""
    return fetch(
        Invitation.objects.using(db).order_by()
        .filter(**f.between("sent_at"))
        .filter(_product_filter(f, "product__code"))
        .values_list("customer_id", "sent_at", "answered_at", "response__nps_score",
                     "response__rating"),
        {"customer_id": pl.Int64, "sent": LOCAL_DATE, "answered_at": pl.Datetime("us", "UTC"),
         "nps_score": pl.Int64, "csat_score": pl.Int64},
    ).join(clients, on="customer_id").with_columns(
        answered=pl.col("answered_at").is_not_null()
    )  # fmt: skip


def _weight(frame: pl.DataFrame) -> str | None:
    """``n`` when the rows are pre-aggregated (nightly facts: each stands for ``n``)."""
    return "n" if "n" in frame.columns else None


def satisfaction(surveys: pl.DataFrame) -> Figure:
    """``surveys``: one row per invitation sent in the period (``sent``, ``answered``,
    ``nps_score``, ``csat_score``), or pre-aggregated rows with their count ``n``."""
    frame = surveys.with_columns(month=pl.col("sent").dt.strftime("%Y-%m"))
    table = summarise(frame, ["month"], weight=_weight(frame)) if frame.height else pl.DataFrame()
    columns = [("month", _("Month")), ("sent", _("Sent")), ("answered", _("Answered")),
               ("response_rate", _("Response rate %")), ("nps", "NPS"),
               ("csat", "CSAT %")]  # fmt: skip
    rows_out = _table(table.select([c for c, _l in columns])) if table.height else []
    return Figure("satisfaction", _("Satisfaction (NPS and CSAT)"), "line", columns, rows_out,
                  x="month", series=["nps", "csat"])  # fmt: skip


def conversion(user, clients: Callable[[], pl.DataFrame], f: Filters, db: str) -> Figure:
    """The funnel of applications created in the period: from the nightly counts and
    duration histograms when the filters allow, else from the stage changes now. Durations
    are whole days between the local dates a stage was entered, on both paths."""
    from django.db.models import Sum

    from fincrm.analytics.kpi import funnel_from_parts, funnel_parts

    from .cube import cube_rows, stage_dates
    from .models import FunnelCount, FunnelDuration

    stages = [str(s) for s in FUNNEL_STAGES]
    counts = cube_rows(FunnelCount, user=user, f=f, db=db)
    if counts is not None:
        period = {"month__gte": f.start, "month__lt": f.end}
        durations = cube_rows(FunnelDuration, user=user, f=f, db=db).filter(**period)
        table = funnel_from_parts(
            fetch(counts.filter(**period).order_by().values("stage")
                  .annotate(total=Sum("reached")).values_list("stage", "total"),
                  {"stage": pl.String, "reached": pl.Int64}),
            fetch(durations.order_by().values("stage", "days")
                  .annotate(total=Sum("n")).values_list("stage", "days", "total"),
                  {"stage": pl.String, "days": pl.Int64, "n": pl.Int64}),
            stages,
        )  # fmt: skip
    else:
        changes = (
            ApplicationStageChange.objects.using(db)
            .order_by()
            .filter(**f.between("application__created_at"))
        )
        if f.product:
            changes = changes.filter(application__product__code=f.product)
        wide = stage_dates(changes).join(clients().select("customer_id"), on="customer_id")
        table = funnel_from_parts(*funnel_parts(wide, stages), stages)
    return _funnel_figure(table)


def _funnel_figure(table: pl.DataFrame) -> Figure:
    columns = [("stage", _("Stage")), ("reached", _("Applications")),
               ("conversion_from_previous", _("Conversion from previous %")),
               ("conversion_from_first", _("Conversion from first %")),
               ("median_days_from_previous", _("Median days from previous stage"))]  # fmt: skip
    if table["reached"].sum() == 0:
        return Figure("conversion", _("Application funnel"), "funnel", columns, [], x="stage",
                      series=["reached"])  # fmt: skip
    table = table.with_columns(
        (pl.col("conversion_from_previous") * 100),
        (pl.col("conversion_from_first") * 100),
        stage=pl.col("stage").replace_strict({s.value: str(s.label) for s in Stage}),
    )
    return Figure("conversion", _("Application funnel"), "funnel", columns,
                  _table(table.select([c for c, _l in columns])), x="stage",
                  series=["reached"])  # fmt: skip


def _facilities(clients: pl.DataFrame, f: Filters, db: str) -> pl.DataFrame:
    return fetch(
        Facility.objects.using(db).order_by()
        .filter(_product_filter(f, "product__code"))
        .values_list("pk", "customer_id", "start_date", "maturity_date", "approved_limit",
                     "drawn_amount", "loan_class", "days_past_due", "status"),
        {"facility_id": pl.Int64, "customer_id": pl.Int64, "start_date": pl.Date,
         "maturity_date": pl.Date, "limit": pl.Float64, "drawn": pl.Float64,
         "loan_class": pl.String, "dpd": pl.Int64, "status": pl.String},
    ).join(clients, on="customer_id")  # fmt: skip


def renewal_rows(facilities: pl.DataFrame, f: Filters) -> pl.DataFrame:
    """The facilities that matured in the period with their renewal status as at the end of
    the period (or today): ``month`` (of maturity), ``status``."""
    # Renewals are looked for among all the clients' facilities, matured ones by month.
    everything = facilities.select("facility_id", "customer_id", "start_date", "maturity_date")
    as_of = min(timezone.localdate(), f.end - timedelta(days=1))
    status = renewal_status(everything, as_of=as_of, period_days=(as_of - f.start).days + 1)
    return status.filter(
        (pl.col("maturity_date") >= f.start) & (pl.col("maturity_date") < f.end)
    ).select(month=pl.col("maturity_date").dt.truncate("1mo"), status="status")


def renewals(matured: pl.DataFrame) -> Figure:
    """``matured``: ``month``, ``status`` (``analytics.kpi.renewal_status``), one row per
    facility or pre-aggregated with ``n``."""
    columns = [("quarter", _("Maturity quarter")), ("matured", _("Matured")),
               ("renewed", _("Renewed")), ("renewal_rate", _("Renewal rate %"))]  # fmt: skip
    if matured.is_empty():
        return Figure("renewal", _("Renewal rate"), "bar", columns, [], x="quarter",
                      series=["renewal_rate"])  # fmt: skip
    if "n" not in matured.columns:
        matured = matured.with_columns(n=pl.lit(1))
    n, month = pl.col("n"), pl.col("month")
    table = (
        matured.with_columns(quarter=month.dt.strftime("%Y-Q") + month.dt.quarter().cast(pl.String))
        .group_by("quarter")
        .agg(
            matured=n.filter(pl.col("status").is_in(["renewed", "not_renewed"])).sum(),
            renewed=n.filter(pl.col("status") == "renewed").sum(),
        )
        .with_columns(
            renewal_rate=pl.when(pl.col("matured") > 0)
            .then(pl.col("renewed") / pl.col("matured") * 100)
            .otherwise(None)
        )
        .sort("quarter")
    )
    return Figure("renewal", _("Renewal rate"), "bar", columns, _table(table), x="quarter",
                  series=["renewal_rate"], note=_("Facilities whose renewal window is still "
                                                  "open are left out."))  # fmt: skip


def monthly_sales(facilities: pl.DataFrame, f: Filters) -> pl.DataFrame:
    """``period`` (month), ``value``: the limits of the facilities started in the period."""
    return (
        facilities.filter((pl.col("start_date") >= f.start) & (pl.col("start_date") < f.end))
        .group_by(period=pl.col("start_date").dt.truncate("1mo"))
        .agg(value=pl.col("limit").sum())
    )


def sales_and_balance(user, sales: pl.DataFrame, f: Filters, db: str) -> Figure:
    """New financing by month (``sales``: ``period``, ``value``) and the scheduled balance at
    each month end, with growth."""
    months = pl.DataFrame({"period": _months(f)})
    balance = _balance_at_month_ends(user, f, months, db)
    sales_growth = growth(months.join(sales, on="period", how="left").fill_null(0))
    table = (
        months.join(sales_growth.select("period", "value", "pop_growth", "yoy_growth"),
                    on="period", how="left")
        .join(balance, on="period", how="left")
        .with_columns(month=pl.col("period").dt.strftime("%Y-%m"),
                      sales=pl.col("value") / 10_000, balance=pl.col("balance") / 10_000,
                      pop_growth=pl.col("pop_growth") * 100)
    )  # fmt: skip
    columns = [("month", _("Month")), ("sales", _("New financing (10k CNY)")),
               ("pop_growth", _("Growth on previous month %")),
               ("balance", _("Balance at month end (10k CNY)"))]  # fmt: skip
    return Figure("growth", _("Sales and balance"), "bar", columns,
                  _table(table.select([c for c, _l in columns])), x="month",
                  series=["sales", "balance"])  # fmt: skip


def _balance_at_month_ends(user, f: Filters, months: pl.DataFrame, db: str):
    """Scheduled balance at each month end, from two monthly sums: principal of facilities
    started by the month end, minus principal falling due by then (``balance(M) = Σ started
    ≤ M − Σ due ≤ M``, each cumulated from the first month). From the nightly cube when the
    filters allow, else computed by the database now."""
    from django.db.models import Sum

    from .cube import cube_rows
    from .models import MonthlyBalance

    cube = cube_rows(MonthlyBalance, user=user, f=f, db=db)
    if cube is not None:
        monthly = fetch(
            cube.order_by().values("month").annotate(s=Sum("started"), d=Sum("due"))
            .values_list("month", "s", "d"),
            {"period": pl.Date, "started": pl.Float64, "due": pl.Float64},
        )  # fmt: skip
        events = monthly.select("period", amount=pl.col("started") - pl.col("due"))
        return _level(months, events)
    rows = (
        Installment.objects.using(db)
        .order_by()
        .filter(_product_filter(f, "facility__product__code"))
    )
    everyone = _client_qs(user, f, db)
    if everyone.query.where:  # narrowed: a subquery the database joins, no id list
        rows = rows.filter(facility__customer_id__in=everyone.values("pk"))
    # Grouped by the day in SQL (no per-row function), by the month in polars.
    schema = {"period": pl.Date, "amount": pl.Float64}
    started = fetch(
        rows.values("facility__start_date").annotate(amount=Sum("principal_due"))
        .values_list("facility__start_date", "amount"), schema,
    ).with_columns(pl.col("period").dt.truncate("1mo"))  # fmt: skip
    due = fetch(
        rows.values("due_date").annotate(amount=Sum("principal_due"))
        .values_list("due_date", "amount"), schema,
    ).with_columns(pl.col("period").dt.truncate("1mo"))  # fmt: skip
    return _level(months, pl.concat([started, due.with_columns(-pl.col("amount"))]))


def _level(months: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """The running sum of monthly ``amount`` events, read at each month of ``months``."""
    events = (
        events.group_by("period")
        .agg(pl.col("amount").sum())
        .sort("period")
        .with_columns(level=pl.col("amount").cum_sum())
    )
    return (
        months.sort("period")
        .join_asof(events, on="period", strategy="backward")
        .select("period", balance="level")
    )


def migration(
    user, clients: Callable[[], pl.DataFrame], f: Filters, db: str
) -> tuple[Figure, Figure]:
    """Tier and grade migration between the last two full runs (from the nightly cube when
    the filters allow; a product filter does not apply: a client holds several)."""
    from .cube import cube_rows
    from .models import Migration

    cube = cube_rows(Migration, user=user, f=f, by_product=False, db=db)
    runs = list(
        EvaluationRun.objects.using(db)
        .filter(kind=RunKind.FULL, status=RunStatus.SUCCEEDED)
        .order_by("-started_at")[:2]
    )
    tier_columns = [("from", _("From")), *[(t, str(Tier(t).label)) for t in TIERS],
                    ("exited", _("Left"))]  # fmt: skip
    if len(runs) < 2:
        empty = Figure("tier_migration", _("Tier migration"), "matrix", tier_columns, [],
                       note=_("Needs two full evaluation runs."))  # fmt: skip
        return empty, Figure("risk_migration", _("Credit grade migration"), "matrix",
                             [("from", _("From"))], [], note=empty.note)  # fmt: skip
    after, before = runs
    fresh = cube is not None and cube.filter(after_run=after.pk, before_run=before.pk).exists()

    def read(run) -> pl.DataFrame:
        return fetch(
            run.snapshot_model.objects.using(db)
            .order_by()
            .filter(run=run)
            .values_list("customer_id", "tier", "grade"),
            {"customer_id": pl.Int64, "tier": pl.String, "grade": pl.String},
        ).join(clients().select("customer_id"), on="customer_id")

    if fresh:
        counts = fetch(
            cube.order_by().values_list("kind", "before", "after", "clients"),
            {"kind": pl.String, "before": pl.String, "after": pl.String, "clients": pl.Int64},
        )
        tier_old, tier_new = _expand(counts, "tier")
        grade_old, grade_new = _expand(counts, "grade")
        return _migration_figures(tier_old, tier_new, grade_old, grade_new, before, after)
    old, new = read(before), read(after)
    return _migration_figures(old, new, old, new, before, after)


def _expand(counts: pl.DataFrame, kind: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Counts of (before, after) pairs back to one row per client and run (synthetic ids,
    the same on both sides of a pair), the input ``migration_matrix`` takes."""
    rows = (
        counts.filter(pl.col("kind") == kind)
        .with_row_index("pair")
        .with_columns(i=pl.int_ranges(0, pl.col("clients")))
        .explode("i")
        .drop_nulls("i")
        .with_columns(customer_id=pl.col("pair").cast(pl.Int64) * 10_000_000 + pl.col("i"))
    )
    side = {}
    for name in ("before", "after"):
        side[name] = rows.filter(pl.col(name) != "").select("customer_id", pl.col(name).alias(kind))
    return side["before"], side["after"]


def _migration_figures(tier_old, tier_new, grade_old, grade_new, before, after):
    tier_columns = [("from", _("From")), *[(t, str(Tier(t).label)) for t in TIERS],
                    ("exited", _("Left"))]  # fmt: skip
    tiers = migration_matrix(tier_old, tier_new, col="tier", order=list(TIERS))
    labels = {t: str(Tier(t).label) for t in TIERS}
    tier_rows = [
        {**row, "from": labels.get(row["from"], _("New"))}
        for row in _table(tiers.counts.rename({tiers.counts.columns[0]: "from"}))
    ]
    grades = [band.grade for band in _policy().grades]
    grade = migration_matrix(grade_old, grade_new, col="grade", order=grades)
    grade_rows = _table(grade.counts.rename({grade.counts.columns[0]: "from"}))
    note = _("%(up)s upgrades, %(down)s downgrades between run #%(a)s and run #%(b)s") % {
        "up": tiers.upgrades,
        "down": tiers.downgrades,
        "a": before.pk,
        "b": after.pk,
    }
    return (
        Figure("tier_migration", _("Tier migration"), "matrix", tier_columns, tier_rows,
               note=note),
        Figure("risk_migration", _("Credit grade migration"), "matrix",
               [("from", _("From")), *[(g, g) for g in grades], ("exited", _("Left"))],
               grade_rows, note=_("%(up)s upgrades, %(down)s downgrades") % {
                   "up": grade.upgrades, "down": grade.downgrades}),
    )  # fmt: skip


def _policy():
    from fincrm.core.policy import policy_active, policy_config

    return policy_config(policy_active())


def book_by_class(facilities: pl.DataFrame) -> pl.DataFrame:
    """The running facilities by loan class: ``loan_class``, ``facilities``, ``drawn``,
    ``drawn_30`` (of those 30+ days past due), and ``manager_id`` (the client's manager)."""
    return (
        facilities.filter(pl.col("status") == "active")
        .group_by("loan_class", manager_id="owner_id")
        .agg(
            facilities=pl.len(),
            drawn=pl.col("drawn").sum(),
            drawn_30=pl.col("drawn").filter(pl.col("dpd") >= 30).sum(),
        )
    )


def delinquency(book: pl.DataFrame) -> Figure:
    """``book``: :func:`book_by_class`'s rows (any number per class: they are added up)."""
    total = float(book["drawn"].sum() or 0)
    table = (
        book.group_by("loan_class")
        .agg(facilities=pl.col("facilities").sum(), balance=pl.col("drawn").sum() / 10_000)
        .with_columns(share=pl.col("balance") * 10_000 / total * 100 if total else pl.lit(None))
        .sort("loan_class")
    )
    from fincrm.financing.choices import LoanClass

    order = {c: i for i, c in enumerate(LoanClass.values)}
    table = table.sort(pl.col("loan_class").replace_strict(order, default=99)).with_columns(
        loan_class=pl.col("loan_class").replace_strict(
            {c.value: str(c.label) for c in LoanClass}, default=pl.col("loan_class")
        )
    )
    past_30 = float(book["drawn_30"].sum() or 0)
    columns = [("loan_class", _("Loan class")), ("facilities", _("Facilities")),
               ("balance", _("Balance (10k CNY)")), ("share", _("Share of balance %"))]  # fmt: skip
    note = _("30+ days past due: %(share).1f%% of the balance") % {
        "share": past_30 / total * 100 if total else 0
    }
    return Figure("delinquency", _("Delinquency and loan classes"), "bar", columns,
                  _table(table), x="loan_class", series=["share"], note=note)  # fmt: skip


def ticket_rows(clients: pl.DataFrame, f: Filters, db: str) -> pl.DataFrame:
    """Complaints opened in the period: ``month`` (date), ``resolved``, ``within_sla``
    (responded and resolved by their deadlines, or not yet due: as at now) and
    ``satisfaction``, one row each."""
    tickets = fetch(
        Ticket.objects.using(db).order_by()
        .filter(**f.between("opened_at"))
        .values_list("customer_id", "opened_at", "responded_at", "respond_by", "resolved_at",
                     "resolve_by", "satisfaction"),
        {"customer_id": pl.Int64, "opened": LOCAL_DATE, "responded_at": pl.Datetime("us", "UTC"),
         "respond_by": pl.Datetime("us", "UTC"), "resolved_at": pl.Datetime("us", "UTC"),
         "resolve_by": pl.Datetime("us", "UTC"), "satisfaction": pl.Float64},
    ).join(clients.select("customer_id"), on="customer_id")  # fmt: skip
    now = timezone.now()
    breached = (pl.col("responded_at").fill_null(now) > pl.col("respond_by")) | (
        pl.col("resolved_at").fill_null(now) > pl.col("resolve_by")
    )
    return tickets.select(
        month=pl.col("opened").dt.truncate("1mo"),
        resolved=pl.col("resolved_at").is_not_null(),
        within_sla=~breached,
        satisfaction="satisfaction",
    )


def complaints(tickets: pl.DataFrame) -> Figure:
    """``tickets``: :func:`ticket_rows`, or pre-aggregated rows with ``n`` (and the sum and
    count of the ratings, ``satisfaction_sum``, ``satisfaction_n``)."""
    if "n" not in tickets.columns:
        tickets = tickets.with_columns(
            n=pl.lit(1),
            satisfaction_sum=pl.col("satisfaction"),
            satisfaction_n=pl.col("satisfaction").is_not_null().cast(pl.Int64),
        )
    n = pl.col("n")
    rated, rating_sum = pl.col("satisfaction_n").sum(), pl.col("satisfaction_sum").sum()
    table = (
        tickets.group_by(month=pl.col("month").dt.strftime("%Y-%m"))
        .agg(
            opened=n.sum(),
            resolved=n.filter(pl.col("resolved")).sum(),
            within_sla=n.filter(pl.col("within_sla")).sum(),
            satisfaction=pl.when(rated > 0).then(rating_sum / rated),
        )
        .with_columns(within_sla_rate=pl.col("within_sla") / pl.col("opened") * 100)
        .sort("month")
    )
    columns = [("month", _("Month")), ("opened", _("Opened")), ("resolved", _("Resolved")),
               ("within_sla_rate", _("Within SLA %")),
               ("satisfaction", _("Satisfaction (1–5)"))]  # fmt: skip
    return Figure("complaints", _("Complaints and SLA"), "line", columns,
                  _table(table.select([c for c, _l in columns])), x="month",
                  series=["opened", "within_sla_rate"])  # fmt: skip


def decision_rows(clients: pl.DataFrame, f: Filters, db: str) -> pl.DataFrame:
    """Credit decisions in the period: ``month`` (date), ``automatic`` (by the rule) and
    ``hours`` from submission to the decision, to the minute (as the nightly facts keep
    them), one row each."""
    from fincrm.financing.choices import AutoDecision
    from fincrm.financing.models import Application

    rows = fetch(
        Application.objects.using(db).order_by()
        .filter(**f.between("decided_at"))
        .values_list("customer_id", "decided_at", "submitted_at", "auto_decision"),
        {"customer_id": pl.Int64, "decided_at": pl.Datetime("us", "UTC"),
         "submitted_at": pl.Datetime("us", "UTC"), "auto_decision": pl.String},
    ).join(clients.select("customer_id"), on="customer_id")  # fmt: skip
    minutes = (pl.col("decided_at") - pl.col("submitted_at")).dt.total_seconds() / 60
    return rows.select(
        month=pl.col("decided_at").dt.convert_time_zone(settings.TIME_ZONE).dt.date()
        .dt.truncate("1mo"),
        automatic=pl.col("auto_decision") == AutoDecision.APPROVED,
        hours=minutes.round(0) / 60,
    )  # fmt: skip


def decisions(rows: pl.DataFrame) -> Figure:
    """Credit decisions by month: the automatic-decision rule's share and the hours from
    submission to a decision, by the rule and by people. ``rows``: :func:`decision_rows`,
    or pre-aggregated with ``n`` (each row then stands for ``n`` decisions)."""
    if "n" in rows.columns:  # medians need the values: each row repeated n times
        rows = rows.select(pl.exclude("n").repeat_by("n").explode())
    frame = rows.select(month=pl.col("month").dt.strftime("%Y-%m"), automatic="automatic",
                        hours="hours")  # fmt: skip
    table = decision_speed(frame)
    columns = [("month", _("Month")), ("decided", _("Decided")),
               ("automatic", _("By the automatic rule")),
               ("automatic_share", _("Automatic %")),
               ("hours_automatic", _("Hours to a decision: rule")),
               ("hours_people", _("Hours to a decision: people"))]  # fmt: skip
    return Figure("decisions", _("Credit decisions and their speed"), "line", columns,
                  _table(table), x="month", series=["decided", "automatic"])  # fmt: skip


@dataclass
class StaffInputs:
    """What the staff KPIs are computed from (``analytics.kpi.staff_kpis``' frames, each
    row counting ``n`` where pre-aggregated) and the survey answers by manager."""

    contacts: pl.DataFrame
    tasks: pl.DataFrame
    conversions: pl.DataFrame
    portfolio: pl.DataFrame
    answers: pl.DataFrame


def contact_counts(user, clients: Callable[[], pl.DataFrame], f: Filters, db: str):
    """``manager_id`` (who made the contact), ``n``: from the nightly counts when built."""
    from django.db.models import Sum

    from .cube import cube_rows
    from .models import ContactCount

    cube = cube_rows(ContactCount, user=user, f=f, by_product=False, db=db)
    if cube is not None:  # contacts have no product: a product filter does not narrow them
        return fetch(
            cube.order_by().filter(month__gte=f.start, month__lt=f.end)
            .values("manager_id").annotate(total=Sum("n")).values_list("manager_id", "total"),
            {"manager_id": pl.Int64, "n": pl.Int64},
        )  # fmt: skip
    return (
        fetch(
            Interaction.objects.using(db)
            .order_by()
            .filter(**f.between("occurred_at"))
            .values_list("customer_id", "created_by_id"),
            {"customer_id": pl.Int64, "manager_id": pl.Int64},
        )
        .join(clients().select("customer_id"), on="customer_id")
        .select("manager_id")
    )


def staff_inputs(user, clients: Callable[[], pl.DataFrame], facilities: pl.DataFrame,
                 f: Filters, db: str) -> StaffInputs:  # fmt: skip
    """The staff KPIs' inputs read now (the tasks, facilities and invitations of the
    period)."""
    tasks = fetch(
        Task.objects.using(db).order_by()
        .filter(due_on__gte=f.start, due_on__lt=f.end)
        .values_list("customer_id", "owner_id", "due_on", "completed_at"),
        {"customer_id": pl.Int64, "manager_id": pl.Int64, "due_on": pl.Date,
         "completed_on": LOCAL_DATE},
    ).join(clients().select("customer_id"), on="customer_id")  # fmt: skip
    conversions = facilities.filter(
        (pl.col("start_date") >= f.start) & (pl.col("start_date") < f.end)
    ).select(manager_id="owner_id")
    return StaffInputs(
        contacts=contact_counts(user, clients, f, db),
        tasks=tasks.select("manager_id", "due_on", "completed_on"),
        conversions=conversions,
        portfolio=book_by_class(facilities).select(
            "manager_id", balance="drawn", loan_class="loan_class"
        ),
        answers=_survey_rows(clients(), f, db).rename({"owner_id": "manager_id"}),
    )


def staff(inputs: StaffInputs, f: Filters, db: str) -> Figure:
    from fincrm.accounts.models import User

    table = staff_kpis(
        inputs.contacts, inputs.tasks, inputs.conversions, inputs.portfolio,
        as_of=min(timezone.localdate(), f.end - timedelta(days=1)),
    )  # fmt: skip
    names = {
        u.pk: (f"{u.last_name}{u.first_name}" or u.username)
        for u in User.objects.using(db).filter(pk__in=table["manager_id"].to_list())
    }
    table = table.with_columns(
        manager=pl.col("manager_id").replace_strict(names, default="—", return_dtype=pl.String)
    )
    # Satisfaction by manager (issue 24, point 7): NPS and CSAT of the invitations their
    # clients were sent in the period, as the satisfaction figure computes them.
    answers = inputs.answers
    if answers.height and table.height:
        by_manager = summarise(answers, ["manager_id"], weight=_weight(answers)).select(
            "manager_id", "nps", "csat"
        )
        table = table.join(by_manager, on="manager_id", how="left", maintain_order="left")
    else:
        table = table.with_columns(nps=pl.lit(None, pl.Float64), csat=pl.lit(None, pl.Float64))
    wanted = [("manager", _("Account manager")), ("contacts", _("Contacts made")),
              ("on_time_share", _("Tasks on time %")), ("conversions", _("New facilities")),
              ("good_balance_share", _("Balance in normal class %")),
              ("nps", _("Net promoter score")), ("csat", _("Satisfied clients %"))]  # fmt: skip
    present = [(c, label) for c, label in wanted if c in table.columns]
    for column in ("on_time_share", "good_balance_share"):
        if column in table.columns:
            table = table.with_columns(pl.col(column) * 100)
    return Figure("staff", _("Staff KPIs"), "table", present,
                  _table(table.select([c for c, _l in present])))  # fmt: skip


@dataclass
class DashboardInputs:
    """Each figure's input rows: read from the book now, or from the nightly facts (then
    pre-aggregated, with their count ``n``)."""

    surveys: pl.DataFrame
    matured: pl.DataFrame
    sales: pl.DataFrame
    book: pl.DataFrame
    tickets: pl.DataFrame
    decided: pl.DataFrame
    staff: StaffInputs


def cache_first(read: Callable[[], pl.DataFrame]) -> Callable[[], pl.DataFrame]:
    """``read`` called at most once, when first needed."""
    kept: list[pl.DataFrame] = []

    def once() -> pl.DataFrame:
        if not kept:
            kept.append(read())
        return kept[0]

    return once


def dashboard(*, user, filters: Filters, use_cache: bool = True) -> list[Figure]:
    """Every figure of the dashboard, read on the reporting database (a replica lags the
    primary by seconds; the figures are cached for minutes anyway)."""
    key = filters.key(user)
    if use_cache and (cached := cache.get(key)) is not None:
        return cached
    from .kpi_facts import FactReader

    db = reporting()
    clients = cache_first(lambda: _clients(user, filters, db))
    facts = FactReader.for_user(user, filters, db)
    if facts is not None:
        inputs = facts.inputs(clients)
    else:
        facilities = _facilities(clients(), filters, db)
        inputs = DashboardInputs(
            surveys=_survey_rows(clients(), filters, db),
            matured=renewal_rows(facilities, filters),
            sales=monthly_sales(facilities, filters),
            book=book_by_class(facilities),
            tickets=ticket_rows(clients(), filters, db),
            decided=decision_rows(clients(), filters, db),
            staff=staff_inputs(user, clients, facilities, filters, db),
        )
    tier_migration, risk_migration = migration(user, clients, filters, db)
    figures = [
        satisfaction(inputs.surveys),
        conversion(user, clients, filters, db),
        renewals(inputs.matured),
        sales_and_balance(user, inputs.sales, filters, db),
        tier_migration,
        risk_migration,
        delinquency(inputs.book),
        complaints(inputs.tickets),
        decisions(inputs.decided),
        staff(inputs.staff, filters, db),
    ]
    cache.set(key, figures, CACHE_SECONDS)
    return figures
