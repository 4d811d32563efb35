from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Q, Value, When
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from fincrm.accounts.views import bulk_assignee
from fincrm.core.excel import local_time
from fincrm.core.permissions import get_restricted_or_404
from fincrm.core.redirects import redirect_next
from fincrm.core.templatetags.fincrm_tags import person
from fincrm.core.views import (
    RestrictedListView,
    bulk_confirm,
    bulk_days,
    bulk_done,
    flash_errors,
    ticked_ids,
)
from fincrm.postloan.selectors import portfolio_cover

from . import selectors, services
from .choices import (
    CLOSED_ALERT_STATUSES,
    SEVERITY_RANK,
    ProposalStatus,
    ReviewDecision,
    ReviewStatus,
)
from .filtersets import AlertFilterSet, ProposalFilterSet, ReviewFilterSet
from .forms import ReviewEffectForm
from .models import Alert, ControlProposal, ModelSwitch, Review, ScorecardModel
from .rules import may_switch_model
from .templatetags.risk_tags import frequency_label, security_label, signal_label

#: Alerts worst first: the severity's rank, for sorting in the database.
_SEVERITY_RANK = Case(
    *(When(severity=code, then=Value(rank)) for code, rank in SEVERITY_RANK.items()),
    default=Value(0),
    output_field=IntegerField(),
)


class AlertListView(RestrictedListView):
    """The alerts a user must act on (own clients; risk officers: all), worst first, a page
    at a time; filtered by client, severity, rule, status and assignee, sorted by column."""

    queryset = Alert.objects.annotate(severity_rank=_SEVERITY_RANK).select_related(
        "customer", "assigned_to"
    )
    ordering = ("-severity_rank", "-raised_at", "-id")
    filterset_class = AlertFilterSet
    template_name = "risk/alerts.html"
    paginate_by = 25
    export_name = "alerts"
    export_title = gettext_lazy("Alerts")
    export_columns = (
        (gettext_lazy("Severity"), lambda a: a.get_severity_display()),
        (gettext_lazy("Client"), lambda a: a.customer.name),
        (gettext_lazy("Rule"), lambda a: str(a.rule_label)),
        (gettext_lazy("Signal"), lambda a: signal_label(a.signal)),
        (gettext_lazy("Value"), lambda a: a.value),
        (gettext_lazy("Threshold"), lambda a: a.threshold),
        (gettext_lazy("Raised"), lambda a: a.raised_on),
        (gettext_lazy("Assigned to"), lambda a: person(a.assigned_to, "")),
        (gettext_lazy("Status"), lambda a: a.get_status_display()),
    )

    def get_queryset(self):
        qs = super().get_queryset()
        user = self.request.user
        if not self.request.GET.get("status"):
            qs = qs.exclude(status__in=CLOSED_ALERT_STATUSES)
        if not self.request.GET.get("snoozed"):
            # Snoozed alerts leave the working list until their day (the filter shows them).
            qs = qs.exclude(snoozed_until__gt=timezone.localdate())
        if not user.sees_whole_portfolio:
            qs = qs.filter(Q(assigned_to=user) | Q(customer__owner=user))
        return qs

    def get_context_data(self, **kwargs):
        from fincrm.accounts.selectors import assignable_users

        ctx = super().get_context_data(**kwargs)
        _attach_plan_tasks(ctx["object_list"])
        ctx["assignees"] = assignable_users(self.request.user)
        return ctx


def _attach_plan_tasks(alerts) -> None:
    """Each alert's action-plan tasks (source_key "alert:<id>:<n>"), in one query."""
    from fincrm.engagement.models import Task

    tasks: dict[int, list] = {}
    for task in Task.objects.filter(
        customer_id__in={a.customer_id for a in alerts}, source_key__startswith="alert:"
    ).select_related("owner"):
        tasks.setdefault(int(task.source_key.split(":")[1]), []).append(task)
    for alert in alerts:
        alert.plan_tasks = sorted(tasks.get(alert.pk, []), key=lambda t: t.source_key)


