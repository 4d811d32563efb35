"""The workbench: each role's home page (issue 19, point 5) and the audit page. Both read
across the apps, which is why they sit in the top layer and not in ``core``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Sum
from django.shortcuts import render
from django.utils import timezone

from fincrm.accounts.choices import Role
from fincrm.accounts.models import User
from fincrm.core.classes import Tier
from fincrm.core.params import query_id
from fincrm.customers.models import Customer
from fincrm.engagement.choices import TaskStatus
from fincrm.engagement.models import Interaction, Notification, Task
from fincrm.financing.choices import CLOSED_STAGES, PIPELINE, Stage
from fincrm.financing.models import Application, Facility, Installment
from fincrm.insights import kpis
from fincrm.risk.choices import CLOSED_ALERT_STATUSES
from fincrm.risk.models import Alert
from fincrm.risk.selectors import (
    SEVERITY_ORDER,
    alert_queue,
    overdue_reviews,
    proposal_list,
    review_list,
)
from fincrm.service.selectors import ticket_queue

from .audit import audit_trail

#: Rows each list of a role's workbench shows (its page holds the rest).
HOME_ROWS = 10


@login_required
def home(request):
    """The workbench: what needs the user's attention today, by role (issue 19, point 5). A
    service agent works the complaint and request queue by SLA; a risk officer alerts,
    proposals and reviews due; a team lead the teams' pipeline, overdue tasks and arrears; an
    executive the KPIs; an account manager (and an administrator) the book with today's
    tasks, the instalments coming due and the alerts assigned."""
    role = request.user.role
    if role == Role.SERVICE_AGENT:
        return _home_agent(request)
    if role == Role.RISK_OFFICER:
        return _home_risk(request)
    if role == Role.TEAM_LEAD:
        return _home_lead(request)
    if role == Role.EXECUTIVE:
        return _home_exec(request)
    return _home_book(request)


def _notifications(user):
    return (
        Notification.objects.restrict(user)
        .filter(read_at__isnull=True)
        .select_related("customer")
        .order_by("-created_at", "-id")[:10]
    )


def _home_agent(request):
    queue = ticket_queue(user=request.user)
    context = {
        "tickets": queue["tickets"][: HOME_ROWS * 2],
        "open_count": len(queue["tickets"]),
        "counts": queue["counts"],
        "notifications": _notifications(request.user),
        "tier_labels": dict(Tier.choices),
    }
    return render(request, "web/home_agent.html", context)


def _home_risk(request):
    user = request.user
    today = timezone.localdate()
    alerts = alert_queue(user=user).select_related("customer", "assigned_to")
    proposals = proposal_list(user=user).order_by("created_at", "id")
    reviews = review_list(user=user).filter(due_on__lte=today + timedelta(days=30))
    context = {
        "today": today,
        "alerts": alerts[:HOME_ROWS],
        "alert_count": alerts.count(),
        "critical_count": alerts.filter(severity="critical").count(),
        "proposals": proposals[:HOME_ROWS],
        "proposal_count": proposals.count(),
        "reviews": reviews[:HOME_ROWS],
        "review_count": reviews.count(),
        "overdue_review_count": overdue_reviews(user=user).count(),
        "notifications": _notifications(user),
        "tier_labels": dict(Tier.choices),
    }
    return render(request, "web/home_risk.html", context)


#: Days ahead the manager's workbench lists instalments coming due.
DUE_DAYS = 7


def _arrears(user, today: date) -> dict:
    """Facilities past due the user sees, worst first, and what their unpaid instalments
    fallen due add up to (principal and interest, CNY)."""
    facilities = Facility.objects.restrict(user).filter(status="active", days_past_due__gt=0)
    owed = (
        Installment.objects.restrict(user)
        .filter(facility__in=facilities, due_date__lt=today, paid_off_on__isnull=True)
        .aggregate(total=Sum(F("principal_due") + F("interest_due") - F("amount_paid")))["total"]
    )
    return {
        "overdue": facilities.select_related("customer", "product").order_by(
            "-days_past_due", "id"
        )[:HOME_ROWS],
        "overdue_facility_count": facilities.count(),
        "arrears_amount": owed or Decimal(0),
    }


def _home_book(request):
    user = request.user
    today = timezone.localdate()
    customers = Customer.objects.restrict(user)
    facilities = Facility.objects.restrict(user).filter(status="active")
    applications = Application.objects.restrict(user).exclude(stage__in=CLOSED_STAGES)
    my_tasks = Task.objects.filter(owner=user, status=TaskStatus.OPEN)
    due_tasks = my_tasks.filter(due_on__lte=today)
    installments = Installment.objects.restrict(user).filter(
        facility__status="active", paid_off_on__isnull=True,
        due_date__range=(today, today + timedelta(days=DUE_DAYS)),
    )  # fmt: skip
    my_alerts = (
        Alert.objects.restrict(user)
        .filter(assigned_to=user)
        .exclude(status__in=CLOSED_ALERT_STATUSES)
        .annotate(severity_rank=SEVERITY_ORDER)
        .order_by("-severity_rank", "-raised_at", "-id")
    )
    context = {
        "today": today,
        "task_count": my_tasks.count(),
        "overdue_task_count": my_tasks.filter(due_on__lt=today).count(),
        "due_tasks": due_tasks.select_related("customer").order_by("due_on", "priority", "id")[
            :HOME_ROWS
        ],
        "due_task_count": due_tasks.count(),
        "installments": installments.select_related("facility", "facility__customer").order_by(
            "due_date", "id"
        )[:HOME_ROWS],
        "installment_count": installments.count(),
        "due_days": DUE_DAYS,
        "alerts": my_alerts.select_related("customer")[:HOME_ROWS],
        "alert_count": my_alerts.count(),
        "notifications": _notifications(user),
        "tier_labels": dict(Tier.choices),
        "customer_count": customers.count(),
        "open_application_count": applications.count(),
        "maturing": facilities.filter(maturity_date__range=(today, today + timedelta(days=60)))
        .select_related("customer", "product")
        .order_by("maturity_date")[:8],
        "stalled": applications.select_related("customer", "product").order_by("stage_changed_at")[
            :8
        ],
        "recent_interactions": Interaction.objects.restrict(user)
        .select_related("customer")
        .order_by("-occurred_at")[:8],
        **_arrears(user, today),
    }
    return render(request, "web/home.html", context)


def _by_owner(tasks) -> list[tuple]:
    """(owner, count) of ``tasks``, most first: two queries however many owners."""
    counts = list(
        tasks.order_by().values("owner").annotate(n=Count("pk")).order_by("-n", "owner")[:HOME_ROWS]
    )
    owners = User.objects.in_bulk([row["owner"] for row in counts if row["owner"]])
    return [(owners.get(row["owner"]), row["n"]) for row in counts]


def _home_lead(request):
    """The lead's teams: open applications by stage, tasks overdue (by whom), arrears."""
    user = request.user
    today = timezone.localdate()
    by_stage = dict(
        Application.objects.restrict(user)
        .exclude(stage__in=CLOSED_STAGES)
        .order_by()
        .values("stage")
        .annotate(n=Count("pk"))
        .values_list("stage", "n")
    )
    pipeline = [(stage, Stage(stage).label, by_stage.get(stage, 0))
                for stage in PIPELINE if stage not in CLOSED_STAGES]  # fmt: skip
    overdue_tasks = Task.objects.restrict(user).filter(status=TaskStatus.OPEN, due_on__lt=today)
    context = {
        "today": today,
        "pipeline": pipeline,
        "open_application_count": sum(n for _s, _l, n in pipeline),
        "overdue_tasks": overdue_tasks.select_related("customer", "owner").order_by(
            "due_on", "priority", "id"
        )[:HOME_ROWS],
        "overdue_task_count": overdue_tasks.count(),
        "overdue_by_owner": _by_owner(overdue_tasks),
        "notifications": _notifications(user),
        "tier_labels": dict(Tier.choices),
        **_arrears(user, today),
    }
    return render(request, "web/home_lead.html", context)


