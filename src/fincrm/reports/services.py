"""Writes of value-added reports: generate a client's monthly PDF, deliver it to the portal
and by e-mail, and the monthly run of ``fincrm daily``."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fincrm.analytics.sla import is_business_day

from .choices import ReportChannel
from .models import ClientReport
from .pdf import report_pdf
from .selectors import month_of, report_content

log = logging.getLogger(__name__)

#: The tiers whose clients get a monthly report (DESIGN.md: key and core clients).
REPORT_TIERS = ("core", "key")
#: The service plan's report task (``fincrm.evaluation.services._write_plan_tasks``).
PLAN_TASK_KEY = "plan:report"


def first_working_day(month: date) -> date:
    """The first working day of ``month`` in mainland China (holidays and 调休 honoured)."""
    day = month_of(month)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


@transaction.atomic
def client_report_generate(*, customer, as_of: date, replace: bool = False) -> ClientReport:
    """The client's report for the month of ``as_of``: made once per client and month (the
    existing one is returned), or made again with ``replace`` (a manager asking for a fresh
    one from the 360° page) under the same row. In the client's language, Chinese."""
    period = month_of(as_of)
    report = (
        ClientReport.objects.select_for_update().filter(customer=customer, period=period).first()
    )
    if report is not None and not replace:
        return report
    with translation.override(settings.LANGUAGE_CODE):
        content = report_content(customer=customer, as_of=as_of)
        pdf = report_pdf(content)
        name = _("value-added-report-%(client)s-%(month)s.pdf") % {
            "client": customer.pk,
            "month": f"{period:%Y-%m}",
        }
    if report is None:
        report = ClientReport(customer=customer, period=period)
    elif report.file:
        report.file.delete(save=False)
    report.generated_at = timezone.now()
    report.file.save(name, ContentFile(pdf), save=False)
    report.full_clean()
    report.save()
    return report


@transaction.atomic
def client_report_deliver(*, report: ClientReport, created_by=None, now=None) -> ClientReport:
    """Put the report in the client's portal and e-mail it (PDF attached) through the
    messaging layer, under its rules; the service plan's report task closes when the e-mail
    is sent, or now when no e-mail can go (no address, opted out): the portal copy is then
    the delivery. Idempotent: a delivered report is returned as it is."""
    from fincrm.core.templatetags.fincrm_tags import person
    from fincrm.engagement.choices import InteractionChannel, Outcome, TaskStatus
    from fincrm.engagement.models import Task
    from fincrm.engagement.services import interaction_log, task_complete
    from fincrm.messaging.choices import MessageChannel, MessageKind, MessageStatus
    from fincrm.messaging.services import message_send

    if report.delivered_at is not None:
        return report
    customer = report.customer
    task = (
        Task.objects.filter(customer=customer, source_key=PLAN_TASK_KEY, status=TaskStatus.OPEN)
        .order_by("pk")
        .first()
    )
    with translation.override(settings.LANGUAGE_CODE):
        month = f"{report.period:%Y-%m}"
        subject = _("Your value-added report for %(month)s") % {"month": month}
        text = _(
            "Dear %(client)s,\n\nattached is your value-added report for %(month)s: your "
            "financial ratios against your industry, your repayment record, facilities, points "
            "and the products we recommend. You can also read it in the client portal.\n\n"
            "%(manager)s"
        ) % {
            "client": customer.name,
            "month": month,
            "manager": person(customer.owner, ""),
        }
        message = message_send(
            customer=customer,
            channel=MessageChannel.EMAIL,
            text=text,
            subject=subject,
            kind=MessageKind.REPORT,
            source_key=f"report:{month}",
            task=task,
            attachment=report.file.name,
            created_by=created_by,
            now=now,
        )
        going = message.status in (MessageStatus.QUEUED, MessageStatus.SENT,
                                    MessageStatus.DELIVERED)  # fmt: skip
        if not going:
            interaction_log(
                customer=customer,
                channel=InteractionChannel.PORTAL,
                subject=subject,
                summary=_("Published in the client portal."),
                outcome=Outcome.INFO_SENT,
                created_by=created_by,
                occurred_at=timezone.now(),
            )
    if task is not None and not going:
        task_complete(task=task)
    report.message = message
    report.channel = ReportChannel.EMAIL if going else ReportChannel.PORTAL
    report.delivered_at = timezone.now()
    report.save(update_fields=["message", "channel", "delivered_at"])
    return report


#: Clients per background task of the monthly run.
BATCH = 100


def client_reports_monthly(*, as_of: date | None = None) -> int:
    """Queue the month's reports of the key and core clients that have none yet, from the
    month's first working day on (a day missed is caught up later in the month), in tasks of
    ``BATCH`` clients that ``fincrm db_worker`` runs: a large book's PDFs are not made inside
    the daily job. Each client gets one report a month however often this runs (a client
    queued twice is made once). Returns how many clients were queued."""
    from fincrm.customers.models import Customer

    from .tasks import make_client_reports

    as_of = as_of or timezone.localdate()
    if as_of < first_working_day(as_of):
        return 0
    done = ClientReport.objects.filter(period=month_of(as_of)).values("customer_id")
    ids = list(
        Customer.objects.filter(classification__tier__in=REPORT_TIERS)
        .exclude(pk__in=done)
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    def enqueue():
        for start in range(0, len(ids), BATCH):
            make_client_reports.enqueue(ids[start : start + BATCH], as_of.isoformat())

    transaction.on_commit(enqueue)
    return len(ids)


def client_reports_make(*, customer_ids: list[int], as_of: date) -> int:
    """Make and deliver the reports of the month of ``as_of`` for these clients, each in its
    own transaction (one failing stops no other). Returns how many were made now."""
    from fincrm.customers.models import Customer

    made = 0
    clients = Customer.objects.filter(pk__in=customer_ids).select_related(
        "owner", "team", "classification"
    )
    for customer in clients.order_by("pk"):
        try:
            with transaction.atomic():
                if ClientReport.objects.filter(customer=customer, period=month_of(as_of)).exists():
                    continue
                report = client_report_generate(customer=customer, as_of=as_of)
                client_report_deliver(report=report)
        except Exception:
            log.exception("the report of client %s for %s failed", customer.pk, as_of)
            continue
        made += 1
    return made
