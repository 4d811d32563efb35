"""Writes for the financing pipeline and loan servicing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fincrm.analytics.delinquency import loan_classes
from fincrm.core.bulk import update_rows
from fincrm.evaluation.tasks import customer_changed
from fincrm.webhooks import events as webhooks

from .choices import STAGE_TRANSITIONS, DocumentStatus, FacilityStatus, Stage
from .models import (
    Application,
    ApplicationDocument,
    ApplicationStageChange,
    Facility,
    Installment,
    Payment,
)

MSG_BAD_TRANSITION = _("An application at stage “%(current)s” cannot move to “%(target)s”.")
MSG_DOCUMENTS_MISSING = _("Documents still missing: %(missing)s.")
MSG_PAYMENT_NOT_POSITIVE = _("A payment must be a positive amount.")
MSG_FACILITY_NOT_ACTIVE = _("Payments can only be recorded on an active facility.")

#: Stages that can only be entered once every required document has been accepted.
NEEDS_ALL_DOCUMENTS = frozenset(
    {Stage.CREDIT_REVIEW, Stage.APPROVED, Stage.CONTRACT, Stage.DISBURSED}
)


@transaction.atomic
def application_create(
    *, customer, product, amount: Decimal, tenor_months: int, purpose: str = "", created_by=None
) -> Application:
    """Open an application as a lead, with the product's document checklist."""
    application = Application(
        customer=customer,
        product=product,
        amount=amount,
        tenor_months=tenor_months,
        purpose=purpose,
    )
    application.full_clean()
    application.save()
    ApplicationStageChange.objects.create(
        application=application, from_stage="", to_stage=Stage.LEAD, changed_by=created_by
    )
    ApplicationDocument.objects.bulk_create(
        ApplicationDocument(application=application, kind=kind)
        for kind in product.required_documents
    )
    return application