#: The executive's KPIs: (figure, column) of the dashboard, each its latest month's value.
EXEC_KPIS = (
    ("growth", "balance"),
    ("growth", "sales"),
    ("conversion", "conversion_from_first"),
    ("renewal", "renewal_rate"),
    ("complaints", "within_sla_rate"),
    ("satisfaction", "nps"),
    ("decisions", "automatic_share"),
)


def _home_exec(request):
    """The KPIs of the dashboard (its default period, the same cached figures), the latest
    value of each, and the share of the balance 30 days or more past due."""
    figures = {
        f.key: f for f in kpis.dashboard(user=request.user, filters=kpis.Filters.from_query({}))
    }
    tiles = []
    for key, column in EXEC_KPIS:
        figure = figures.get(key)
        if figure is None:
            continue
        label = dict(figure.columns)[column]
        row = next((r for r in reversed(figure.rows) if r.get(column) is not None), None)
        tiles.append(
            {
                "key": f"{key}-{column}",
                "label": label,
                "title": figure.title,
                "value": None if row is None else row[column],
                "when": "" if row is None or not figure.x else row.get(figure.x, ""),
            }
        )
    delinquency = figures.get("delinquency")
    context = {
        "tiles": tiles,
        "delinquency": delinquency,
        "notifications": _notifications(request.user),
        "tier_labels": dict(Tier.choices),
    }
    return render(request, "web/home_exec.html", context)


@login_required
def audit(request):
    """Who saw or changed what: administrators and risk officers."""
    user = request.user
    if not (user.is_superuser or user.role in (Role.ADMIN, Role.RISK_OFFICER)):
        raise PermissionDenied

    def day(name):
        try:
            return date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return None

    rows = audit_trail(user_id=query_id(request.GET, "user"),
                       customer_id=query_id(request.GET, "client"),
                       since=day("since"), until=day("until"))  # fmt: skip
    context = {"rows": rows, "users": User.objects.order_by("username"), "query": request.GET}
    return render(request, "web/audit.html", context)
