"""The campaigns API: the campaigns the caller may see and each one's results per group.
Registered by ``fincrm.api``."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from fincrm.api.types import PathId
from fincrm.core.permissions import get_restricted_or_404
from fincrm.messaging.choices import MessageChannel

from . import selectors, services
from .choices import CampaignStatus, Group
from .models import Campaign

router = Router(tags=["campaigns"])


class Page(LimitOffsetPagination):
    """``?limit=&offset=`` within bounds the database accepts."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=200)
        offset: int = Field(0, ge=0, le=10**9)


class CampaignOut(Schema):
    id: int
    name: str
    channel: MessageChannel
    status: CampaignStatus
    control_share: float
    conversion_days: int
    scheduled_for: datetime | None
    launched_at: datetime | None
    created_by_id: int


class GroupResultOut(Schema):
    group: Group
    clients: int
    sent: int
    delivered: int
    failed: int
    skipped: int
    clicked: int
    replied: int
    applications: int
    click_rate: float | None
    reply_rate: float | None
    application_rate: float | None
    #: A variant's rate less the control group's (0.02 = two percentage points).
    reply_uplift: float | None
    application_uplift: float | None
    application_p_value: float | None


class ResultsOut(Schema):
    campaign_id: int
    window_start: datetime | None
    window_end: datetime | None
    #: Clients the rules kept back, by reason code.
    skipped: dict[str, int]
    groups: list[GroupResultOut]


@router.get("/", response=list[CampaignOut])
@paginate(Page)
def campaign_list(request):
    return selectors.campaign_list(user=request.user).order_by("-created_at", "-id")


@router.get("/{int:campaign_id}/results", response=ResultsOut)
def campaign_results(request, campaign_id: PathId):
    campaign = get_restricted_or_404(request.user, Campaign, "view", pk=campaign_id)
    window = selectors.campaign_window(campaign)
    return {
        "campaign_id": campaign.pk,
        "window_start": window[0] if window else None,
        "window_end": window[1] if window else None,
        "skipped": services.campaign_summary(campaign=campaign)["skipped"],
        "groups": services.campaign_results(campaign=campaign),
    }


def register(api) -> None:
    api.add_router("/campaigns", router)
