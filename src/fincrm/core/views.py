"""Shared view plumbing: every list and detail view restricts its queryset to what the
acting user may see (NetBox's ``restrict()``), so a new view cannot forget it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, F, Sum
from django.shortcuts import render
from django.utils import timezone
from django.views.generic import DetailView, ListView

from fincrm.core.pagination import EstimatedCountPaginator
from fincrm.core.params import query_id
from fincrm.customers.models import Customer
from fincrm.engagement.choices import TaskStatus
from fincrm.engagement.models import Interaction, Notification, Task
from fincrm.evaluation.choices import Tier
from fincrm.financing.choices import CLOSED_STAGES
from fincrm.financing.models import Application, Facility, Installment
from fincrm.risk.choices import CLOSED_ALERT_STATUSES
from fincrm.risk.models import Alert
from fincrm.risk.selectors import SEVERITY_ORDER


def flash_errors(request, exc) -> None:
    """Each message of a ``ValidationError`` as an error message on the next page."""
    from django.contrib import messages

    for message in exc.messages:
        messages.error(request, message)


class RestrictedQuerysetMixin(LoginRequiredMixin):
    """Restrict ``queryset`` (or ``model``) to the rows the user may ``permission_action``."""

    permission_action = "view"

    def get_queryset(self):
        qs = super().get_queryset()
        if not hasattr(qs, "restrict"):
            raise ImproperlyConfigured(
                f"{qs.model.__name__} has no restrict(): add a RestrictedQuerySet"
            )
        return qs.restrict(self.request.user, self.permission_action)


#: At most this many rows in one list's Excel export.
MAX_EXPORT_ROWS = 20_000


class RestrictedListView(RestrictedQuerysetMixin, ListView):
    """A list a page at a time, filtered by ``filterset_class``. With ``export_columns``
    ((header, cell function of a row) pairs: what the page shows, masked as the page masks
    it), ``?export=xlsx`` answers the list as the reader sees it (their scope, filters, tab
    and order; every page) as an Excel sheet, the filters written on top."""

    paginate_by = 25
    paginator_class = EstimatedCountPaginator
    filterset_class = None
    export_columns: tuple = ()
    #: The export's file name (``fincrm-<export_name>-<day>.xlsx``) and sheet title.
    export_name = "list"
    export_title = ""

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "xlsx" and self.export_columns:
            return self.export()
        return super().get(request, *args, **kwargs)

    def export_applied(self) -> list[tuple[str, str]]:
        """What narrows the list besides the filter form (a tab such as "my teams")."""
        return []

    def export_rows(self, rows):
        """Each row's cells; a view whose cells need the reader (masking) overrides it."""
        return ([cell(row) for _, cell in self.export_columns] for row in rows)

    def export(self):
        from fincrm.core.excel import applied_filters, workbook, xlsx_response

        self.object_list = self.get_queryset()
        filterset = getattr(self, "filterset", None)
        if filterset is not None and filterset.is_bound and not filterset.is_valid():
            return self.render_to_response(self.get_context_data())  # the 400 page
        rows = self.object_list[:MAX_EXPORT_ROWS]
        content = workbook(
            title=str(self.export_title or self.export_name),
            header=[str(label) for label, _ in self.export_columns],
            rows=self.export_rows(rows),
            applied=[*applied_filters(filterset), *self.export_applied()],
        )
        return xlsx_response(content, name=self.export_name)

    def get_queryset(self):
        qs = super().get_queryset()
        if self.filterset_class is None:
            return qs
        self.filterset = self.filterset_class(
            self.request.GET or None, queryset=qs, request=self.request
        )
        return self.filterset.qs if self.filterset.is_bound else qs

    def get_paginator(self, queryset, per_page, *args, **kwargs):
        # A filterset may say how its rows are counted fastest (``CustomerFilterSet.counted``).
        counted = getattr(getattr(self, "filterset", None), "counted", None)
        if counted is not None and issubclass(self.paginator_class, EstimatedCountPaginator):
            kwargs["counted"] = counted
        return super().get_paginator(queryset, per_page, *args, **kwargs)

    def render_to_response(self, context, **response_kwargs):
        """A filter the form refuses (an id past 64 bits, a choice that does not exist) is
        the client's error: the page with the form's messages, answered 400."""
        filterset = getattr(self, "filterset", None)
        if filterset is not None and filterset.is_bound and not filterset.is_valid():
            response_kwargs.setdefault("status", 400)
        return super().render_to_response(context, **response_kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if self.filterset_class is not None:
            ctx["filterset"] = self.filterset
            query = self.request.GET.copy()
            query.pop("page", None)
            query.pop("export", None)
            ctx["query_without_page"] = query.urlencode()
            if self.export_columns:
                query["export"] = "xlsx"
                ctx["export_query"] = query.urlencode()
        return ctx


def ticked_ids(request, name: str, limit: int) -> list[int]:
    """The ids ticked on a list (``name`` repeated in the POST), at most ``limit``; anything
    that is not a whole number within 64 bits is ignored."""
    ids = [int(v) for v in request.POST.getlist(name) if v.isdigit() and len(v) < 19]
    return list(dict.fromkeys(ids))[:limit]


def safe_next(request) -> str:
    """The page to go back to after a bulk action, if it is one of this site's."""
    from django.utils.http import url_has_allowed_host_and_scheme

    back = request.POST.get("next", "")
    return back if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) else ""


