"""Campaigns: pick the audience, launch (each recipient through the messaging rules, who was
skipped and why counted), measure against the control group."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime
from types import SimpleNamespace

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from fincrm.customers.models import Customer
from fincrm.messaging.choices import MessageKind, MessageStatus
from fincrm.messaging.services import Outline, messages_send

from .choices import CampaignStatus, Group
from .models import Campaign, Recipient

CLICK_SALT = "fincrm.campaigns.click"
#: The placeholder of the tracked link in a campaign's text.
LINK = "{link}"
MSG_LINK_NOT_ALLOWED = _(
    "The link must be a page of this site or an address on an allowed host (FINCRM_LINK_HOSTS)."
)
MSG_LINK_UNUSED = _("Put {link} in the text where the tracked link goes.")
MSG_LINK_MISSING = _("The text has {link}: give the link target.")
MSG_BAD_SAVED_VIEW = _("The saved view's filters are no longer valid.")


def campaign_audience(*, campaign: Campaign, user) -> list[int]:
    """The ids of the clients the campaign reaches, among those ``user`` may act on (a
    manager's campaign never reaches another manager's clients)."""
    return audience_ids(spec=campaign.audience or {}, user=user)


def audience_ids(*, spec: dict, user) -> list[int]:
    """The ids of the clients an audience ``spec`` picks (``Campaign.audience``'s keys: tiers,
    lifecycles, segments, products, customers, and ``saved_view``: the filters of a saved view
    of the client list), among those ``user`` may act on; an event's invitations pick theirs
    the same way."""
    qs = Customer.objects.restrict(user, "change")
    if spec.get("saved_view"):
        qs = saved_view_clients(query=spec["saved_view"].get("query", ""), user=user, queryset=qs)
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


def saved_view_clients(*, query: str, user, queryset):
    """The clients of ``queryset`` that a saved view of the client list shows (its query
    string through the list's own filterset, searching as ``user``). Raises
    ``ValidationError`` when the filters no longer hold (a choice since removed)."""
    from fincrm.customers.filtersets import CustomerFilterSet

    filterset = CustomerFilterSet(QueryDict(query), queryset=queryset,
                                  request=SimpleNamespace(user=user))  # fmt: skip
    if not filterset.is_valid():
        raise ValidationError(MSG_BAD_SAVED_VIEW)
    return filterset.qs.order_by()


def link_allowed(url: str) -> bool:
    """A link target a tracked link may redirect to: a path on this site, or an http(s)
    address on this site's host or a host of ``FINCRM_LINK_HOSTS`` (no open redirect)."""
    from urllib.parse import urlsplit

    url = (url or "").strip()
    if not url:
        return False
    hosts = {urlsplit(settings.FINCRM_BASE_URL).netloc, *settings.FINCRM_LINK_HOSTS}
    hosts.discard("")
    return url_has_allowed_host_and_scheme(url, allowed_hosts=hosts) and (
        url.startswith("/") or url.lower().startswith(("http://", "https://"))
    )


def click_path(campaign_id: int, customer_id: int) -> str:
    """The path of a recipient's own link: a signed token naming campaign and client
    (nothing to guess, nothing to change), which records the click and redirects to the
    campaign's target."""
    token = signing.Signer(salt=CLICK_SALT).sign(f"{campaign_id}.{customer_id}")
    return reverse("campaigns:click", args=[token])


def tracked_url(campaign_id: int, customer_id: int) -> str:
    """:func:`click_path` on this site's address, for a message."""
    return settings.FINCRM_BASE_URL.rstrip("/") + click_path(campaign_id, customer_id)


def click_token_read(token: str) -> tuple[int, int] | None:
    """(campaign, client) a tracked link names, or None when it was tampered with."""
    try:
        value = signing.Signer(salt=CLICK_SALT).unsign(token)
    except signing.BadSignature:
        return None
    campaign_id, _sep, customer_id = value.partition(".")
    if not (campaign_id.isdigit() and customer_id.isdigit()):
        return None
    return int(campaign_id), int(customer_id)


def recipient_click(*, token: str, now: datetime | None = None) -> str | None:
    """Record a click on a tracked link and return where it leads (the campaign's target if
    it is still allowed, else this site's home); None for a link that was tampered with or
    names no recipient."""
    found = click_token_read(token)
    if found is None:
        return None
    recipient = (
        Recipient.objects.filter(campaign_id=found[0], customer_id=found[1])
        .select_related("campaign")
        .first()
    )
    if recipient is None:
        return None
    now = now or timezone.now()
    Recipient.objects.filter(pk=recipient.pk).update(clicks=F("clicks") + 1)
    Recipient.objects.filter(pk=recipient.pk, clicked_at__isnull=True).update(clicked_at=now)
    target = recipient.campaign.link
    return target if link_allowed(target) else "/"


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
        link = tracked_url(campaign.pk, pk) if campaign.link else LINK
        text = fill(body, occasion="", language="zh-hans", client=customer.name,
                    manager=manager, link=link)  # fmt: skip
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


def campaigns_launch_due(*, now: datetime | None = None) -> int:
    """Launch every scheduled campaign whose time has come, as its author (``fincrm daily``
    sweeps them up should a worker's task be lost). Returns how many were launched."""
    now = now or timezone.now()
    due = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, scheduled_for__lte=now)
    launched = 0
    for campaign in due.select_related("created_by").order_by("scheduled_for", "pk"):
        campaign_launch(campaign=campaign, user=campaign.created_by, now=now)
        launched += 1
    return launched


def campaign_results(*, campaign: Campaign) -> list[dict]:
    """Per group (variant A, B, the control group): clients, sent, delivered, failed,
    skipped, clicked, replied and applications started within the conversion window after
    the launch, the rates, and each variant's uplift against the control group
    (:func:`fincrm.analytics.campaigns.campaign_results`)."""
    from fincrm.analytics.campaigns import campaign_results as results

    from .selectors import campaign_recipients_frame

    return results(campaign_recipients_frame(campaign=campaign)).to_dicts()
