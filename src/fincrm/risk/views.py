from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.core.redirects import redirect_next
from fincrm.core.views import flash_errors

from . import selectors, services
from .choices import ReviewDecision
from .models import Alert, ControlProposal, Review


@login_required
def alerts(request):
    return render(
        request,
        "risk/alerts.html",
        {"alerts": selectors.alert_inbox(user=request.user)},
    )


@login_required
@require_POST
def alert_action(request, pk: int):
    alert = get_object_or_404(Alert.objects.restrict(request.user, "view"), pk=pk)
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


@login_required
def proposals(request):
    return render(
        request,
        "risk/proposals.html",
        {
            "proposals": selectors.proposal_list(user=request.user)[:200],
            "can_decide": request.user.has_perm("risk.decide"),
        },
    )


@login_required
@require_POST
def proposal_decide(request, pk: int):
    if not request.user.has_perm("risk.decide"):
        raise PermissionDenied
    proposal = get_object_or_404(ControlProposal.objects.restrict(request.user, "view"), pk=pk)
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


@login_required
def reviews(request):
    qs = selectors.review_list(user=request.user)
    if request.GET.get("show") == "overdue":
        qs = selectors.overdue_reviews(user=request.user)
    return render(
        request,
        "risk/reviews.html",
        {
            "reviews": qs[:200],
            "overdue": selectors.overdue_reviews(user=request.user).count(),
            "decisions": ReviewDecision.choices,
            "can_decide": request.user.has_perm("risk.decide"),
        },
    )


@login_required
@require_POST
def review_complete(request, pk: int):
    if not request.user.has_perm("risk.decide"):
        raise PermissionDenied
    review = get_object_or_404(Review.objects.restrict(request.user, "view"), pk=pk)
    try:
        services.review_complete(
            review=review,
            user=request.user,
            decision=request.POST.get("decision", ""),
            notes=request.POST.get("notes", "")[:2000],
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Review completed."))
    return redirect("risk:reviews")


@login_required
def portfolio(request):
    return render(
        request,
        "risk/portfolio.html",
        {
            "delinquency": selectors.portfolio_delinquency(user=request.user),
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
                _("Scorecard trained on %(n)s clients with %(d)s defaults.")
                % {"n": model.n_train, "d": model.n_defaults},
            )
        return redirect("risk:scorecard")
    return render(
        request,
        "risk/scorecard.html",
        {**selectors.scorecard_report(), "can_train": request.user.has_perm("risk.decide")},
    )


@login_required
@require_POST
def facility_classify(request, pk: int):
    """A risk officer sets (or clears) a facility's five-tier class, with a reason."""
    from fincrm.financing.models import Facility

    facility = get_object_or_404(Facility.objects.restrict(request.user, "view"), pk=pk)
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
