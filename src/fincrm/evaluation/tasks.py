"""Background work of the evaluation engine, through the Django tasks API.

- ``evaluate_customers`` re-evaluates a few clients right after their data changed (a
  payment, a stage move, an edit): services announce it through the event hook
  (``fincrm.core.events.customer_changed``), :func:`customer_reevaluate` hears it after the
  commit (subscribed in ``EvaluationConfig.ready``) and the task runs in ``fincrm db_worker``.
- ``nightly_evaluation`` runs the full evaluation, queues the daily jobs (``fincrm daily``),
  announces ``core.events.NIGHTLY_EVALUATED`` (insights queues its predictions) and queues
  itself for the next night.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone
from django_tasks import task

from fincrm.core import events

from .choices import RunKind

NIGHTLY_AT = time(2, 0)


@task()
def evaluate_customers(customer_ids: list[int]) -> int:
    from .services import evaluation_run

    return evaluation_run(kind=RunKind.EVENT, customer_ids=customer_ids).pk


@task()
def evaluate_part(part_id: int) -> int:
    """One id range of a partitioned full run (``evaluation_run_partitioned``)."""
    import os
    import socket
    import threading

    from .services import evaluation_part_run, evaluation_parts_requeue

    worker = f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"
    part = evaluation_part_run(part_id, worker=worker)
    # A worker that died in the middle of a part of this run left it taken: queue it again.
    evaluation_parts_requeue(run_id=part.run_id)
    return part.customers_evaluated


@task()
def send_alert_emails(alert_ids: list[int]) -> int:
    """One message per person with the new alerts they must act on (the in-app notifications
    are written with the alerts), by e-mail and, where the WeChat gateway is WeCom, as a WeCom
    message (``fincrm.messaging.services.staff_notify``); returns how many e-mails were sent."""
    from django.conf import settings
    from django.utils import translation
    from django.utils.translation import gettext, ngettext

    from fincrm.messaging.services import staff_notify
    from fincrm.risk.models import Alert

    alerts = (
        Alert.objects.filter(pk__in=alert_ids, assigned_to__isnull=False)
        .select_related("customer", "assigned_to")
        .order_by("assigned_to_id", "-severity", "customer__name")
    )
    by_person: dict = {}
    for alert in alerts:
        by_person.setdefault(alert.assigned_to, []).append(alert)
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for person, theirs in by_person.items():
            subject = ngettext(
                "[fincrm] %(n)d new early-warning alert",
                "[fincrm] %(n)d new early-warning alerts",
                len(theirs),
            ) % {"n": len(theirs)}
            lines = [
                gettext(
                    "%(severity)s · %(client)s · %(signal)s = %(value).2f "
                    "(threshold %(threshold).2f)"
                )
                % {
                    "severity": a.get_severity_display(),
                    "client": a.customer.name,
                    "signal": a.signal,
                    "value": a.value,
                    "threshold": a.threshold,
                }
                for a in theirs
            ]
            lines.append("")
            lines.append(gettext("Open the alerts inbox in fincrm to act on them."))
            went = staff_notify(user=person, subject=subject, text="\n".join(lines))
            sent += "email" in went
    return sent


@task()
def nightly_evaluation() -> int:
    from .archive import history_archive
    from .services import evaluation_run

    try:
        run = evaluation_run(kind=RunKind.FULL)
        # After the run, in its own transaction: tonight's run never waits for the move.
        history_archive()
        from fincrm.engagement.tasks import daily_service

        daily_service.enqueue()  # care, follow-ups, escalations, points: after the tiers
        # The apps above that work on tonight's tiers (insights' predictions) hear it.
        events.publish(events.NIGHTLY_EVALUATED, run_id=run.pk)
        return run.pk
    finally:
        schedule_nightly()


def next_night(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now or timezone.now())
    at = now.replace(hour=NIGHTLY_AT.hour, minute=NIGHTLY_AT.minute, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def schedule_nightly() -> datetime:
    when = next_night()
    nightly_evaluation.using(run_after=when).enqueue()
    return when


def customer_reevaluate(customer_id: int) -> None:
    """Queue one client's re-evaluation (the hook calls this after the change committed)."""
    evaluate_customers.enqueue([customer_id])