def bulk_assignee(request):
    """The person a bulk "assign" hands rows to (``assignee`` in the POST), if the acting
    user may assign to them (``accounts.selectors.assignable_users``), else ``None``."""
    from fincrm.accounts.selectors import assignable_users

    raw = request.POST.get("assignee", "")
    if not (raw.isdigit() and len(raw) < 19):
        return None
    return assignable_users(request.user).filter(pk=int(raw)).first()


def bulk_days(request) -> int | None:
    raw = request.POST.get("days", "")
    return int(raw) if raw.isdigit() and len(raw) < 4 else None


def bulk_confirm(request, *, action: str, label, url: str, field: str, rows, skipped: int,
                 cancel_url: str, assignee=None, days=None, **extra):  # fmt: skip
    """The page that asks before a bulk action: what, on how many and which rows (``rows``:
    (id, text) pairs), to whom or by how much, and how many ticked rows are left alone."""
    context = {"action": action, "action_label": label, "action_url": url, "field": field,
               "rows": rows, "skipped": skipped, "cancel_url": cancel_url,
               "assignee": assignee, "days": days, "next": safe_next(request), **extra}  # fmt: skip
    return render(request, "includes/bulk_confirm.html", context)


def bulk_done(request, message: str, *, skipped: int) -> None:
    """The message after a bulk action: how many changed, and how many were left alone."""
    from django.contrib import messages
    from django.utils.translation import ngettext

    earlier = request.POST.get("skipped", "")
    skipped += int(earlier) if earlier.isdigit() and len(earlier) < 4 else 0
    if skipped:
        message += " " + ngettext(
            "%(n)d ticked row was not yours to change and stays as it was.",
            "%(n)d ticked rows were not yours to change and stay as they were.",
            skipped,
        ) % {"n": skipped}
    messages.success(request, message)


class RestrictedDetailView(RestrictedQuerysetMixin, DetailView):
    pass


#: Rows each list of a role's workbench shows (its page holds the rest).
HOME_ROWS = 10


@login_required
def home(request):
    """The workbench: what needs the user's attention today, by role (issue 19, point 5). A
    service agent works the complaint and request queue by SLA; a risk officer alerts,
    proposals and reviews due; a team lead the teams' pipeline, overdue tasks and arrears; an
    executive the KPIs; an account manager (and an administrator) the book with today's
    tasks, the instalments coming due and the alerts assigned."""
    from fincrm.accounts.choices import Role

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
    from fincrm.service.selectors import ticket_queue

    queue = ticket_queue(user=request.user)
    context = {
        "tickets": queue["tickets"][: HOME_ROWS * 2],
        "open_count": len(queue["tickets"]),
        "counts": queue["counts"],
        "notifications": _notifications(request.user),
        "tier_labels": dict(Tier.choices),
    }
    return render(request, "core/home_agent.html", context)


def _home_risk(request):
    from fincrm.risk.selectors import alert_queue, overdue_reviews, proposal_list, review_list

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
    return render(request, "core/home_risk.html", context)


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
    return render(request, "core/home.html", context)


def _by_owner(tasks) -> list[tuple]:
    """(owner, count) of ``tasks``, most first: two queries however many owners."""
    from fincrm.accounts.models import User

    counts = list(
        tasks.order_by().values("owner").annotate(n=Count("pk")).order_by("-n", "owner")[:HOME_ROWS]
    )
    owners = User.objects.in_bulk([row["owner"] for row in counts if row["owner"]])
    return [(owners.get(row["owner"]), row["n"]) for row in counts]


def _home_lead(request):
    """The lead's teams: open applications by stage, tasks overdue (by whom), arrears."""
    from fincrm.financing.choices import PIPELINE, Stage

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
    return render(request, "core/home_lead.html", context)


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
    from fincrm.insights import kpis

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
    return render(request, "core/home_exec.html", context)


@login_required
def audit(request):
    """Who saw or changed what: administrators and risk officers."""
    from django.core.exceptions import PermissionDenied

    from fincrm.accounts.choices import Role
    from fincrm.accounts.models import User

    from .audit import audit_trail

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
    return render(request, "core/audit.html", context)
