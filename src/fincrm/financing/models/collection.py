"""Collection actions on facilities in arrears and the letters they send."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fincrm.core.permissions import RestrictedQuerySet

from ..choices import (
    LETTER_FORMATS,
    CollectionOutcome,
    CollectionStatus,
    CollectionStep,
    PromiseStatus,
)
from .base import MONEY, FacilityOwnedQuerySet
from .facility import Facility


class CollectionAction(models.Model):
    """A step of the dunning ladder on a facility in arrears, in a collector's queue."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="collections")
    step = models.CharField(_("action"), max_length=16, choices=CollectionStep.choices)
    #: The arrears episode: the due date of the oldest unpaid instalment when it was made.
    episode = models.DateField(_("in arrears since"))
    days_past_due = models.PositiveIntegerField(_("days past due"))
    amount_overdue = models.DecimalField(_("amount overdue (CNY)"), **MONEY)
    due_on = models.DateField(_("due"), db_index=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="collection_actions", verbose_name=_("assigned to"),
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=10, choices=CollectionStatus.choices,
        default=CollectionStatus.OPEN,
    )  # fmt: skip
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=CollectionOutcome.choices, blank=True
    )
    promise_date = models.DateField(_("promised for"), null=True, blank=True)
    promise_amount = models.DecimalField(_("promised amount (CNY)"), null=True, blank=True, **MONEY)
    promise_status = models.CharField(
        _("promise"), max_length=8, choices=PromiseStatus.choices, blank=True
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("completed by"),
    )  # fmt: skip
    #: The reminder an SMS step queued (``collections_run``): its status and reason in the queue.
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("message"),
    )  # fmt: skip

    history = HistoricalRecords()
    objects = FacilityOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection action")
        verbose_name_plural = _("collection actions")
        ordering = ["status", "-days_past_due", "due_on", "id"]
        constraints = [
            # One action per step per arrears episode: the ladder runs every night.
            models.UniqueConstraint(
                fields=["facility", "step", "episode"],
                name="one_collection_step",
                condition=~Q(step=CollectionStep.PROMISE_BROKEN),
            ),
        ]
        indexes = [models.Index(fields=["assigned_to", "status", "due_on"])]

    def __str__(self) -> str:
        return f"{self.facility} · {self.get_step_display()}"


class CollectionLetterTemplate(models.Model):
    """The text of the letter a rung of the dunning ladder sends (催收函 at 30 days, 担保人通知函
    at 60, 律师函 at 90), per language, editable by an administrator (history kept).

    ``body`` is plain text, paragraphs separated by blank lines, with placeholders in braces
    (``{client}``, ``{total}`` …: ``fincrm.financing.letters.PLACEHOLDERS``) filled with the
    client's figures on the day the letter is produced."""

    step = models.CharField(_("action"), max_length=16, choices=CollectionStep.choices)
    language = models.CharField(_("language"), max_length=8, default="zh-hans")
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("collection letter template")
        verbose_name_plural = _("collection letter templates")
        ordering = ["step", "language"]
        constraints = [
            models.UniqueConstraint(fields=["step", "language"], name="one_letter_per_step"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from ..letters import unknown_placeholders

        unknown = unknown_placeholders(f"{self.title}\n{self.body}")
        if unknown:
            raise ValidationError(
                {"body": _("Unknown placeholders: %(names)s") % {"names": ", ".join(unknown)}}
            )


class LetterOwnedQuerySet(RestrictedQuerySet):
    owner_field = "action__facility__customer__owner"
    team_field = "action__facility__customer__team"


class CollectionLetter(models.Model):
    """A letter produced for a collection action: who produced (downloaded) it, when, in which
    format, from which template, and the figures and text it carried. One row per download:
    the record of what left the lender, never changed."""

    action = models.ForeignKey(
        CollectionAction, on_delete=models.CASCADE, related_name="letters",
        verbose_name=_("collection action"),
    )  # fmt: skip
    template = models.ForeignKey(
        CollectionLetterTemplate, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("template"),
    )  # fmt: skip
    #: The letter's number (函号), one per action and day.
    reference = models.CharField(_("letter number"), max_length=60)
    file_format = models.CharField(_("format"), max_length=4, choices=LETTER_FORMATS)
    title = models.CharField(_("title"), max_length=100)
    text = models.TextField(_("text"))
    #: The figures filled in (amounts as strings, to the cent), as of ``created_at``.
    figures = models.JSONField(_("figures"), default=dict)
    created_at = models.DateTimeField(_("produced"), default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("produced by"),
    )  # fmt: skip

    objects = LetterOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection letter")
        verbose_name_plural = _("collection letters")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} {self.reference}"