@login_required
@require_POST
def alert_action(request, pk: int):
    alert = get_restricted_or_404(request.user, Alert, "view", pk=pk)
    if not (
        alert.assigned_to_id == request.user.pk
        or request.user.has_perm("risk.decide")
        or Alert.objects.restrict(request.user, "change").filter(pk=pk).exists()
    ):
        raise PermissionDenied
    action = request.POST.get("action", "ack")
    text = request.POST.get("text", "")[:2000]
    try:
        if action in ("resolve", "close"):
            services.alert_close(
                alert=alert, user=request.user, resolution=request.POST.get("resolution", text)
            )
        elif action == "dismiss":
            services.alert_close(alert=alert, user=request.user, resolution=text, dismiss=True)
        elif action == "start":
            services.alert_start(alert=alert, user=request.user, action_plan=text)
        elif action == "task":
            due = parse_date(request.POST.get("due_on", "") or "") or timezone.localdate()
            services.alert_add_task(alert=alert, user=request.user, title=text, due_on=due)
        else:
            services.alert_acknowledge(alert=alert, user=request.user)
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect_next(request, "risk:alerts")


#: At most this many alerts are changed by one bulk action.
MAX_BULK_ALERTS = 200
#: What a bulk action on alerts does, as the confirmation names it.
BULK_ACTIONS = {
    "ack": gettext_lazy("Acknowledge"),
    "resolve": gettext_lazy("Resolve"),
    "dismiss": gettext_lazy("Dismiss"),
    "assign": gettext_lazy("Assign"),
    "snooze": gettext_lazy("Snooze"),
}


@login_required
@require_POST
def alert_bulk(request):
    """Acknowledge, resolve, dismiss or assign the ticked alerts: first a confirmation naming
    how many and which, then the change and a message with the count (and how many ticked
    were left alone). Only open alerts the user may act on (as on one alert: assigned to
    them, a decider, or theirs to change); an assignment only to someone the user may assign
    to (``assignable_users``) who sees the alert's client."""
    ids = ticked_ids(request, "alert", MAX_BULK_ALERTS)
    alerts = (
        Alert.objects.restrict(request.user, "view")
        .filter(pk__in=ids)
        .exclude(status__in=CLOSED_ALERT_STATUSES)
    )
    if not request.user.has_perm("risk.decide"):
        changeable = Alert.objects.restrict(request.user, "change").values("pk")
        alerts = alerts.filter(Q(assigned_to=request.user) | Q(pk__in=changeable))
    action = request.POST.get("action", "")
    assignee = None
    if action == "assign":
        assignee = bulk_assignee(request)
        if assignee is None:
            messages.warning(request, _("Choose someone you may assign the alerts to."))
            return redirect_next(request, "risk:alerts")
        alerts = alerts.filter(pk__in=Alert.objects.restrict(assignee, "view").values("pk"))
    days = None
    if action == "snooze":
        days = bulk_days(request)
        if not days or days > services.MAX_ALERT_SNOOZE_DAYS:
            messages.warning(
                request, services.MSG_ALERT_SNOOZE_DAYS % {"max": services.MAX_ALERT_SNOOZE_DAYS}
            )
            return redirect_next(request, "risk:alerts")
    alerts = list(alerts.select_related("customer", "assigned_to").order_by("-raised_at", "pk"))
    skipped = len(ids) - len(alerts)
    if not alerts or action not in BULK_ACTIONS:
        messages.warning(request, _("Tick the alerts and choose what to do first."))
        return redirect_next(request, "risk:alerts")
    text = request.POST.get("text", "")[:2000]
    if action in ("assign", "snooze") and request.POST.get("confirm") != "yes":
        rows = [(a.pk, f"{a.customer.name} · {a.rule_label} · {person(a.assigned_to)}")
                for a in alerts]  # fmt: skip
        return bulk_confirm(
            request, action=action, label=BULK_ACTIONS[action], url=reverse("risk:alert_bulk"),
            field="alert", rows=rows, skipped=skipped, cancel_url=reverse("risk:alerts"),
            assignee=assignee, days=days, alerts=alerts,
        )  # fmt: skip
    if request.POST.get("confirm") != "yes":
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = ""
        context = {"alerts": alerts, "action": action, "action_label": BULK_ACTIONS[action],
                   "text": text, "next": back, "skipped": skipped}  # fmt: skip
        return render(request, "risk/alert_bulk_confirm.html", context)
    try:
        if action == "assign":
            done = services.alert_assign_many(alerts=alerts, user=request.user, assignee=assignee)
        elif action == "snooze":
            done = services.alert_snooze_many(alerts=alerts, user=request.user, days=days)
        elif action == "ack":
            done = services.alert_acknowledge_many(alerts=alerts, user=request.user)
        else:
            done = services.alert_close_many(
                alerts=alerts, user=request.user, resolution=text, dismiss=action == "dismiss"
            )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        message = ngettext("%(n)d alert changed.", "%(n)d alerts changed.", done) % {"n": done}
        bulk_done(request, message, skipped=skipped)
    return redirect_next(request, "risk:alerts")


