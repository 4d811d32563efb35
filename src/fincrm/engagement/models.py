from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.core.permissions import CustomerOwnedQuerySet

from .choices import (
    Direction,
    InteractionChannel,
    NotificationKind,
    Outcome,
    Priority,
    TaskKind,
    TaskStatus,
)


class Interaction(models.Model):
    """One contact with a client on any channel: the raw material of the timeline."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="interactions",
        db_index=False,  # the (customer, -occurred_at) index below serves it
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=InteractionChannel.choices)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.OUTBOUND
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    subject = models.CharField(_("subject"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    attachment = models.FileField(_("attachment"), upload_to="interactions/%Y/%m/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"]),
            # "The latest contacts" of a manager's or a team's book: walked newest first and
            # stopped at a page, instead of sorting every interaction of the book (at 1M
            # clients, 125k of them one manager's: 575 ms -> 2.5 ms).
            models.Index(fields=["-occurred_at"], name="interaction_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.subject}"


#: Outcomes that count as having reached the client (loyalty, contact-lost warning).
SUCCESSFUL_OUTCOMES = (Outcome.REACHED, Outcome.INTERESTED, Outcome.INFO_SENT, Outcome.ISSUE_RAISED)


class Task(models.Model):
    """Something an account manager must do for a client, by a date.

    ``source_key`` names the rule that created a task automatically (e.g. ``plan:contact``):
    a client has at most one *open* task per source key, which is what makes re-running the
    evaluation idempotent.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=TaskKind.choices)
    title = models.CharField(_("title"), max_length=200)
    detail = models.TextField(_("detail"), blank=True)
    channel = models.CharField(
        _("channel"), max_length=10, choices=InteractionChannel.choices, blank=True
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    due_on = models.DateField(_("due"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    source_key = models.CharField(_("source"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["owner", "status", "due_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "source_key"],
                condition=models.Q(status="open") & ~models.Q(source_key=""),
                name="task_one_open_per_source",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.status == TaskStatus.OPEN and self.due_on < timezone.localdate()


class NotificationQuerySet(models.QuerySet):
    """A notification is its recipient's alone, whatever the role (an administrator's
    included): ``restrict`` (the one permission path, ``fincrm.core.permissions``) keeps
    the user's own, to view and to mark read."""

    def restrict(self, user, action: str = "view") -> NotificationQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(recipient=user)


class Notification(models.Model):
    """A message to one user (tier changed, alert raised); read once, kept for the record."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=NotificationKind.choices)
    #: Free text, or empty when the template renders ``kind`` with ``data`` in the reader's
    #: language (a tier change: ``{"from": "key", "to": "core"}``).
    message = models.CharField(_("message"), max_length=300, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.message or self.get_kind_display()


class MessageTemplate(models.Model):
    """A care message for an occasion, per language and (optionally) channel.

    Placeholders: ``{client}``, ``{contact}`` (the person addressed), ``{manager}``,
    ``{occasion}``, ``{years}`` (anniversaries) and ``{date}``. Without a row for an
    occasion the built-in text of ``fincrm.engagement.care`` is used.
    """

    occasion = models.CharField(_("occasion"), max_length=24)
    language = models.CharField(_("language"), max_length=8, default="zh-hans")
    channel = models.CharField(
        _("channel"), max_length=10, choices=InteractionChannel.choices, blank=True
    )
    body = models.TextField(_("message"))
    #: The template code the provider approved for this text (Alibaba Cloud and Tencent Cloud
    #: SMS send a code and the placeholders' values, WeChat template messages a template id).
    provider_code = models.CharField(_("provider template code"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["occasion", "language", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["occasion", "language", "channel"], name="one_template_per_slot"
            )
        ]

    def __str__(self) -> str:
        return f"{self.occasion} · {self.language} · {self.channel or '*'}"
