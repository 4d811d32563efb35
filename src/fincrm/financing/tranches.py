"""Disbursement in tranches (分笔放款): construction, project and supply-chain loans are drawn
stage by stage, not on the day of the contract.

The booking model is the one Apache Fineract uses for multi-disbursement loans: **one
facility per application, whose schedule is recomputed at each drawdown**. The facility's
limit is the approved amount and its drawn amount grows with each tranche; its contract
number, maturity, grade controls, arrears, classification, collections and history stay one
— what the client signed and what a lender's books, regulatory reports and the 360° page
count as one loan. (A facility per tranche would split one contract into several loans with
their own numbers and arrears, and the application points at one facility.)

How the schedule is recomputed: the first tranche books the facility with the application's
schedule for its own amount (``booking.facility_book``); each later tranche gets its own
schedule from ``build_schedule`` — from the day it is drawn to the facility's maturity, on the
facility's due dates, its first period prorated by the day count — added instalment by
instalment to the facility's instalments still to fall due. The schedules are linear in the
principal, so the sum is the schedule of the combined balance (equal instalments stay level
from then on), the principal of the schedule equals what was drawn to the cent, and interest
runs on each tranche only from the day it was drawn. The instalments as they stood before are
kept in a ``ScheduleRevision``.

The plan is set at the contract stage (``tranches_set``); moving the application to
disbursed draws the first tranche and any other planned for that day or before
(``application_disburse``); the rest are drawn in order by ``tranche_disburse`` or cancelled
by ``tranche_cancel`` (the undrawn commitment lapses: the facility's limit falls by it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from fincrm.core.events import customer_changed
from fincrm.webhooks import events as webhooks

from .choices import FacilityStatus, RepaymentMethod, Stage, TrancheStatus
from .models import Application, Facility, Installment, Tranche
from .schedule import FREQUENCY_MONTHS, ScheduleError, add_months, build_schedule, money

#: A plan longer than this is a revolving line, not a tranche plan.
MAX_TRANCHES = 60

MSG_PLAN_STAGE = _("The tranche plan is set at the contract stage, before disbursement.")
MSG_TRANCHE_AMOUNT = _(
    "Tranche %(number)s: the amount must be positive, in yuan and fen (got %(amount)s)."
)
MSG_PLAN_SUM = _(
    "The tranches add up to %(total)s CNY; they must add up to the approved amount, "
    "%(approved)s CNY."
)
MSG_BEFORE_SIGNING = _(
    "Tranche %(number)s is planned for %(date)s, before the contract was signed (%(signed)s)."
)
MSG_PLAN_ORDER = _(
    "Tranche %(number)s is planned before tranche %(previous)s: list the tranches in the "
    "order they are drawn."
)
MSG_AFTER_MATURITY = _(
    "Tranche %(number)s is planned for %(date)s, not before the maturity of the first "
    "drawdown (%(maturity)s)."
)
MSG_PLAN_TOO_LONG = _("A plan has at most %(max)s tranches.")
MSG_NOT_PLANNED = _("Only a planned tranche can be drawn or cancelled (this one is “%(status)s”).")
MSG_NOT_DISBURSED_YET = _(
    "The application is not disbursed yet: its first tranche is drawn when it moves to “Disbursed”."
)
MSG_EARLIER_FIRST = _("Tranche %(previous)s comes first: draw or cancel it before this one.")
MSG_BEFORE_LAST_DRAW = _(
    "A tranche cannot be drawn on %(date)s, before the last drawdown (%(last)s)."
)
MSG_FROZEN = _("The facility is frozen by a review: nothing more can be drawn.")
MSG_WRITTEN_OFF = _("The facility is written off: nothing more can be drawn.")
MSG_NO_PERIOD_LEFT = _(
    "The facility has no instalment due after %(date)s: the tranche can no longer be drawn."
)
MSG_SCHEDULE = _("No repayment schedule can be built for this tranche: %(error)s")
MSG_CANCEL_BEFORE = _(
    "Before the disbursement the plan is changed as a whole, not cancelled tranche by tranche."
)


def _date(day: date) -> str:
    return day.isoformat()


def _plan_errors(application: Application, plan: Sequence[tuple[Decimal, date]]) -> list:
    """Every rule the plan breaks, each naming the tranche."""
    errors: list = []
    if len(plan) > MAX_TRANCHES:
        return [ValidationError(MSG_PLAN_TOO_LONG % {"max": MAX_TRANCHES}, code="too_many")]
    total = Decimal(0)
    for number, (amount, planned_on) in enumerate(plan, start=1):
        amount = Decimal(amount)
        if amount <= 0 or money(amount) != amount:
            errors.append(
                ValidationError(
                    MSG_TRANCHE_AMOUNT % {"number": number, "amount": amount}, code="amount"
                )
            )
        total += amount
        if application.signed_on and planned_on < application.signed_on:
            errors.append(
                ValidationError(
                    MSG_BEFORE_SIGNING
                    % {
                        "number": number,
                        "date": _date(planned_on),
                        "signed": _date(application.signed_on),
                    },
                    code="before_signing",
                )
            )
        if number > 1 and planned_on < plan[number - 2][1]:
            errors.append(
                ValidationError(
                    MSG_PLAN_ORDER % {"number": number, "previous": number - 1}, code="order"
                )
            )
    if plan:
        # The line runs for the tenor from the first drawdown: later tranches draw within it.
        maturity = add_months(plan[0][1], application.tenor_months)
        for number, (_amount, planned_on) in enumerate(plan[1:], start=2):
            if planned_on >= maturity:
                errors.append(
                    ValidationError(
                        MSG_AFTER_MATURITY
                        % {
                            "number": number,
                            "date": _date(planned_on),
                            "maturity": _date(maturity),
                        },
                        code="after_maturity",
                    )
                )
        if total != application.amount:
            errors.append(
                ValidationError(
                    MSG_PLAN_SUM
                    % {"total": f"{total:,.2f}", "approved": f"{application.amount:,.2f}"},
                    code="sum",
                )
            )
    return errors


@transaction.atomic
def tranches_set(
    *, application: Application, plan: Sequence[tuple[Decimal, date]], user=None
) -> list[Tranche]:
    """Set (or replace) the tranche plan of an application at the contract stage: amounts
    positive and adding up to the approved amount to the fen, dates in drawing order, none
    before the signing nor, after the first, at or after the line's maturity. An empty plan
    disburses the whole amount at once. Refused whole, with every broken rule, or replaced
    whole; the replaced plan stays in the tranches' history."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.stage != Stage.CONTRACT:
        raise ValidationError(MSG_PLAN_STAGE, code="stage")
    errors = _plan_errors(application, list(plan))
    if errors:
        raise ValidationError(errors)
    for old in application.tranches.all():
        old._history_user = _person(user)
        old.delete()
    tranches = []
    for number, (amount, planned_on) in enumerate(plan, start=1):
        tranche = Tranche(
            application=application, number=number, amount=Decimal(amount), planned_on=planned_on
        )
        tranche._history_user = _person(user)
        tranche.full_clean()
        tranche.save()
        tranches.append(tranche)
    return tranches


