"""The daily service jobs, run after the nightly evaluation (``fincrm daily``).

Each job is idempotent, so a job run twice on one day (or caught up after a missed day)
creates nothing twice.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from fincrm.core.policy import policy_active, policy_config

from .choices import Priority, TaskKind
from .services import task_schedule


@transaction.atomic
def maturity_follow_ups(*, as_of: date | None = None) -> int:
    """A follow-up visit for each active facility maturing within the policy's window:
    renew, repay or restructure is decided before the day, not after."""
    from fincrm.financing.choices import FacilityStatus
    from fincrm.financing.models import Facility

    as_of = as_of or timezone.localdate()
    days = policy_config(policy_active()).service.follow_up_before_maturity_days
    from .models import Task

    before = Task.objects.filter(source_key__startswith="maturity:").count()
    maturing = Facility.objects.filter(
        status=FacilityStatus.ACTIVE, maturity_date__range=(as_of, as_of + timedelta(days=days))
    ).select_related("customer", "product")
    for facility in maturing.iterator(chunk_size=2_000):
        task_schedule(
            customer=facility.customer,
            kind=TaskKind.VISIT,
            source_key=f"maturity:{facility.pk}",
            title=gettext("Before maturity on %(date)s: renewal or repayment of %(contract)s")
            % {"date": facility.maturity_date.isoformat(), "contract": facility.contract_number},
            due_on=max(as_of, facility.maturity_date - timedelta(days=days // 2)),
            priority=Priority.HIGH,
            once=True,
        )
    return Task.objects.filter(source_key__startswith="maturity:").count() - before


def annual_surveys(*, as_of: date | None = None) -> int:
    """Invite every client once a year to each active annual survey: in bulk for portal
    surveys (clients answer when they log in), one by one where a message carries the link
    (e-mail, SMS, WeChat)."""
    import secrets

    from fincrm.customers.models import Customer
    from fincrm.surveys.choices import DeliveryChannel, Trigger
    from fincrm.surveys.models import Invitation, Survey, token_digest
    from fincrm.surveys.services import survey_invite

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


def run_daily(*, as_of: date | None = None) -> dict[str, int]:
    """Every daily job, each in its own transaction: one failing does not undo the others."""
    from fincrm.campaigns.services import campaigns_launch_due
    from fincrm.checks.services import checks_due
    from fincrm.evaluation.programmes import programme_tasks_plan
    from fincrm.financing.collections import collections_run
    from fincrm.financing.routing import routes_follow_tiers
    from fincrm.financing.services import renewals_open
    from fincrm.loyalty.services import points_expire
    from fincrm.messaging.care import care_messages_queue
    from fincrm.postloan.services import cover_expiry_reminders, evidence_checklists_open
    from fincrm.reports.services import client_reports_monthly
    from fincrm.service.services import tickets_escalate

    from .care import care_tasks_plan

    as_of = as_of or timezone.localdate()
    return {
        "care_tasks": care_tasks_plan(as_of=as_of),
        "care_messages": care_messages_queue(as_of=as_of),
        "maturity_follow_ups": maturity_follow_ups(as_of=as_of),
        "escalated_tickets": tickets_escalate(),
        "expired_points_entries": points_expire(as_of=as_of),
        "annual_survey_invitations": annual_surveys(as_of=as_of),
        "collection_actions": collections_run(as_of=as_of)["created"],
        "renewal_applications": renewals_open(as_of=as_of),
        "green_channel_routes": sum(routes_follow_tiers().values()),
        "client_reports": client_reports_monthly(as_of=as_of),
        "external_checks": sum(checks_due(as_of=as_of).values()),
        # Scheduled campaigns whose worker task was lost, by the real clock (not a replayed day).
        "scheduled_campaigns": campaigns_launch_due(),
        "use_of_funds_checklists": evidence_checklists_open(as_of=as_of),
        "cover_expiry_reminders": cover_expiry_reminders(as_of=as_of),
        # Strategies per segment and stage (issue 24, point 1): one task per client,
        # programme and period, from the last evaluation's segments and stages.
        "programme_tasks": sum(programme_tasks_plan(as_of=as_of).values()),
    }
