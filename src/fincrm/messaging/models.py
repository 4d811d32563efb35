"""The outbox (one row per message to a client, whatever became of it) and each client's
consent per channel."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.core.masking import mask_middle
from fincrm.core.permissions import CustomerOwnedQuerySet

from .choices import (
    BlockReason,
    ConsentSource,
    ConsentStatus,
    MessageChannel,
    MessageKind,
    MessageStatus,
)


def mask_address(channel: str, address: str) -> str:
    """An address as logs and lists show it: ``138****5678``, ``w***@example.com``."""
    if not address:
        return ""
    if channel == MessageChannel.EMAIL and "@" in address:
        local, domain = address.rsplit("@", 1)
        return f"{local[:1]}***@{domain}"
    if channel == MessageChannel.SMS:
        return mask_middle(address, 3, 4)
    return mask_middle(address, 2, 2)


class Message(models.Model):
    """A message to a client (or one of its contacts) on one channel: queued by
    :func:`fincrm.messaging.services.message_send`, sent by a background task with retries,
    logged as an interaction once sent. ``reason`` says why it failed or was not sent."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=MessageChannel.choices)
    #: The mobile number, WeChat user id / openid or e-mail address it goes to (shown masked).
    address = models.CharField(_("address"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    text = models.TextField(_("text"))
    template = models.ForeignKey(
        "engagement.MessageTemplate",
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: The provider's template code (Alibaba Cloud / Tencent Cloud SMS, WeChat template
    #: messages) and the values of its variables, in the order the template uses them.
    provider_template = models.CharField(_("provider template code"), max_length=64, blank=True)
    template_params = models.JSONField(_("template values"), default=dict, blank=True)
    #: A file sent with an e-mail (a value-added report): the name of a file already in the
    #: storage, not a copy.
    attachment = models.FileField(_("attachment"), max_length=200, blank=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=MessageKind.choices, default=MessageKind.OTHER
    )
    marketing = models.BooleanField(_("marketing"), default=False)
    urgent = models.BooleanField(_("urgent"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    #: Why it failed (the gateway's own code and words) or why the rules kept it back.
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    provider_id = models.CharField(_("gateway message id"), max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    #: The moment the message was asked for (a daily job replaying a day: that day's clock).
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    #: Names what the message is for (``care:spring_festival:2027``): one message per client
    #: and key, so a job that runs twice sends nothing twice.
    source_key = models.CharField(_("source"), max_length=60, blank=True)
    task = models.ForeignKey(
        "engagement.Task",
        verbose_name=_("task"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    interaction = models.ForeignKey(
        "engagement.Interaction",
        verbose_name=_("interaction"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["customer", "channel", "created_at"]),
            models.Index(fields=["-created_at"], name="message_recent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "source_key"],
                condition=~models.Q(source_key=""),
                name="message_one_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.address_masked}"

    @property
    def address_masked(self) -> str:
        return mask_address(self.channel, self.address)

    @property
    def reason_display(self) -> str:
        """The rules' reason in the reader's language, or the gateway's own words."""
        if self.status == MessageStatus.BLOCKED and self.reason in BlockReason.values:
            return str(BlockReason(self.reason).label)
        return self.reason


class Consent(models.Model):
    """A client's word on one channel. No row: service messages may go (the relationship),
    an opt-out stops everything on that channel except urgent messages (collections,
    security), which a lender must still be able to send."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="consents",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=MessageChannel.choices)
    status = models.CharField(_("status"), max_length=10, choices=ConsentStatus.choices)
    source = models.CharField(_("source"), max_length=10, choices=ConsentSource.choices)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel"], name="one_consent_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.get_status_display()}"