@transaction.atomic
def application_disburse(*, application: Application, user=None, on: date) -> Facility:
    """The disbursement of an application moved to disbursed (``services.application_move_
    stage``): the whole approved amount on ``on`` unless tranches were planned; then the
    first tranche, and every later one planned for ``on`` or before, in order — once the
    plan is checked again against the contract as it now stands."""
    from .booking import facility_book

    planned = list(
        Tranche.objects.select_for_update()
        .filter(application=application, status=TrancheStatus.PLANNED)
        .order_by("number")
    )
    if not planned:
        return facility_book(application=application, user=user, on=on)
    # The contract's details may have moved since the plan was set (a later signing date).
    errors = _plan_errors(application, [(t.amount, t.planned_on) for t in planned])
    if errors:
        raise ValidationError(errors)
    first, *rest = planned
    facility = facility_book(application=application, user=user, on=on, amount=first.amount)
    _mark_drawn(first, facility, user=user, on=on)
    for tranche in rest:
        if tranche.planned_on > on:
            break
        _draw(tranche, facility, user=user, on=on)
    return facility


@transaction.atomic
def tranche_disburse(*, tranche: Tranche, user=None, on: date) -> Tranche:
    """Draw a planned tranche on ``on`` into the application's facility: its own schedule to
    the facility's maturity joins the instalments still to fall due (the module's
    docstring), the facility's drawn amount grows, ``tranche.disbursed`` is sent."""
    tranche = Tranche.objects.select_for_update().select_related("application").get(pk=tranche.pk)
    application = tranche.application
    if tranche.status != TrancheStatus.PLANNED:
        raise ValidationError(
            MSG_NOT_PLANNED % {"status": tranche.get_status_display()}, code="not_planned"
        )
    facility = Facility.objects.select_for_update().filter(application_id=application.pk).first()
    if application.stage != Stage.DISBURSED or facility is None:
        raise ValidationError(MSG_NOT_DISBURSED_YET, code="not_disbursed")
    earlier = (
        application.tranches.filter(number__lt=tranche.number, status=TrancheStatus.PLANNED)
        .order_by("number")
        .first()
    )
    if earlier is not None:
        raise ValidationError(MSG_EARLIER_FIRST % {"previous": earlier.number}, code="order")
    last = application.tranches.aggregate(last=Max("disbursed_on"))["last"]
    if last is not None and on < last:
        raise ValidationError(
            MSG_BEFORE_LAST_DRAW % {"date": _date(on), "last": _date(last)}, code="before_last"
        )
    if facility.frozen:
        raise ValidationError(MSG_FROZEN, code="frozen")
    if facility.status == FacilityStatus.WRITTEN_OFF:
        raise ValidationError(MSG_WRITTEN_OFF, code="written_off")
    _draw(tranche, facility, user=user, on=on)
    customer_changed(application.customer_id)
    return tranche