class ProposalListView(RestrictedListView):
    """Control proposals waiting for a decision, oldest first, a page at a time; filtered
    by client and grade, sorted by column, exported as seen."""

    queryset = ControlProposal.objects.filter(status=ProposalStatus.PENDING).select_related(
        "customer"
    )
    ordering = ("created_at", "id")
    filterset_class = ProposalFilterSet
    template_name = "risk/proposals.html"
    paginate_by = 25
    export_name = "proposals"
    export_title = gettext_lazy("Control proposals")
    export_columns = (
        (gettext_lazy("Client"), lambda p: p.customer.name),
        (gettext_lazy("From grade"), lambda p: p.from_grade),
        (gettext_lazy("Grade"), lambda p: p.to_grade),
        (gettext_lazy("Limit (× revenue)"), lambda p: p.controls.get("limit_revenue_multiple")),
        (gettext_lazy("Longest tenor (months)"), lambda p: p.controls.get("max_tenor_months")),
        (gettext_lazy("Spread (bp)"), lambda p: p.controls.get("pricing_spread_bp")),
        (gettext_lazy("Guarantee"), lambda p: security_label(p.controls.get("guarantee", ""))),
        (gettext_lazy("Review"), lambda p: frequency_label(p.controls.get("review_frequency", ""))),
        (gettext_lazy("Proposed"), lambda p: local_time(p.created_at)),
    )

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_decide=self.request.user.has_perm("risk.decide"),
                                        **kwargs)  # fmt: skip


