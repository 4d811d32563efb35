"""Satisfaction surveys: questionnaires, one-time token invitations, responses, answers."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.core.permissions import CustomerOwnedQuerySet

from .choices import DeliveryChannel, QuestionKind, Sentiment, Trigger


class Survey(models.Model):
    name = models.CharField(_("name"), max_length=120)
    intro = models.TextField(_("introduction"), blank=True)
    trigger = models.CharField(
        _("sent"), max_length=20, choices=Trigger.choices, default=Trigger.MANUAL
    )
    channel = models.CharField(
        _("delivery"), max_length=8, choices=DeliveryChannel.choices, default=DeliveryChannel.PORTAL
    )
    #: Days an invitation stays valid.
    valid_days = models.PositiveSmallIntegerField(_("valid for (days)"), default=30)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=8, choices=QuestionKind.choices)
    text = models.CharField(_("question"), max_length=300)
    #: Options of a single or multiple choice question.
    choices = models.JSONField(_("options"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=True)
    #: The overall-satisfaction question: the target of the driver analysis.
    is_overall = models.BooleanField(_("overall satisfaction"), default=False)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["survey", "position", "id"]

    def __str__(self) -> str:
        return self.text


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """One client asked to answer one survey. The link's token is stored hashed: whoever
    holds the database cannot answer for a client."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="survey_invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(_("delivery"), max_length=8, choices=DeliveryChannel.choices)
    #: What caused it (``disbursement:<application>``, ``ticket:<id>``, ``annual:2026``):
    #: one invitation per survey, client and cause.
    cause = models.CharField(_("cause"), max_length=60)
    #: The account manager at sending time (results by manager stay true after reassignment).
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    product = models.ForeignKey(
        "financing.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(_("expires"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "customer", "cause"], name="invitation_once_per_cause"
            )
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.customer_id}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None and self.expires_at > timezone.now()


class Response(models.Model):
    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="survey_responses"
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    #: The NPS and overall rating of this response, kept for fast reports.
    nps_score = models.PositiveSmallIntegerField(_("NPS answer"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("overall rating"), null=True, blank=True)
    sentiment = models.CharField(
        _("sentiment"), max_length=8, choices=Sentiment.choices, blank=True
    )
    keywords = models.JSONField(_("keywords"), default=list, blank=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.invitation}"


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    number = models.SmallIntegerField(_("score"), null=True, blank=True)
    choices = models.JSONField(_("chosen"), default=list, blank=True)
    text = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="answer_once")]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.number if self.number is not None else self.text}"
