"""Campaigns: pick the audience and a template per channel, launch (each recipient on one
channel through the messaging rules, who was skipped and why counted), measure against the
control group."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from types import SimpleNamespace
from typing import cast

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
from fincrm.messaging.choices import BlockReason, MessageChannel, MessageKind, MessageStatus
from fincrm.messaging.protection import route
from fincrm.messaging.services import Outline, messages_send, refusals_by_channel

from .choices import CampaignStatus, Group
from .models import Campaign, CampaignChannel, Recipient

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
    if spec.get("programmes"):  # in a strategy's programme: a task of it, not cancelled
        qs = qs.filter(pk__in=programme_members(spec["programmes"]))
    if spec.get("customers"):
        qs = qs.filter(pk__in=[int(pk) for pk in spec["customers"]])
    rows = qs.values_list("pk", "classification__segments").distinct().order_by("pk")
    wanted = set(spec.get("segments") or ())
    return sorted({pk for pk, segments in rows if not wanted or wanted & set(segments or ())})


def programme_members(codes):
    """The client ids of the programmes ``codes`` (``policy.strategies.programmes``): those
    the nightly run gave a task of one of them that was not cancelled."""
    from django.db.models import Q

    from fincrm.analytics.strategy import KEY_PREFIX
    from fincrm.engagement.choices import TaskStatus
    from fincrm.engagement.models import Task

    enrolled = Q(pk__in=[])
    for code in codes:
        enrolled |= Q(source_key__startswith=f"{KEY_PREFIX}{code}:")
    tasks = Task.objects.filter(enrolled).exclude(status=TaskStatus.CANCELLED)
    return tasks.values("customer_id")


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


MSG_NO_CHANNEL = _("Choose at least one channel.")
MSG_CHANNEL_TWICE = _("Each channel once.")
MSG_B_EVERY_CHANNEL = _(
    "Variant B needs its text on every channel of the campaign, or on none (each client's "
    "variant is chosen before its channel)."
)
MSG_CHANNEL_NO_GATEWAY = _("No gateway is configured for %(channel)s.")


def _text_of(entry: dict, variant: str) -> str:
    text = (entry.get(f"text{variant}") or "").strip()
    template = entry.get(f"template{variant}")
    return text or (template.body if template is not None else "")


def channels_check(*, entries: list[dict], link: str) -> None:
    """Raise ``ValidationError`` with every reason a campaign's channels do not hold: none,
    one twice, variant B on some channels only, the link and its placeholder apart, a
    channel without a gateway (an e-mail always has Django's)."""
    from fincrm.messaging.gateways import gateway_url

    errors: list[object] = []
    codes = [e["channel"] for e in entries]
    if not entries:
        errors.append(MSG_NO_CHANNEL)
    if len(set(codes)) < len(codes):
        errors.append(MSG_CHANNEL_TWICE)
    with_b = [bool(_text_of(e, "_b")) for e in entries]
    if any(with_b) and not all(with_b):
        errors.append(MSG_B_EVERY_CHANNEL)
    texts = [t for e in entries for t in (_text_of(e, ""), _text_of(e, "_b")) if t]
    uses = [LINK in t for t in texts]
    if link and not all(uses):
        errors.append(MSG_LINK_UNUSED)
    elif not link and any(uses):
        errors.append(MSG_LINK_MISSING)
    for code in dict.fromkeys(codes):
        if code != MessageChannel.EMAIL and not gateway_url(code):
            errors.append(str(MSG_CHANNEL_NO_GATEWAY) % {"channel": MessageChannel(code).label})
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_create(
    *,
    name: str,
    created_by,
    channels: list[dict],
    audience: dict | None = None,
    link: str = "",
    control_share=0,
    conversion_days: int = 30,
) -> Campaign:
    """A draft campaign and its channels, in the order given (``channels``: dicts of
    ``channel``, ``template``, ``template_b``, ``subject``, ``text``, ``text_b``; an empty
    text takes its template's). Raises ``ValidationError`` (:func:`channels_check`, the
    fields' own checks)."""
    channels_check(entries=channels, link=link)
    if link and not link_allowed(link):
        raise ValidationError(MSG_LINK_NOT_ALLOWED)
    campaign = Campaign(name=name, created_by=created_by, audience=audience or {}, link=link,
                        control_share=control_share, conversion_days=conversion_days)  # fmt: skip
    campaign.full_clean()
    campaign.save()
    for position, entry in enumerate(channels, start=1):
        row = CampaignChannel(
            campaign=campaign, channel=entry["channel"], position=position,
            template=entry.get("template"), template_b=entry.get("template_b"),
            subject=entry.get("subject") or "", text=_text_of(entry, ""),
            text_b=_text_of(entry, "_b"),
        )  # fmt: skip
        row.full_clean()
        row.save()
    return campaign


def _manager_name(customer) -> str:
    owner = customer.owner
    if owner is None:
        return ""
    return f"{owner.last_name}{owner.first_name}" or owner.username


def _fill(body: str, *, campaign_id: int | None, customer, link: bool) -> str:
    from fincrm.engagement.care import fill

    url = tracked_url(campaign_id, customer.pk) if link and campaign_id else LINK
    return fill(body, occasion="", language="zh-hans", client=customer.name,
                manager=_manager_name(customer), link=url)  # fmt: skip


def preferred_channels(ids: list[int]) -> dict[int, str]:
    """Each client's preferred channel: that of its key contact (the first contact when none
    is key), where the client records it (``customers.Contact.preferred_channel``); a client
    without contacts has none."""
    from fincrm.customers.models import Contact

    found: dict[int, str] = {}
    for start in range(0, len(ids), 5_000):
        rows = (
            Contact.objects.filter(customer_id__in=ids[start : start + 5_000])
            .order_by("customer_id", "-is_key", "pk")
            .values_list("customer_id", "preferred_channel")
        )
        for pk, channel in rows:
            found.setdefault(pk, channel)
    return found


def campaign_routes(*, channels: list[str], customers: list, now: datetime | None = None
                    ) -> dict[int, tuple[str, str | None]]:  # fmt: skip
    """Each client's one channel among ``channels`` (in the campaign's order) and, when the
    rules allow none, the reason counted (``messaging.protection.route`` over the client's
    :func:`preferred_channels` and ``messaging.services.refusals_by_channel``, marketing
    rules)."""
    refusals = refusals_by_channel(customers=customers, channels=channels, marketing=True,
                                   now=now)  # fmt: skip
    preferred = preferred_channels(sorted(c.pk for c in customers))
    return {
        c.pk: route(
            preferred=preferred.get(c.pk, ""),
            order=channels,
            refusals=cast("Mapping[str, BlockReason | None]", refusals[c.pk]),
        )
        for c in customers
    }


def campaign_preview(*, entries: list, customer, campaign_id: int | None = None,
                     link: str = "") -> dict:  # fmt: skip
    """What one real client would get: the channel it would be reached on now (or why none)
    and each channel's text of each variant filled for it. ``entries`` are
    :class:`CampaignChannel` rows or the form's dicts."""
    rows = [e if isinstance(e, dict) else {"channel": e.channel, "text": e.text,
                                           "text_b": e.text_b, "subject": e.subject}
            for e in entries]  # fmt: skip
    codes = [r["channel"] for r in rows]
    channel, reason = campaign_routes(channels=codes, customers=[customer])[customer.pk]
    texts = []
    for row in rows:
        variants = [(Group.A, _text_of(row, ""))]
        if _text_of(row, "_b"):
            variants.append((Group.B, _text_of(row, "_b")))
        texts.append({
            "channel": row["channel"],
            "label": MessageChannel(row["channel"]).label,
            "chosen": row["channel"] == channel and reason is None,
            "variants": [(Group(g).label, _fill(t, campaign_id=campaign_id, customer=customer,
                                                link=bool(link))) for g, t in variants],
        })  # fmt: skip
    return {"channel": channel, "reason": reason, "channels": texts}


@transaction.atomic
def campaign_launch(*, campaign: Campaign, user, now: datetime | None = None) -> dict:
    """Send the campaign: the control group gets nothing; each other client its variant on
    one channel — its preferred one when the campaign has it and the rules allow it, else
    the next in the campaign's order that they allow (:func:`campaign_routes`) — through
    ``messages_send`` (marketing: the rules skip clients who opted out, are in collections,
    have an open complaint or reached the frequency cap; a client no channel may reach gets
    a blocked message with the reason). Idempotent. Returns the counts: audience, control,
    queued and skipped by reason, and per channel."""
    now = now or timezone.now()
    entries = list(campaign.channels.select_related("template", "template_b"))
    by_code = {e.channel: e for e in entries}
    ids = campaign_audience(campaign=campaign, user=user)
    already = set(Recipient.objects.filter(campaign=campaign).values_list("customer_id", flat=True))
    customers = Customer.objects.select_related("owner").in_bulk(
        [pk for pk in ids if pk not in already]
    )
    ab = any(e.has_b for e in entries)
    share = float(campaign.control_share)
    groups = {pk: group_of(campaign.pk, pk, control_share=share, ab=ab) for pk in customers}
    routes = campaign_routes(channels=list(by_code), customers=list(customers.values()), now=now)
    outlines: dict[str, list[Outline]] = {code: [] for code in by_code}
    for pk in sorted(customers):
        if groups[pk] == Group.CONTROL:
            continue
        entry, group = by_code[routes[pk][0]], groups[pk]
        text = _fill(entry.body(group), campaign_id=campaign.pk, customer=customers[pk],
                     link=bool(campaign.link))  # fmt: skip
        outlines[entry.channel].append(
            Outline(customer=customers[pk], text=text, subject=entry.subject or campaign.name,
                    template=entry.template_for(group), source_key=f"campaign:{campaign.pk}")
        )  # fmt: skip
    message_of = {}
    for code, batch in outlines.items():
        if not batch:
            continue
        sent = messages_send(outlines=batch, channel=code, kind=MessageKind.MARKETING,
                             marketing=True, created_by=user, now=now)  # fmt: skip
        for outline, message in zip(batch, sent, strict=True):
            message_of[outline.customer.pk] = message
    Recipient.objects.bulk_create(
        [Recipient(campaign=campaign, customer_id=pk, group=groups[pk], channel=routes[pk][0],
                   message=message_of.get(pk)) for pk in sorted(customers)],
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
    queued = Counter(
        recipients.exclude(group=Group.CONTROL)
        .exclude(message__status=MessageStatus.BLOCKED)
        .values_list("channel", flat=True)
    )
    return {
        "audience": recipients.count(),
        "control": recipients.filter(group=Group.CONTROL).count(),
        "queued": sum(queued.values()),
        "skipped": dict(skipped),
        #: Messages that went out (not kept back) per channel.
        "by_channel": dict(queued),
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


def campaign_channel_results(*, campaign: Campaign) -> list[dict]:
    """Per channel, for the variants together and for each group: clients, sent, delivered,
    failed, skipped, clicked, replied, applications and the click and reply rates
    (:func:`fincrm.analytics.campaigns.channel_results`), channels in the campaign's order."""
    from fincrm.analytics.campaigns import channel_results

    from .selectors import campaign_recipients_frame

    order = list(campaign.channels.values_list("channel", flat=True))
    return channel_results(campaign_recipients_frame(campaign=campaign), order).to_dicts()