@transaction.atomic
def application_move_stage(
    *, application: Application, to_stage: str, user=None, note: str = ""
) -> Application:
    """Move along the pipeline, recording who moved it, when and why."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    current = application.stage
    if to_stage not in STAGE_TRANSITIONS.get(current, ()):
        raise ValidationError(
            MSG_BAD_TRANSITION
            % {
                "current": Stage(current).label,
                "target": Stage(to_stage).label if to_stage in Stage.values else to_stage,
            },
            code="bad_transition",
        )
    if to_stage in NEEDS_ALL_DOCUMENTS:
        missing = [
            d.get_kind_display()
            for d in application.documents.all()
            if d.status != DocumentStatus.ACCEPTED
        ]
        if missing:
            raise ValidationError(
                MSG_DOCUMENTS_MISSING % {"missing": "、".join(map(str, missing))},
                code="documents_missing",
            )
    now = timezone.now()
    application.stage = to_stage
    application.stage_changed_at = now
    application.save(update_fields=["stage", "stage_changed_at"])
    ApplicationStageChange.objects.create(
        application=application,
        from_stage=current,
        to_stage=to_stage,
        changed_at=now,
        changed_by=user,
        note=note,
    )
    webhooks.emit(
        webhooks.Event.APPLICATION_STAGE,
        [
            {
                "application": application.pk,
                "customer": application.customer_id,
                "from": current,
                "to": to_stage,
                "at": now,
            }
        ],
    )
    if to_stage == Stage.DISBURSED:
        _after_disbursement(application, now)
    customer_changed(application.customer_id)
    return application


def _after_disbursement(application: Application, now) -> None:
    """A follow-up visit (回访) a few days after the money arrives, the after-disbursement
    survey, and renewal points when the client had been financed before."""
    from fincrm.engagement.choices import TaskKind
    from fincrm.engagement.services import task_schedule
    from fincrm.evaluation.services import policy_active, policy_config
    from fincrm.loyalty.services import points_earn
    from fincrm.surveys.services import survey_trigger

    customer = application.customer
    days = policy_config(policy_active()).service.follow_up_after_disbursement_days
    task_schedule(
        customer=customer,
        kind=TaskKind.VISIT,
        source_key=f"disbursement:{application.pk}",
        title=gettext("Follow-up visit after disbursement: %(product)s")
        % {"product": application.product.name},
        due_on=timezone.localdate(now) + timedelta(days=days),
    )
    survey_trigger(
        event="disbursement",
        customer=customer,
        key=f"disbursement:{application.pk}",
        product=application.product,
    )
    financed_before = (
        Facility.objects.filter(customer=customer)
        .exclude(application=application)
        .filter(start_date__lt=timezone.localdate(now))
        .exists()
    )
    if financed_before:
        points_earn(customer=customer, reason="renewal", key=f"renewal:{application.pk}")


@transaction.atomic
def document_set_status(*, document: ApplicationDocument, status: str) -> ApplicationDocument:
    document.status = status
    if (
        status in (DocumentStatus.RECEIVED, DocumentStatus.ACCEPTED)
        and document.received_at is None
    ):
        document.received_at = timezone.now()
    document.full_clean()
    document.save()
    return document


def facility_refresh_delinquency(*, facility: Facility, as_of: date | None = None) -> Facility:
    """Recompute days past due and the five-tier class from the schedule and store them.

    The class follows the active policy's rules (arrears, the client's grade and open alerts:
    ``fincrm.analytics.delinquency.loan_classes``) and never drops below a risk officer's
    override; the change is written to the facility's history.
    """
    from fincrm.risk.selectors import facility_class_inputs

    dpd = facility.compute_days_past_due(as_of)
    facility.days_past_due = dpd
    rules, frame = facility_class_inputs(facilities=[facility])
    classes = loan_classes(frame, **rules).row(0, named=True)
    facility.loan_class_auto, facility.loan_class = classes["auto_class"], classes["loan_class"]
    facility.save(update_fields=["days_past_due", "loan_class", "loan_class_auto", "updated_at"])
    return facility


@transaction.atomic
def delinquency_refresh(*, as_of: date, customer_ids: Sequence[int] | None = None) -> int:
    """Days past due of every active facility (of ``customer_ids``; None: all) as of
    ``as_of``, recomputed from the schedule: the oldest instalment due before that day and
    not yet paid off (as ``Facility.compute_days_past_due``).

    Arrears grow by a day every day nobody pays; payments and reported misses refresh a
    facility at once, and the nightly run calls this first so the grades, alerts and loan
    classes it derives see today's arrears, not the ones of the last payment. Only changed
    facilities are written, in one statement per batch, without a history row: the column is
    derived from the payments (audited) and the schedule; the loan class it moves is written
    with history by the run. Returns how many facilities changed.
    """
    live = Facility.objects.order_by().filter(status=FacilityStatus.ACTIVE)
    overdue = Installment.objects.order_by().filter(
        facility__status=FacilityStatus.ACTIVE, paid_off_on__isnull=True, due_date__lt=as_of
    )
    if customer_ids is not None:
        live = live.filter(customer_id__in=customer_ids)
        overdue = overdue.filter(facility__customer_id__in=customer_ids)
    # One aggregate read whole (no server-side cursor: PostgreSQL plans a cursor for its
    # first rows, and a nested loop over the facilities took minutes at a million clients).
    oldest = overdue.values("facility_id").annotate(oldest=Min("due_date"))
    fresh = {pk: (as_of - day).days for pk, day in oldest.values_list("facility_id", "oldest")}
    stored = dict(live.filter(days_past_due__gt=0).values_list("pk", "days_past_due"))
    changed = [(pk, dpd) for pk, dpd in fresh.items() if stored.get(pk, 0) != dpd]
    changed += [(pk, 0) for pk in stored.keys() - fresh.keys()]
    return update_rows(Facility, ["days_past_due"], changed)


@transaction.atomic
def payment_record(
    *, facility: Facility, amount: Decimal, paid_on: date, reference: str = ""
) -> Payment:
    """Record a repayment and apply it to the oldest open installments first."""
    if amount is None or amount <= 0:
        raise ValidationError(MSG_PAYMENT_NOT_POSITIVE, code="not_positive")
    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    if facility.status != FacilityStatus.ACTIVE:
        raise ValidationError(MSG_FACILITY_NOT_ACTIVE, code="not_active")
    payment = Payment(facility=facility, amount=amount, paid_on=paid_on, reference=reference)
    payment.full_clean()
    payment.save()
    remaining = amount
    on_time: list[Installment] = []
    open_rows = Installment.objects.filter(facility=facility, paid_off_on__isnull=True).order_by(
        "number"
    )
    for installment in open_rows:
        if remaining <= 0:
            break
        applied = min(remaining, installment.outstanding)
        installment.amount_paid += applied
        remaining -= applied
        if installment.outstanding == 0:
            installment.paid_off_on = paid_on
            if paid_on <= installment.due_date:
                on_time.append(installment)
        installment.save(update_fields=["amount_paid", "paid_off_on"])
    facility_refresh_delinquency(facility=facility)
    from fincrm.loyalty.services import points_earn

    for installment in on_time:  # loyalty: each instalment paid in full by its due date
        points_earn(
            customer=facility.customer,
            reason="on_time_repayment",
            key=f"installment:{installment.pk}",
        )
    customer_changed(payment.facility.customer_id)
    return payment


MSG_NOT_DUE_YET = _("This instalment is not due yet: it cannot have been missed.")
MSG_ALREADY_PAID = _("This instalment is already paid.")
MSG_ALREADY_REPORTED = _("This instalment has already been reported missed.")


def evaluate_now(customer_id: int) -> None:
    """Re-evaluate one client as soon as the current transaction commits, in this process:
    an alert for a missed payment must not wait for the task worker or the nightly run."""
    from fincrm.evaluation.choices import RunKind
    from fincrm.evaluation.services import evaluation_run

    transaction.on_commit(
        lambda: evaluation_run(kind=RunKind.EVENT, customer_ids=[customer_id]), robust=True
    )


@transaction.atomic
def installment_report_missed(*, installment: Installment, user, as_of: date | None = None):
    """Loan servicing reports an instalment unpaid after its due date: the facility's arrears
    and class are refreshed and the client is re-evaluated at once (its early-warning alert
    reaches the owner's inbox when this returns)."""
    as_of = as_of or timezone.localdate()
    installment = Installment.objects.select_for_update().get(pk=installment.pk)
    if installment.due_date >= as_of:
        raise ValidationError(MSG_NOT_DUE_YET, code="not_due")
    if installment.paid_off_on is not None:
        raise ValidationError(MSG_ALREADY_PAID, code="paid")
    if installment.missed_reported_at is not None:
        raise ValidationError(MSG_ALREADY_REPORTED, code="reported")
    installment.missed_reported_at = timezone.now()
    installment.missed_reported_by = user
    installment.save(update_fields=["missed_reported_at", "missed_reported_by"])
    facility = facility_refresh_delinquency(facility=installment.facility, as_of=as_of)
    webhooks.emit(
        webhooks.Event.PAYMENT_MISSED,
        [
            {
                "installment": installment.pk,
                "facility": facility.pk,
                "contract_number": facility.contract_number,
                "customer": facility.customer_id,
                "due_date": installment.due_date,
                "amount_due": installment.amount_due,
                "days_past_due": facility.days_past_due,
            }
        ],
    )
    evaluate_now(facility.customer_id)
    return installment