@transaction.atomic
def tranche_cancel(*, tranche: Tranche, user=None) -> Tranche:
    """Cancel a planned tranche the client will not draw. After the disbursement the undrawn
    commitment lapses: the facility's limit falls by the tranche (in its history)."""
    tranche = Tranche.objects.select_for_update().get(pk=tranche.pk)
    if tranche.status != TrancheStatus.PLANNED:
        raise ValidationError(
            MSG_NOT_PLANNED % {"status": tranche.get_status_display()}, code="not_planned"
        )
    facility = (
        Facility.objects.select_for_update().filter(application_id=tranche.application_id).first()
    )
    if facility is None:
        raise ValidationError(MSG_CANCEL_BEFORE, code="not_disbursed")
    tranche.status = TrancheStatus.CANCELLED
    tranche._history_user = _person(user)
    tranche.full_clean()
    tranche.save()
    facility.approved_limit -= tranche.amount
    facility._history_user = _person(user)
    facility.full_clean()
    facility.save()
    return tranche


def _person(user):
    return user if getattr(user, "pk", None) else None


def _mark_drawn(tranche: Tranche, facility: Facility, *, user, on: date) -> None:
    tranche.status = TrancheStatus.DISBURSED
    tranche.disbursed_on = on
    tranche.facility = facility
    tranche.disbursed_by = _person(user)
    tranche._history_user = _person(user)
    tranche.full_clean()
    tranche.save()
    webhooks.emit(
        webhooks.Event.TRANCHE_DISBURSED,
        [
            {
                "tranche": tranche.pk,
                "number": tranche.number,
                "application": tranche.application_id,
                "facility": facility.pk,
                "customer": facility.customer_id,
                "contract_number": facility.contract_number,
                "amount": tranche.amount,
                "disbursed_on": on,
                "drawn_amount": facility.drawn_amount,
                "approved_limit": facility.approved_limit,
            }
        ],
    )


def _draw(tranche: Tranche, facility: Facility, *, user, on: date) -> None:
    """Add ``tranche``'s own schedule to the facility's instalments due after ``on``."""
    from .booking import installments_from
    from .servicing import _revision

    rows = list(Installment.objects.filter(facility=facility).order_by("number"))
    ahead = [r for r in rows if r.due_date > on]
    if not ahead:
        raise ValidationError(MSG_NO_PERIOD_LEFT % {"date": _date(on)}, code="no_period")
    step = FREQUENCY_MONTHS.get(facility.frequency, 1)
    method = facility.repayment_method
    if method == RepaymentMethod.BULLET and len(ahead) > 1:  # a bullet rebuilt by servicing
        method = RepaymentMethod.INTEREST_ONLY
    try:
        periods = build_schedule(
            amount=tranche.amount,
            annual_rate_percent=facility.rate,
            tenor_months=len(ahead) * step,
            start=on,
            method=method,
            frequency=facility.frequency,
            day_count=facility.day_count,
            first_due=ahead[0].due_date,
            # The schedule's due day: a month-end day shows in its longest months.
            due_day=max(r.due_date.day for r in rows),
        )
    except ScheduleError as exc:
        raise ValidationError(MSG_SCHEDULE % {"error": exc}, code="schedule") from exc
    if [p.due_date for p in periods] != [r.due_date for r in ahead]:
        raise ValidationError(
            MSG_SCHEDULE % {"error": "due dates off the facility's"}, code="schedule"
        )
    _revision(
        facility,
        ahead,
        f"tranche {tranche.number} drawn: {tranche.amount} on {_date(on)}",
        user,
    )
    fees = installments_from(facility, periods)
    for row, period, fee in zip(ahead, periods, fees, strict=True):
        row.principal_due += period.principal
        row.interest_due += period.interest
        row.fee_due += fee.fee_due
        row.paid_off_on = None  # an instalment paid ahead owes the new tranche's share
    Installment.objects.bulk_update(
        ahead, ["principal_due", "interest_due", "fee_due", "paid_off_on"]
    )
    facility.drawn_amount += tranche.amount
    facility.maturity_date = ahead[-1].due_date
    if facility.status == FacilityStatus.CLOSED:  # repaid before the next tranche: live again
        facility.status = FacilityStatus.ACTIVE
    facility._history_user = _person(user)
    facility.full_clean()
    facility.save()
    _mark_drawn(tranche, facility, user=user, on=on)
