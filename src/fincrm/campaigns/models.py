"""A campaign: a marketing message to an audience of clients on one or more channels (a
template per channel, each client reached on one of them), with an optional second variant
(A/B) and a held-out control group its results are measured against."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fincrm.core.permissions import CustomerOwnedQuerySet, RestrictedQuerySet
from fincrm.messaging.choices import MessageChannel

from .choices import CampaignStatus, Group


class CampaignQuerySet(RestrictedQuerySet):
    """A campaign belongs to the user who made it: a manager sees and runs their own, a
    team lead their team's, an administrator all (``fincrm.core.permissions``)."""

    owner_field = "created_by"
    team_field = "created_by__team"


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=120)
    #: The audience: ``{"tiers": [...], "lifecycles": [...], "segments": [...],
    #: "products": [product codes held], "customers": [ids of an uploaded list]}``; each key
    #: narrows it, an empty one does not.
    audience = models.JSONField(_("audience"), default=dict, blank=True)
    #: Where the tracked link ``{link}`` in the text leads (a path on this site or an
    #: address on an allowed host); each recipient gets a signed link of their own.
    link = models.CharField(_("link target"), max_length=500, blank=True)
    control_share = models.DecimalField(
        _("control group share"),
        max_digits=3,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(0.5)],
    )
    #: Applications started within this many days count as the campaign's conversions.
    conversion_days = models.PositiveSmallIntegerField(_("conversion window (days)"), default=30)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = CampaignQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class CampaignChannel(models.Model):
    """One channel of a campaign: its place in the fallback order and its message — the
    template it uses (the provider's template code) and the text of each variant. A client
    is reached on one channel only (``campaigns.services.campaign_launch``).

    A/B is a variant of the whole campaign, not of a channel: a client's group is fixed before
    its channel is chosen, so variant B has its text (and template) on every channel and the
    two groups meet the same channel mix."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="channels")
    channel = models.CharField(_("channel"), max_length=10, choices=MessageChannel.choices)
    #: 1 is tried first (after the client's preferred channel, when it is one of these).
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    template = models.ForeignKey(
        "engagement.MessageTemplate",
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    template_b = models.ForeignKey(
        "engagement.MessageTemplate",
        verbose_name=_("template of variant B"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    #: Placeholders: ``{client}``, ``{manager}`` and ``{link}``.
    text = models.TextField(_("text"))
    text_b = models.TextField(_("text of variant B"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("campaign channel")
        verbose_name_plural = _("campaign channels")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "channel"], name="one_entry_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.channel}"

    @property
    def has_b(self) -> bool:
        return bool(self.text_b.strip())

    def body(self, group: str) -> str:
        """The text a client of ``group`` gets on this channel."""
        return self.text_b if group == Group.B and self.has_b else self.text

    def template_for(self, group: str):
        """The template (provider template code) of ``group`` on this channel."""
        return (self.template_b or self.template) if group == Group.B else self.template


class Recipient(models.Model):
    """One client of a launched campaign: its group, and the message (none for the control
    group; a blocked one carries why the rules kept it back)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("client"), on_delete=models.CASCADE, related_name="+"
    )
    group = models.CharField(_("group"), max_length=8, choices=Group.choices)
    #: The one channel the client was reached on (for the control group: would have been);
    #: when the rules allowed none, the channel whose refusal is counted.
    channel = models.CharField(
        _("channel"), max_length=10, choices=MessageChannel.choices, blank=True
    )
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The first and the number of clicks on the recipient's tracked link.
    clicked_at = models.DateTimeField(_("first click"), null=True, blank=True)
    clicks = models.PositiveIntegerField(_("clicks"), default=0)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="one_recipient_each")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.customer_id} {self.group}"
