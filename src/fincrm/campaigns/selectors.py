"""Reads of campaigns: the ones a user may see, and a campaign's recipients as the frame its
results are computed from (``fincrm.analytics.campaigns``)."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from fincrm.core.permissions import Action
from fincrm.messaging.choices import MessageChannel

from .models import Campaign, Recipient


def campaign_list(*, user, action: Action = "view"):
    """The campaigns ``user`` may see (their own, their team's for a lead, all for an
    administrator), newest first."""
    return Campaign.objects.restrict(user, action).select_related("created_by")


def campaign_window(campaign: Campaign) -> tuple[datetime, datetime] | None:
    """From the launch to the end of the conversion window (None before the launch)."""
    if campaign.launched_at is None:
        return None
    start = campaign.launched_at
    return start, start + timedelta(days=campaign.conversion_days)


def campaign_recipients_frame(*, campaign: Campaign) -> pl.DataFrame:
    """One row per recipient: ``group``, ``channel`` (the one it was reached on, would have
    been for the control group), the ``status`` of its message (null for the control
    group), ``clicked`` its tracked link, ``replied`` (an inbound message on its channel)
    and ``applied`` (an application started) within the window. Three queries."""
    from fincrm.engagement.choices import Direction
    from fincrm.engagement.models import Interaction
    from fincrm.financing.models import Application

    rows = list(
        Recipient.objects.filter(campaign=campaign)
        .order_by("customer_id")
        .values_list("customer_id", "group", "message__status", "clicked_at", "channel")
    )
    replied: set[tuple[int, str]] = set()
    applied: set[int] = set()
    window = campaign_window(campaign)
    if window is not None and rows:
        start, end = window
        members = Recipient.objects.filter(campaign=campaign).values("customer_id")
        replied = set(
            Interaction.objects.filter(
                customer_id__in=members,
                direction=Direction.INBOUND,
                channel__in=MessageChannel.values,
                occurred_at__gte=start,
                occurred_at__lt=end,
            ).values_list("customer_id", "channel")
        )
        applied = set(
            Application.objects.filter(
                customer_id__in=members, created_at__gte=start, created_at__lt=end
            ).values_list("customer_id", flat=True)
        )
    return pl.DataFrame(
        {
            "group": [r[1] for r in rows],
            "channel": [r[4] for r in rows],
            "status": [r[2] for r in rows],
            "clicked": [r[3] is not None for r in rows],
            "replied": [(r[0], r[4]) in replied for r in rows],
            "applied": [r[0] in applied for r in rows],
        },
        schema={
            "group": pl.String,
            "channel": pl.String,
            "status": pl.String,
            "clicked": pl.Boolean,
            "replied": pl.Boolean,
            "applied": pl.Boolean,
        },
    )


def portal_offers(*, customer, now: datetime | None = None, limit: int = 5) -> list[dict]:
    """The offers a client sees in its portal: the campaigns with a link whose message went
    to it (sent or delivered) and whose window is still open, newest first, each with the
    client's own tracked link (a path on this site, so the click is counted)."""
    from django.utils import timezone

    from .choices import CampaignStatus
    from .services import click_path

    now = now or timezone.now()
    rows = (
        Recipient.objects.filter(
            customer=customer,
            campaign__status=CampaignStatus.LAUNCHED,
            message__status__in=("sent", "delivered"),
        )
        .exclude(campaign__link="")
        .select_related("campaign")
        .order_by("-campaign__launched_at", "-pk")
    )
    offers = []
    for recipient in rows[: limit * 4]:
        campaign = recipient.campaign
        if now >= campaign.launched_at + timedelta(days=campaign.conversion_days):
            continue
        offers.append({"name": campaign.name, "launched_at": campaign.launched_at,
                       "url": click_path(campaign.pk, customer.pk)})  # fmt: skip
        if len(offers) == limit:
            break
    return offers
