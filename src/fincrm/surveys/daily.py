"""The surveys' daily job (``fincrm daily``, registered in ``SurveysConfig.ready``):
idempotent, so a run twice on one day invites nobody twice."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from django.utils import timezone

from fincrm.customers.models import Customer

from .choices import DeliveryChannel, Trigger
from .models import Invitation, Survey, token_digest
from .services import survey_invite


def annual_surveys(*, as_of: date | None = None) -> int:
    """Invite every client once a year to each active annual survey: in bulk for portal
    surveys (clients answer when they log in), one by one where a message carries the link
    (e-mail, SMS, WeChat)."""
    as_of = as_of or timezone.localdate()
    now = timezone.now()
    invited = 0
    for survey in Survey.objects.filter(is_active=True, trigger=Trigger.ANNUAL):
        cause = f"annual:{as_of.year}"
        done = Invitation.objects.filter(survey=survey, cause=cause).values("customer_id")
        todo = Customer.objects.exclude(pk__in=done)
        if survey.channel != DeliveryChannel.PORTAL:  # each gets its link by message
            for customer in todo.iterator(chunk_size=2_000):
                _invitation, token = survey_invite(survey=survey, customer=customer, cause=cause)
                invited += token is not None
            continue
        batch: list[Invitation] = []
        for pk, owner in todo.values_list("pk", "owner_id").iterator(chunk_size=10_000):
            batch.append(
                Invitation(
                    survey=survey,
                    customer_id=pk,
                    channel=survey.channel,
                    cause=cause,
                    manager_id=owner,
                    sent_at=now,
                    expires_at=now + timedelta(days=survey.valid_days),
                    token_hash=token_digest(secrets.token_urlsafe(24)),
                )
            )
            if len(batch) == 5_000:
                invited += len(Invitation.objects.bulk_create(batch, ignore_conflicts=True))
                batch = []
        invited += len(Invitation.objects.bulk_create(batch, ignore_conflicts=True))
    return invited
