"""Reads of the staff app: who is in a user's scope, where each person stands on the courses
their role requires, and the month's measures behind the incentive scorecard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import polars as pl
from django.db.models import Count, Q, Sum
from django.utils import timezone

from fincrm.accounts.choices import Role
from fincrm.accounts.models import User
from fincrm.analytics.incentive import arrears_share, score_staff
from fincrm.analytics.policy import IncentiveMeasure
from fincrm.analytics.surveys import summarise
from fincrm.core.db import reporting
from fincrm.core.frames import fetch
from fincrm.core.policy import policy_current
from fincrm.engagement.models import Interaction
from fincrm.financing.models import Facility, Installment
from fincrm.service.choices import TicketKind
from fincrm.service.models import Ticket
from fincrm.surveys.models import Invitation

from .choices import TrainingStatus
from .models import Course, TrainingRecord

#: The people a scorecard is kept for.
SCORED_ROLES = (Role.ACCOUNT_MANAGER, Role.TEAM_LEAD)


def people_in_scope(user, action: str = "view"):
    """Staff whose training (and scorecard) ``user`` may see or, with "change", record:
    admins everyone; executives everyone (view); a lead the people of their teams and
    sub-teams (and themselves); anyone else themselves (view) or nobody (change)."""
    staff = User.objects.filter(is_active=True).exclude(role="")
    if not (user and user.is_authenticated and user.is_active):
        return staff.none()
    if user.is_superuser or user.role == Role.ADMIN:
        return staff
    if action == "view" and user.role == Role.EXECUTIVE:
        return staff
    if user.role == Role.TEAM_LEAD:
        team = Q(team_id__in=user.visible_team_ids())
        return staff.filter(team | Q(pk=user.pk) if action == "view" else team)
    return staff.filter(pk=user.pk) if action == "view" else staff.none()


@dataclass
class CourseState:
    course: Course
    status: str
    expires_on: date | None = None
    taken_on: date | None = None

    @property
    def flagged(self) -> bool:
        return self.status != TrainingStatus.VALID

    @property
    def status_label(self) -> str:
        return str(TrainingStatus(self.status).label)


@dataclass
class PersonTraining:
    person: User
    courses: list[CourseState] = field(default_factory=list)

    @property
    def flagged(self) -> list[CourseState]:
        return [c for c in self.courses if c.flagged]


def training_overview(people, *, as_of: date) -> list[PersonTraining]:
    """For each person, each active course their role requires: valid, expiring within the
    policy's window, expired, or never completed, from their latest completion."""
    window = policy_current()[0].staff_training.expiring_within_days
    courses = [c for c in Course.objects.filter(active=True) if c.required_roles]
    people = list(people.select_related("team").order_by("team__name", "last_name", "username"))
    latest: dict[tuple[int, int], TrainingRecord] = {}
    completions = TrainingRecord.objects.filter(
        user__in=[p.pk for p in people], completed=True
    ).order_by("taken_on", "pk")
    for record in completions:
        latest[(record.user_id, record.course_id)] = record
    out = []
    for person in people:
        row = PersonTraining(person)
        for course in courses:
            if person.role not in course.required_roles:
                continue
            record = latest.get((person.pk, course.pk))
            if record is None:
                status = TrainingStatus.MISSING
            elif record.expires_on is None or record.expires_on > as_of + timedelta(days=window):
                status = TrainingStatus.VALID
            elif record.expires_on < as_of:
                status = TrainingStatus.EXPIRED
            else:
                status = TrainingStatus.EXPIRING
            row.courses.append(CourseState(
                course, status, record.expires_on if record else None,
                record.taken_on if record else None,
            ))  # fmt: skip
        out.append(row)
    return out


# --- the monthly scorecard ---------------------------------------------------------------------


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def scored_people(user):
    """The people on ``user``'s scorecard: account managers and leads in their scope."""
    return people_in_scope(user, "view").filter(role__in=SCORED_ROLES)


def _satisfaction(db: str, ids: list[int], between: dict[str, datetime]) -> pl.DataFrame:
    """NPS and CSAT (with their response counts) of the invitations sent in the month to the
    clients each person owns; an empty frame when none was sent."""
    answers = fetch(
        Invitation.objects.using(db).order_by()
        .filter(customer__owner_id__in=ids, sent_at__gte=between["gte"],
                sent_at__lt=between["lt"])
        .values_list("customer__owner_id", "answered_at", "response__nps_score",
                     "response__rating"),
        {"staff_id": pl.Int64, "answered_at": pl.Datetime("us", "UTC"), "nps_score": pl.Int64,
         "csat_score": pl.Int64},
    ).with_columns(answered=pl.col("answered_at").is_not_null())  # fmt: skip
    return (
        summarise(answers, ["staff_id"]).select(
            "staff_id", "nps_responses", "csat_responses",
            nps=pl.col("nps").cast(pl.Float64), csat=pl.col("csat").cast(pl.Float64),
        )
        if answers.height
        else pl.DataFrame(schema={"staff_id": pl.Int64, "nps_responses": pl.Int64,
                                  "csat_responses": pl.Int64, "nps": pl.Float64,
                                  "csat": pl.Float64})
    )  # fmt: skip


