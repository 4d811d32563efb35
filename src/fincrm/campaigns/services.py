"""Campaigns: pick the audience, launch (each recipient through the messaging rules, who was
skipped and why counted), measure against the control group."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from fincrm.customers.models import Customer
from fincrm.messaging.choices import MessageKind, MessageStatus
from fincrm.messaging.services import Outline, messages_send

from .choices import CampaignStatus, Group
from .models import Campaign, Recipient


def campaign_audience(*, campaign: Campaign, user) -> list[int]:
    """The ids of the clients the campaign reaches, among those ``user`` may act on (a
    manager's campaign never reaches another manager's clients)."""
    return audience_ids(spec=campaign.audience or {}, user=user)


def audience_ids(*, spec: dict, user) -> list[int]:
    """The ids of the clients an audience ``spec`` picks (``Campaign.audience``'s keys: tiers,
    lifecycles, segments, products, customers), among those ``user`` may act on; an event's
    invitations pick theirs the same way."""
    qs = Customer.objects.restrict(user, "change")
    if spec.get("tiers"):
        qs = qs.filter(classification__tier__in=spec["tiers"])
    if spec.get("lifecycles"):
        qs = qs.filter(classification__lifecycle__in=spec["lifecycles"])
    if spec.get("products"):
        qs = qs.filter(facilities__product__code__in=spec["products"])
    if spec.get("customers"):
        qs = qs.filter(pk__in=[int(pk) for pk in spec["customers"]])
    rows = qs.values_list("pk", "classification__segments").distinct().order_by("pk")
    wanted = set(spec.get("segments") or ())
    return sorted({pk for pk, segments in rows if not wanted or wanted & set(segments or ())})


def group_of(campaign_id: int, customer_id: int, *, control_share: float, ab: bool) -> str:
    """A client's group, the same on every launch: a hash of campaign and client spread
    evenly over 0…9999; the lowest ``control_share`` are the control group, the rest split
    in two halves when there is a variant B."""
    digest = hashlib.sha256(f"{campaign_id}:{customer_id}".encode()).digest()
    bucket = int.from_bytes(digest[:4], "big") % 10_000
    if bucket < control_share * 10_000:
        return Group.CONTROL
    return Group.B if ab and bucket % 2 else Group.A


@transaction.atomic
def campaign_launch(*, campaign: Campaign, user, now: datetime | None = None) -> dict:
    """Send the campaign: the control group gets nothing, each other client its variant
    through ``message_send`` (marketing: the rules skip clients who opted out, are in
    collections, have an open complaint or reached the frequency cap). Idempotent. Returns
    the counts: audience, control, queued and skipped by reason."""
    from fincrm.engagement.care import fill

    now = now or timezone.now()
    ids = campaign_audience(campaign=campaign, user=user)
    already = set(Recipient.objects.filter(campaign=campaign).values_list("customer_id", flat=True))
    customers = Customer.objects.select_related("owner").in_bulk(
        [pk for pk in ids if pk not in already]
    )
    ab = bool(campaign.text_b.strip())
    share = float(campaign.control_share)
    groups = {pk: group_of(campaign.pk, pk, control_share=share, ab=ab) for pk in customers}
    outlines, treated = [], []
    for pk in sorted(customers):
        if groups[pk] == Group.CONTROL:
            continue
        customer, manager = customers[pk], ""
        if customer.owner is not None:
            owner = customer.owner
            manager = f"{owner.last_name}{owner.first_name}" or owner.username
        body = campaign.text_b if groups[pk] == Group.B else campaign.text
        text = fill(body, occasion="", language="zh-hans", client=customer.name, manager=manager)
        outlines.append(Outline(customer=customer, text=text,
                                subject=campaign.subject or campaign.name,
                                template=campaign.template,
                                source_key=f"campaign:{campaign.pk}"))  # fmt: skip
        treated.append(pk)
    sent = messages_send(outlines=outlines, channel=campaign.channel, kind=MessageKind.MARKETING,
                         marketing=True, created_by=user, now=now)  # fmt: skip
    message_of = dict(zip(treated, sent, strict=True))
    Recipient.objects.bulk_create(
        [Recipient(campaign=campaign, customer_id=pk, group=groups[pk], message=message_of.get(pk))
         for pk in sorted(customers)],
        batch_size=1_000,
    )  # fmt: skip
    if campaign.status != CampaignStatus.LAUNCHED:
        campaign.status, campaign.launched_at = CampaignStatus.LAUNCHED, now
        campaign.save(update_fields=["status", "launched_at"])
    return campaign_summary(campaign=campaign)


def campaign_summary(*, campaign: Campaign) -> dict:
    recipients = Recipient.objects.filter(campaign=campaign)
    skipped = Counter(
        recipients.filter(message__status=MessageStatus.BLOCKED).values_list(
            "message__reason", flat=True
        )
    )
    return {
        "audience": recipients.count(),
        "control": recipients.filter(group=Group.CONTROL).count(),
        "queued": recipients.exclude(group=Group.CONTROL)
        .exclude(message__status=MessageStatus.BLOCKED)
        .count(),
        "skipped": dict(skipped),
    }


def campaign_schedule(*, campaign: Campaign, user, when: datetime) -> Campaign:
    """Launch later: a task runs at ``when`` (``fincrm db_worker``)."""
    from .tasks import launch_campaign

    campaign.status, campaign.scheduled_for = CampaignStatus.SCHEDULED, when
    campaign.save(update_fields=["status", "scheduled_for"])
    pk, user_pk = campaign.pk, user.pk
    transaction.on_commit(lambda: launch_campaign.using(run_after=when).enqueue(pk, user_pk))
    return campaign


def campaign_results(*, campaign: Campaign) -> list[dict]:
    """Per group: clients, sent, delivered, failed, skipped, and applications started within
    the conversion window after the launch (the rate against the control group's is the
    campaign's lift)."""
    from fincrm.financing.models import Application

    rows = []
    start = campaign.launched_at
    end = start + timedelta(days=campaign.conversion_days) if start else None
    for group in Group:
        members = Recipient.objects.filter(campaign=campaign, group=group)
        counts = members.aggregate(
            clients=Count("pk"),
            sent=Count("pk", filter=Q(message__status__in=("sent", "delivered"))),
            delivered=Count("pk", filter=Q(message__status="delivered")),
            failed=Count("pk", filter=Q(message__status="failed")),
            skipped=Count("pk", filter=Q(message__status="blocked")),
        )
        converted = 0
        if start and counts["clients"]:
            converted = (
                Application.objects.filter(
                    customer_id__in=members.values("customer_id"),
                    created_at__gte=start,
                    created_at__lt=end,
                )
                .values("customer_id")
                .distinct()
                .count()
            )
        counts["applications"] = converted
        counts["rate"] = converted / counts["clients"] if counts["clients"] else None
        rows.append({"group": group, **counts})
    return [r for r in rows if r["clients"]]
