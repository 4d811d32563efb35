"""The notification bell of the top bar: the user's unread notifications and the open items
waiting for them (alerts assigned to them, their tasks due today or overdue, applications at
credit review waiting for their authority, complaints past their SLA for a service agent).

Every page shows it, so it costs a fixed handful of queries however big the book (one per
kind of item, counted in the database), is cached per user for ``BELL_SECONDS`` and loaded by
the page after it is shown (htmx), never on the page's own request. Marking notifications
read forgets the user's cached bell at once; other counts may lag by up to ``BELL_SECONDS``."""

from __future__ import annotations

from decimal import Decimal
from functools import reduce
from operator import or_

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from fincrm.accounts.choices import Role
from fincrm.core.classes import Tier
from fincrm.core.permissions import get_restricted_or_404
from fincrm.core.policy import policy_current
from fincrm.core.redirects import redirect_next
from fincrm.engagement.choices import TaskStatus
from fincrm.engagement.models import Notification, Task
from fincrm.financing.choices import Stage, Vote
from fincrm.financing.models import Application, ApprovalVote
from fincrm.risk.choices import CLOSED_ALERT_STATUSES
from fincrm.risk.models import Alert
from fincrm.service.choices import OPEN_STATUSES
from fincrm.service.models import Ticket

#: How long a user's bell is served from the cache.
BELL_SECONDS = 60
#: Unread notifications listed in the dropdown (the notifications page lists the rest).
LATEST = 8
#: Notifications a page of the notifications list shows.
PAGE_SIZE = 50


#: The bell's lines: key, label, the page that works them.
ITEMS = (
    ("notifications", _("Unread notifications"), "notifications", ""),
    ("tasks_overdue", _("Overdue tasks"), "engagement:tasks", ""),
    ("tasks_today", _("Tasks due today"), "engagement:tasks", ""),
    ("alerts", _("Alerts assigned to me"), "risk:alerts", "?mine=on"),
    ("approvals", _("Applications waiting for my approval"), "financing:applications",
     "?stage=credit_review"),
    ("complaints_breached", _("Complaints past their SLA"), "service:list", "?state=breached"),
)  # fmt: skip


def _cache_key(user_id: int) -> str:
    return f"bell:v1:{user_id}"


def bell_forget(user_id: int) -> None:
    """Drop a user's cached bell (their notifications changed)."""
    cache.delete(_cache_key(user_id))


def _role(user) -> str:
    return Role.ADMIN if user.is_superuser and not user.role else user.role


def awaiting_decision(user, policy):
    """Applications at credit review the user sees that a rule of the authority table lets
    the user's role decide (amount, grade, product type, own teams: ``approval._rule_applies``
    in SQL) and that still wait for the role's approval; not the user's own submissions under
    maker-checker. ``None`` when the user's role is in no rule."""
    role = _role(user)
    rules = [rule for rule in policy.lending.approval_authority if role in rule.roles]
    if not rules:
        return None
    grades = [band.grade for band in policy.grades]
    team_ids = user.visible_team_ids()
    terms = []
    for rule in rules:
        term = Q()
        if rule.max_amount_cny is not None:
            term &= Q(amount__lte=Decimal(str(rule.max_amount_cny)))
        if rule.worst_grade:
            term &= Q(
                customer__classification__grade__in=grades[: grades.index(rule.worst_grade) + 1]
            )
        if rule.product_types:
            term &= Q(product__product_type__in=rule.product_types)
        if rule.own_teams_only:
            term &= Q(customer__owner=user) | Q(customer__team_id__in=team_ids)
        terms.append(term)
    voted = ApprovalVote.objects.filter(application=OuterRef("pk"), role=role, vote=Vote.APPROVE)
    qs = (
        Application.objects.restrict(user, "view")
        .filter(stage=Stage.CREDIT_REVIEW)
        .exclude(Exists(voted))
    )
    if all(terms):  # a rule without bounds covers every application (Q() | x is only x)
        qs = qs.filter(reduce(or_, terms))
    if policy.lending.maker_checker:
        qs = qs.exclude(submitted_by=user)
    return qs