def _asset_quality(db: str, ids: list[int], last: date, dpd_days: int) -> pl.DataFrame:
    """The share of each person's clients' drawn balance with an instalment ``dpd_days`` or
    more past due on ``last`` (the month's last day), as the book stood then."""
    book = fetch(
        Facility.objects.using(db).order_by()
        .filter(customer__owner_id__in=ids, start_date__lte=last)
        .values_list("pk", "customer__owner_id", "drawn_amount"),
        {"facility_id": pl.Int64, "manager_id": pl.Int64, "balance": pl.Float64},
    )  # fmt: skip
    installments = fetch(
        Installment.objects.using(db).order_by()
        .filter(facility__customer__owner_id__in=ids, facility__start_date__lte=last)
        .filter(Q(paid_off_on__isnull=True) | Q(paid_off_on__gt=last))
        .values_list("facility_id", "due_date", "paid_off_on"),
        {"facility_id": pl.Int64, "due_date": pl.Date, "paid_off_on": pl.Date},
    )  # fmt: skip
    return arrears_share(book, installments, as_of=last, days=dpd_days).select(
        staff_id="manager_id", dpd30_share="share"
    )


def staff_measures(ids: list[int], month: date, *, dpd_days: int = 30) -> pl.DataFrame:
    """The month's measures of each person in ``ids`` (one query per measure, not per person).

    Contacts are the interactions they recorded; NPS and CSAT those of the survey invitations
    sent in the month to the clients they own, computed as the KPI dashboard does
    (``analytics.surveys.summarise``); new facilities are those of their clients starting in
    the month (count and approved limits); asset quality the share of their clients' drawn
    balance with an instalment ``dpd_days`` or more past due on the month's last day (from
    the instalments' payoff dates, so a past month reads as it stood); complaints those opened
    by their clients in the month. Zero contacts, facilities or complaints are zeros; no
    survey answered or no book leaves NPS, CSAT or the asset quality null (left out)."""
    db = reporting()
    start, end = month.replace(day=1), _next_month(month)
    last = end - timedelta(days=1)
    between = {"gte": _aware(start), "lt": _aware(end)}
    base = pl.DataFrame({"staff_id": ids}, schema={"staff_id": pl.Int64})

    def counts(rows, name: str) -> pl.DataFrame:
        return pl.DataFrame(
            list(rows), schema={"staff_id": pl.Int64, name: pl.Float64}, orient="row"
        )

    contacts = counts(
        Interaction.objects.using(db).order_by()
        .filter(created_by_id__in=ids, occurred_at__gte=between["gte"],
                occurred_at__lt=between["lt"])
        .values("created_by_id").annotate(n=Count("pk")).values_list("created_by_id", "n"),
        "contacts",
    )  # fmt: skip
    complaints = counts(
        Ticket.objects.using(db).order_by()
        .filter(kind=TicketKind.COMPLAINT, customer__owner_id__in=ids,
                opened_at__gte=between["gte"], opened_at__lt=between["lt"])
        .values("customer__owner_id").annotate(n=Count("pk"))
        .values_list("customer__owner_id", "n"),
        "complaints",
    )  # fmt: skip
    booked = pl.DataFrame(
        list(
            Facility.objects.using(db).order_by()
            .filter(customer__owner_id__in=ids, start_date__gte=start, start_date__lt=end)
            .values("customer__owner_id")
            .annotate(n=Count("pk"), amount=Sum("approved_limit"))
            .values_list("customer__owner_id", "n", "amount")
        ),
        schema={"staff_id": pl.Int64, "new_facilities": pl.Float64, "new_amount": pl.Float64},
        orient="row",
    )  # fmt: skip
    satisfaction = _satisfaction(db, ids, between)
    arrears = _asset_quality(db, ids, last, dpd_days)
    out = base
    for part in (contacts, complaints, booked, satisfaction, arrears):
        out = out.join(part, on="staff_id", how="left")
    zeros = ["contacts", "complaints", "new_facilities", "new_amount", "nps_responses",
             "csat_responses"]  # fmt: skip
    return out.with_columns(pl.col(c).fill_null(0) for c in zeros).sort("staff_id")


@dataclass
class Scorecard:
    month: date
    measures: list[str]
    rows: list[dict]
    weights: dict[str, float]
    targets: dict[str, float]
    lower_is_better: set[str]


def scorecard(*, user, month: date) -> Scorecard:
    """The month's scorecard of the people in ``user``'s scope, best score first."""
    scheme = policy_current()[0].staff_incentive
    people = {p.pk: p for p in scored_people(user).select_related("team")}
    measures = staff_measures(sorted(people), month, dpd_days=scheme.dpd_threshold_days)
    scored = score_staff(measures, scheme)
    extra = measures.select("staff_id", "nps_responses", "csat_responses")
    rows = []
    for row in scored.join(extra, on="staff_id", how="left", maintain_order="left").iter_rows(
        named=True
    ):
        row["person"] = people[row["staff_id"]]
        rows.append(row)
    chosen: dict[str, IncentiveMeasure] = {
        m: rule for m, rule in scheme.measures.items() if rule.weight > 0
    }
    return Scorecard(
        month=month.replace(day=1), measures=list(chosen), rows=rows,
        weights={m: rule.weight for m, rule in chosen.items()},
        targets={m: rule.target for m, rule in chosen.items()},
        lower_is_better={m for m, rule in chosen.items() if rule.lower_is_better},
    )  # fmt: skip
