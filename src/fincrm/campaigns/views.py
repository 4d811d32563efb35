"""Campaign pages: the user's campaigns, a new one, its launch and results."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fincrm.accounts.choices import Role
from fincrm.core.permissions import get_restricted_or_404
from fincrm.messaging.choices import BlockReason

from . import selectors, services
from .choices import CampaignStatus, Group
from .forms import CampaignForm, ScheduleForm
from .models import Campaign

#: Who may run campaigns: the audience is always what they may act on.
ROLES = (Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.ADMIN)


def _may_run(user) -> None:
    if not (user.is_superuser or user.role in ROLES):
        raise PermissionDenied


def _points(row: dict) -> str:
    """A variant's uplift in percentage points, signed (``+2.5``)."""
    uplift = row.get("application_uplift")
    return "" if uplift is None else f"{uplift * 100:+.1f}"


@login_required
def campaign_list(request):
    _may_run(request.user)
    return render(
        request,
        "campaigns/campaign_list.html",
        {"campaigns": selectors.campaign_list(user=request.user)},
    )


@login_required
def campaign_new(request):
    _may_run(request.user)
    form = CampaignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        campaign = form.save(commit=False)
        campaign.audience = form.audience()
        campaign.created_by = request.user
        campaign.full_clean()
        campaign.save()
        return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form})


@login_required
def campaign_detail(request, pk: int):
    _may_run(request.user)
    campaign = get_restricted_or_404(request.user, Campaign, "view", pk=pk)
    summary = services.campaign_summary(campaign=campaign)
    skipped = [
        (str(BlockReason(code).label) if code in BlockReason.values else code, n)
        for code, n in summary["skipped"].items()
    ]
    return render(
        request,
        "campaigns/campaign_detail.html",
        {
            "campaign": campaign,
            "audience_size": len(services.campaign_audience(campaign=campaign, user=request.user)),
            "summary": summary,
            "skipped": skipped,
            "results": [
                {**row, "label": Group(row["group"]).label, "uplift_points": _points(row)}
                for row in services.campaign_results(campaign=campaign)
            ],
            "window": selectors.campaign_window(campaign),
            "schedule_form": ScheduleForm(),
        },
    )


@login_required
@require_POST
def campaign_launch(request, pk: int):
    _may_run(request.user)
    campaign = get_restricted_or_404(request.user, Campaign, "change", pk=pk)
    form = ScheduleForm(request.POST)
    if form.is_valid() and form.cleaned_data["when"]:
        services.campaign_schedule(
            campaign=campaign, user=request.user, when=form.cleaned_data["when"]
        )
        messages.success(request, _("Campaign scheduled."))
    elif campaign.status != CampaignStatus.LAUNCHED:
        summary = services.campaign_launch(campaign=campaign, user=request.user)
        messages.success(
            request,
            _("Campaign launched: %(queued)s messages queued.") % {"queued": summary["queued"]},
        )
    return redirect("campaigns:detail", pk=campaign.pk)


def click(request, token: str):
    """A recipient's tracked link: records the click, then redirects to the campaign's
    target (a page of this site or an allowed host, never one taken from the URL). No
    login: the signed token is the credential; a tampered one is a 404."""
    target = services.recipient_click(token=token)
    if target is None:
        raise Http404
    return HttpResponseRedirect(target)
