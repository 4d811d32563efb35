"""Financing's daily jobs (``fincrm daily``, registered in ``FinancingConfig.ready``).

Each job is idempotent, so a job run twice on one day (or caught up after a missed day)
creates nothing twice.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from fincrm.core.policy import policy_active, policy_config
from fincrm.engagement.choices import Priority, TaskKind
from fincrm.engagement.models import Task
from fincrm.engagement.services import task_schedule

from .choices import FacilityStatus
from .models import Facility


@transaction.atomic
def maturity_follow_ups(*, as_of: date | None = None) -> int:
    """A follow-up visit for each active facility maturing within the policy's window:
    renew, repay or restructure is decided before the day, not after."""
    as_of = as_of or timezone.localdate()
    days = policy_config(policy_active()).service.follow_up_before_maturity_days
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
