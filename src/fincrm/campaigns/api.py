"""The campaigns API: the campaigns the caller may see with their channels (a template and the
texts of each variant per channel), a new one, and each one's results per group and per
channel. Registered by ``fincrm.api``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from fincrm.core.api_types import PathId
from fincrm.core.permissions import get_restricted_or_404
from fincrm.messaging.choices import MessageChannel

from . import selectors, services
from .choices import CampaignStatus, Group
from .models import Campaign

router = Router(tags=["campaigns"])
MSG_NO_TEMPLATE = _("No such template.")


class Page(LimitOffsetPagination):
    """``?limit=&offset=`` within bounds the database accepts."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=200)
        offset: int = Field(0, ge=0, le=10**9)


class ChannelIn(Schema):
    """One channel of a new campaign; the list's order is the order channels are tried."""

    channel: MessageChannel
    #: A message template (``engagement.MessageTemplate``); its text when ``text`` is empty,
    #: its provider template code in any case.
    template_id: int | None = None
    template_b_id: int | None = None
    subject: str = Field("", max_length=200)
    text: str = Field("", max_length=2000)
    text_b: str = Field("", max_length=2000)


class ChannelOut(Schema):
    channel: MessageChannel
    position: int
    template_id: int | None
    template_b_id: int | None
    subject: str
    text: str
    text_b: str


class AudienceIn(Schema):
    """``Campaign.audience``: each key given narrows the audience."""

    tiers: list[str] = Field(default_factory=list, max_length=20)
    lifecycles: list[str] = Field(default_factory=list, max_length=20)
    segments: list[str] = Field(default_factory=list, max_length=50)
    products: list[str] = Field(default_factory=list, max_length=50)
    #: Client ids of an uploaded list.
    customers: list[int] = Field(default_factory=list, max_length=100_000)


class CampaignIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    channels: list[ChannelIn] = Field(..., min_length=1, max_length=3)
    audience: AudienceIn = Field(default_factory=AudienceIn)
    link: str = Field("", max_length=500)
    control_share: Decimal = Field(Decimal(0), ge=0, le=Decimal("0.5"), decimal_places=2)
    conversion_days: int = Field(30, ge=1, le=365)


class CampaignOut(Schema):
    id: int
    name: str
    #: The first channel of the order (what a single-channel campaign had).
    channel: MessageChannel | None
    channels: list[ChannelOut]
    status: CampaignStatus
    control_share: float
    conversion_days: int
    scheduled_for: datetime | None
    launched_at: datetime | None
    created_by_id: int

    @staticmethod
    def resolve_channel(obj) -> str | None:
        first = next(iter(obj.channels.all()), None)
        return first.channel if first is not None else None


class ChannelResultOut(Schema):
    #: ``all`` (the variants together), ``a``, ``b`` or ``control``.
    group: str
    #: Empty for a recipient recorded without a channel.
    channel: str
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
    #: Per channel, for the variants together and for each group.
    channels: list[ChannelResultOut]


@router.get("/", response=list[CampaignOut])
@paginate(Page)
def campaign_list(request):
    return (
        selectors.campaign_list(user=request.user)
        .prefetch_related("channels")
        .order_by("-created_at", "-id")
    )


@router.get("/{int:campaign_id}", response=CampaignOut)
def campaign_detail(request, campaign_id: PathId):
    return get_restricted_or_404(request.user, Campaign, "view", pk=campaign_id)


def _template(pk: int | None, field: str):
    from fincrm.engagement.models import MessageTemplate

    if pk is None:
        return None
    template = MessageTemplate.objects.filter(pk=pk).first()
    if template is None:
        raise ValidationError({field: [str(MSG_NO_TEMPLATE)]})
    return template


@router.post("/", response={201: CampaignOut})
def campaign_create(request, payload: CampaignIn):
    """A draft campaign (launched from its page or scheduled); the audience is always
    within the clients the caller may act on."""
    from .views import may_run

    if not may_run(request.user):
        raise PermissionDenied
    entries = [
        {**item.dict(exclude={"template_id", "template_b_id"}),
         "template": _template(item.template_id, "template_id"),
         "template_b": _template(item.template_b_id, "template_b_id")}
        for item in payload.channels
    ]  # fmt: skip
    campaign = services.campaign_create(
        name=payload.name, created_by=request.user, channels=entries,
        audience={k: v for k, v in payload.audience.dict().items() if v}, link=payload.link.strip(),
        control_share=payload.control_share, conversion_days=payload.conversion_days,
    )  # fmt: skip
    return 201, campaign


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
        "channels": services.campaign_channel_results(campaign=campaign),
    }


def register(api) -> None:
    api.add_router("/campaigns", router)