def _breached_tickets(user, now) -> int:
    late = Q(responded_at__isnull=True, respond_by__lt=now) | Q(
        resolved_at__isnull=True, resolve_by__lt=now
    )
    return Ticket.objects.restrict(user, "view").filter(late, status__in=OPEN_STATUSES).count()


def _notification_link(data: dict, customer_id: int | None) -> str:
    """Where a notification leads: the complaint, the application, else the client."""
    if isinstance(data, dict) and isinstance(data.get("ticket"), int):
        return reverse("service:detail", args=[data["ticket"]])
    if isinstance(data, dict) and isinstance(data.get("application"), int):
        return reverse("financing:application", args=[data["application"]])
    if customer_id:
        return reverse("customers:detail", args=[customer_id])
    return reverse("notifications")


def bell_counts(user) -> dict:
    """The bell's figures, read from the database: ``counts`` (item key → number, only the
    kinds that apply to the user's role) and ``latest`` (the newest unread notifications as
    plain dicts with their link). A fixed number of queries for a role, whatever the book."""
    today, now = timezone.localdate(), timezone.now()
    role = _role(user)
    unread = Notification.objects.restrict(user).filter(read_at__isnull=True)
    latest = [
        {**row, "link": _notification_link(row["data"], row["customer_id"])}
        for row in unread.order_by("-created_at", "-id").values(
            "id", "kind", "message", "data", "created_at", "customer_id", "customer__name"
        )[:LATEST]
    ]
    counts = {"notifications": unread.count()}
    counts.update(
        Task.objects.filter(owner=user, status=TaskStatus.OPEN).aggregate(
            tasks_overdue=Count("pk", filter=Q(due_on__lt=today)),
            tasks_today=Count("pk", filter=Q(due_on=today)),
        )
    )
    if role == Role.SERVICE_AGENT:
        counts["complaints_breached"] = _breached_tickets(user, now)
    else:
        counts["alerts"] = (
            Alert.objects.restrict(user)
            .filter(assigned_to=user)
            .exclude(status__in=CLOSED_ALERT_STATUSES)
            .count()
        )
    policy, _version = policy_current()
    waiting = awaiting_decision(user, policy)
    if waiting is not None:
        counts["approvals"] = waiting.count()
    return {"counts": counts, "latest": latest}


def bell_for(user) -> dict:
    """The user's bell (from the cache when read in the last ``BELL_SECONDS``): ``items``
    (key, label, count, url of each line that applies), ``total`` and ``latest``."""
    key = _cache_key(user.pk)
    found = cache.get(key)
    if found is None:
        found = bell_counts(user)
        cache.set(key, found, BELL_SECONDS)
    counts = found["counts"]
    items = [
        {"key": key, "label": label, "count": counts[key], "url": reverse(name) + query}
        for key, label, name, query in ITEMS
        if key in counts
    ]
    return {"items": items, "total": sum(counts.values()), "latest": found["latest"]}


def _forget_after(request, response):
    bell_forget(request.user.pk)
    return response


@login_required
def bell(request):
    """The bell's button and dropdown (an htmx partial the top bar loads after the page)."""
    return render(request, "web/_bell.html", {"bell": bell_for(request.user)})


@login_required
def notification_list(request):
    """The user's own notifications, newest first, unread and read."""
    from django.core.paginator import Paginator

    rows = Notification.objects.restrict(request.user).select_related("customer")
    page = Paginator(rows.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for note in page.object_list:
        note.link = _notification_link(note.data, note.customer_id)
    context = {"page_obj": page, "notifications": page.object_list,
               "tier_labels": dict(Tier.choices)}  # fmt: skip
    return render(request, "web/notifications.html", context)


@login_required
@require_POST
def notification_read(request, pk: int):
    """Mark one of the user's notifications read and go where it leads (``next``)."""
    note = get_restricted_or_404(request.user, Notification, "change", pk=pk)
    if note.read_at is None:
        Notification.objects.filter(pk=note.pk).update(read_at=timezone.now())
    return _forget_after(request, redirect_next(request, "notifications"))


@login_required
@require_POST
def notifications_read(request):
    """Mark all the user's notifications read (nobody else's: ``restrict`` is the recipient)."""
    Notification.objects.restrict(request.user, "change").filter(read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return _forget_after(request, redirect_next(request, "home"))