@login_required
@require_POST
def proposal_decide(request, pk: int):
    if not request.user.has_perm("risk.decide"):
        raise PermissionDenied
    proposal = get_restricted_or_404(request.user, ControlProposal, "view", pk=pk)
    try:
        services.proposal_decide(
            proposal=proposal,
            user=request.user,
            approve=request.POST.get("decision") == "approve",
            note=request.POST.get("note", "")[:300],
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("risk:proposals")


class ReviewListView(RestrictedListView):
    """Scheduled reviews, soonest first, a page at a time; ``?show=overdue`` those past due."""

    queryset = Review.objects.filter(status=ReviewStatus.SCHEDULED).select_related(
        "customer", "customer__owner", "officer"
    )
    ordering = ("due_on", "id")
    filterset_class = ReviewFilterSet
    template_name = "risk/reviews.html"
    paginate_by = 25
    export_name = "reviews"
    export_title = gettext_lazy("Periodic reviews")
    export_columns = (
        (gettext_lazy("Due"), lambda r: r.due_on),
        (gettext_lazy("Client"), lambda r: r.customer.name),
        (gettext_lazy("Grade"), lambda r: r.grade),
        (gettext_lazy("Frequency"), lambda r: r.get_frequency_display()),
        (gettext_lazy("Account manager"), lambda r: person(r.customer.owner, "")),
        (gettext_lazy("Officer"), lambda r: person(r.officer, "")),
    )

    def export_applied(self):
        return [(_("Show"), _("Overdue"))] if self.request.GET.get("show") == "overdue" else []

    def get_queryset(self):
        from django.db.models import Prefetch

        from fincrm.financing.models import Facility

        qs = (
            super()
            .get_queryset()
            .prefetch_related(
                Prefetch(
                    "customer__facilities",
                    queryset=Facility.objects.filter(status="active").order_by("pk"),
                    to_attr="live_facilities",
                )
            )
        )
        if self.request.GET.get("show") == "overdue":
            qs = qs.filter(due_on__lt=timezone.localdate())
        return qs

    def get_context_data(self, **kwargs):
        from fincrm.financing.choices import GuaranteeType

        from .choices import EffectStatus

        user = self.request.user
        return super().get_context_data(
            officers=_review_officers(user),
            overdue=selectors.overdue_reviews(user=user).count(),
            decisions=ReviewDecision.choices,
            guarantees=GuaranteeType.choices,
            can_decide=user.has_perm("risk.decide"),
            pending_effects=Review.objects.restrict(user, "view")
            .filter(effect_status=EffectStatus.PENDING)
            .select_related("customer", "facility", "officer"),
            **kwargs,
        )


def _review_officers(user):
    """Whom ``user`` may give reviews to: risk officers among those they may assign to."""
    from fincrm.accounts.choices import Role
    from fincrm.accounts.selectors import assignable_users

    if not user.has_perm("risk.decide"):
        return assignable_users(user).none()
    return assignable_users(user).filter(role=Role.RISK_OFFICER)


#: At most this many reviews changed by one bulk action.
MAX_BULK_REVIEWS = 200


@login_required
@require_POST
def review_bulk(request):
    """Give the ticked scheduled reviews to a risk officer (those who decide them): first a
    confirmation naming how many and which, then the change (in each review's history) and
    a message with the count and the ticked rows left alone."""
    if not request.user.has_perm("risk.decide"):
        raise PermissionDenied
    ids = ticked_ids(request, "review", MAX_BULK_REVIEWS)
    raw = request.POST.get("assignee", "")
    officer = (
        _review_officers(request.user).filter(pk=int(raw)).first()
        if raw.isdigit() and len(raw) < 19
        else None
    )
    if officer is None:
        messages.warning(request, _("Choose the risk officer to give the reviews to."))
        return redirect_next(request, "risk:reviews")
    reviews = list(
        Review.objects.restrict(request.user, "view")
        .filter(pk__in=ids, status=ReviewStatus.SCHEDULED)
        .select_related("customer", "officer")
        .order_by("due_on", "pk")
    )
    skipped = len(ids) - len(reviews)
    if not reviews:
        messages.warning(request, _("Tick the reviews first."))
        return redirect_next(request, "risk:reviews")
    if request.POST.get("confirm") != "yes":
        rows = [(r.pk, f"{r.due_on:%Y-%m-%d} · {r.customer.name} · {r.grade} · {person(r.officer)}")
                for r in reviews]  # fmt: skip
        return bulk_confirm(
            request, action="assign", label=_("Assign"), url=reverse("risk:review_bulk"),
            field="review", rows=rows, skipped=skipped, cancel_url=reverse("risk:reviews"),
            assignee=officer, reviews=reviews,
        )  # fmt: skip
    done = services.review_assign_many(reviews=reviews, user=request.user, officer=officer)
    message = ngettext(
        "%(n)d review given to %(name)s.", "%(n)d reviews given to %(name)s.", done
    ) % {"n": done, "name": person(officer)}
    bulk_done(request, message, skipped=skipped)
    return redirect_next(request, "risk:reviews")


@login_required
@require_POST
def review_complete(request, pk: int):
    if not request.user.has_perm("risk.decide"):
        raise PermissionDenied
    review = get_restricted_or_404(request.user, Review, "view", pk=pk)
    form = ReviewEffectForm(request.POST, customer=review.customer)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[field].label}: {error}")
        return redirect("risk:reviews")
    try:
        services.review_complete(
            review=review,
            user=request.user,
            decision=request.POST.get("decision", ""),
            notes=request.POST.get("notes", "")[:2000],
            **form.cleaned_data,
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Review completed."))
    return redirect("risk:reviews")


@login_required
@require_POST
def review_effect(request, pk: int):
    """A second person approves (or declines) what a review decided for a facility."""
    if not request.user.has_perm("risk.decide"):
        raise PermissionDenied
    review = get_restricted_or_404(request.user, Review, "view", pk=pk)
    try:
        services.review_effect_decide(
            review=review, user=request.user, approve=request.POST.get("approve") == "1"
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Review decision approved and applied.")
                         if review.effect_status != "rejected" else _("Declined."))  # fmt: skip
    return redirect("risk:reviews")


@login_required
def portfolio(request):
    return render(
        request,
        "risk/portfolio.html",
        {
            "delinquency": selectors.portfolio_delinquency(user=request.user),
            "collections": selectors.portfolio_collections(user=request.user),
            "cover": portfolio_cover(user=request.user, as_of=timezone.localdate()),
            "scorecard": selectors.active_scorecard(),
        },
    )


@login_required
def scorecard(request):
    """The model report: AUC, KS, Gini on the hold-out, bins, stability; or the expert rule."""
    if request.method == "POST":
        if not request.user.has_perm("risk.decide"):
            raise PermissionDenied
        try:
            model = services.scorecard_retrain(user=request.user)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(
                request,
                (
                    _("Scorecard trained on %(n)s clients with %(d)s defaults.")
                    if model.is_active
                    else _(
                        "Challenger trained on %(n)s clients with %(d)s defaults: compare it "
                        "with the scorecard in use on the model governance page."
                    )
                )
                % {"n": model.n_train, "d": model.n_defaults},
            )
        return redirect_next(request, "risk:scorecard")
    return render(
        request,
        "risk/scorecard.html",
        {
            **selectors.scorecard_report(),
            "can_train": request.user.has_perm("risk.decide"),
            "can_govern": request.user.has_perm("risk.view_models"),
        },
    )


@login_required
def governance(request):
    """Model governance: champion and challenger side by side, calibration, stability,
    agreement with the expert card, switches and the next retraining. Risk officers,
    executives and admins read it; risk officers ask for and approve switches."""
    from fincrm.core.policy import policy_active, policy_config

    if not request.user.has_perm("risk.view_models"):
        raise PermissionDenied
    return render(
        request,
        "risk/models.html",
        {
            **selectors.model_governance(policy=policy_config(policy_active())),
            "can_switch": may_switch_model(request.user),
        },
    )


@login_required
@require_POST
def model_switch_request(request, pk: int):
    """A risk officer asks for the challenger ``pk`` to replace the scorecard in use."""
    challenger = get_restricted_or_404(request.user, ScorecardModel, "change", pk=pk)
    try:
        services.model_switch_request(
            challenger=challenger, user=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Switch requested: a second risk officer approves it."))
    return redirect("risk:models")


@login_required
@require_POST
def model_switch_decide(request, pk: int):
    """A second risk officer approves or refuses a pending switch."""
    switch = get_restricted_or_404(request.user, ModelSwitch, "change", pk=pk)
    approve = request.POST.get("decision") == "approve"
    try:
        services.model_switch_decide(
            switch=switch, user=request.user, approve=approve, note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(
            request,
            _("Switch approved: the challenger is now the scorecard in use.")
            if approve
            else _("Switch refused: the scorecard in use stays."),
        )
    return redirect("risk:models")


@login_required
@require_POST
def facility_classify(request, pk: int):
    """A risk officer sets (or clears) a facility's five-tier class, with a reason."""
    from fincrm.financing.models import Facility

    facility = get_restricted_or_404(request.user, Facility, "view", pk=pk)
    if not request.user.has_perm("risk.decide"):
        raise PermissionDenied
    try:
        services.facility_reclassify(
            facility=facility,
            user=request.user,
            loan_class=request.POST.get("loan_class", ""),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Classification saved."))
    return redirect(facility.customer.get_absolute_url() + "#facilities")
