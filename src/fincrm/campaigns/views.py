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
from fincrm.analytics.campaigns import ALL
from fincrm.core.permissions import get_restricted_or_404
from fincrm.messaging.choices import BlockReason, MessageChannel

from . import selectors, services
from .choices import CampaignStatus, Group
from .forms import CampaignForms, ScheduleForm
from .models import Campaign

#: Who may run campaigns: the audience is always what they may act on.
ROLES = (Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.ADMIN)


def may_run(user) -> bool:
    return bool(user.is_superuser or user.role in ROLES)


def _may_run(user) -> None:
    if not may_run(user):
        raise PermissionDenied


def _channel_label(code: str) -> str:
    """A channel's name; a dash for a recipient recorded without one."""
    return str(MessageChannel(code).label) if code in MessageChannel.values else "—"


def _group_label(group: str) -> str:
    return _("All variants") if group == ALL else str(Group(group).label)


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
        {"campaigns": selectors.campaign_list(user=request.user).prefetch_related("channels")},
    )


def _preview(request, entries, client_id, *, campaign_id=None, link="") -> dict | None:
    """Each channel's text for a real client the user may see (404 otherwise)."""
    from fincrm.customers.selectors import customer_get

    if not client_id or not entries:
        return None
    customer = customer_get(user=request.user, pk=int(client_id))
    found = services.campaign_preview(entries=entries, customer=customer,
                                      campaign_id=campaign_id, link=link)  # fmt: skip
    reason = found["reason"]
    return {**found, "client": customer,
            "reason_label": BlockReason(reason).label if reason else ""}  # fmt: skip


@login_required
def campaign_new(request):
    """A new campaign: its audience, its channels (a template and the text of each variant
    per channel, in the order they are tried) and, with "Preview", what a real client would
    get on each channel and which channel would reach it."""
    _may_run(request.user)
    forms = CampaignForms(request.POST or None, user=request.user)
    preview = None
    if request.method == "POST" and forms.is_valid():
        data = forms.campaign.cleaned_data
        if "preview" in request.POST:
            preview = _preview(request, forms.entries(), data.get("preview_client"),
                               link=data["link"])  # fmt: skip
        else:
            campaign = services.campaign_create(
                name=data["name"], created_by=request.user, channels=forms.entries(),
                audience=forms.campaign.audience(), link=data["link"],
                control_share=data["control_share"], conversion_days=data["conversion_days"],
            )  # fmt: skip
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"forms": forms, "preview": preview})


@login_required
def campaign_detail(request, pk: int):
    _may_run(request.user)
    campaign = get_restricted_or_404(request.user, Campaign, "view", pk=pk)
    channels = list(campaign.channels.select_related("template", "template_b"))
    summary = services.campaign_summary(campaign=campaign)
    skipped = [
        (str(BlockReason(code).label) if code in BlockReason.values else code, n)
        for code, n in summary["skipped"].items()
    ]
    client_id = request.GET.get("client", "")
    return render(
        request,
        "campaigns/campaign_detail.html",
        {
            "campaign": campaign,
            "channels": channels,
            "audience_size": len(services.campaign_audience(campaign=campaign, user=request.user)),
            "summary": summary,
            "skipped": skipped,
            "results": [
                {**row, "label": Group(row["group"]).label, "uplift_points": _points(row)}
                for row in services.campaign_results(campaign=campaign)
            ],
            "by_channel": [
                {
                    **row,
                    "label": _group_label(row["group"]),
                    "channel_label": _channel_label(row["channel"]),
                }
                for row in services.campaign_channel_results(campaign=campaign)
            ],
            "window": selectors.campaign_window(campaign),
            "schedule_form": ScheduleForm(),
            "preview": _preview(
                request,
                channels,
                client_id if client_id.isdigit() else None,
                campaign_id=campaign.pk,
                link=campaign.link,
            ),
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
