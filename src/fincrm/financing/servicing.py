"""Loan servicing: payments allocated in the product's order, overpayments, penalty
interest, reversals by counter-entry and early-settlement quotes.

A payment pays the oldest instalment first and, inside each instalment, penalty interest,
then fees, then interest, then principal (the order Chinese lenders and Apache Fineract use).
What is left after the instalments due by the payment date either runs on into the next
instalments (the default) or prepays principal, the client choosing a shorter tenor or a
lower instalment; the schedule it replaces is kept as a ``ScheduleRevision``.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.webhooks import events as webhooks

from .choices import FacilityStatus, FeeKind, Overpayment, PaymentKind, RepaymentMethod
from .models import Facility, Fee, Installment, Payment, ScheduleRevision
from .schedule import (
    FREQUENCY_MONTHS,
    add_months,
    annuity_payment,
    build_schedule,
    early_settlement,
    money,
)

ZERO = Decimal(0)
#: Inside an instalment: (the component, its due field, its paid field), in allocation order.
COMPONENTS = (
    ("penalty", "penalty_due", "penalty_paid"),
    ("fee", "fee_due", "fee_paid"),
    ("interest", "interest_due", "interest_paid"),
    ("principal", "principal_due", "principal_paid"),
)
MSG_PAYMENT_NOT_POSITIVE = _("A payment must be a positive amount.")
MSG_FACILITY_NOT_ACTIVE = _("Payments can only be recorded on an active facility.")
MSG_ALREADY_REVERSED = _("This payment has already been reversed.")
MSG_NOT_A_PAYMENT = _("Only a payment can be reversed, not a reversal.")
MSG_PREPAID = _(
    "This payment prepaid principal and the schedule was recomputed: correct it by a "
    "restructuring, not a reversal."
)
MSG_REASON = _("Say why the payment is reversed.")


def _allocate(installment: Installment, available: Decimal) -> tuple[dict[str, Decimal], Decimal]:
    """Pay what ``available`` covers of one instalment, component by component."""
    paid: dict[str, Decimal] = {}
    for name, due_field, paid_field in COMPONENTS:
        owed = getattr(installment, due_field) - getattr(installment, paid_field)
        take = min(owed, available)
        if take > 0:
            setattr(installment, paid_field, getattr(installment, paid_field) + take)
            paid[name] = take
            available -= take
    installment.amount_paid = installment.interest_paid + installment.principal_paid
    return paid, available


@transaction.atomic
def payment_record(
    *,
    facility: Facility,
    amount: Decimal,
    paid_on: date,
    reference: str = "",
    user=None,
    overpayment: str = Overpayment.HOLD,
) -> Payment:
    """Record a repayment and allocate it (see the module's docstring).

    A payment on a written-off facility is a recovery: recorded, not allocated.
    """
    if amount is None or amount <= 0:
        raise ValidationError(MSG_PAYMENT_NOT_POSITIVE, code="not_positive")
    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    recovery = facility.status == FacilityStatus.WRITTEN_OFF
    if facility.status != FacilityStatus.ACTIVE and not recovery:
        raise ValidationError(MSG_FACILITY_NOT_ACTIVE, code="not_active")
    payment = Payment(
        facility=facility,
        amount=amount,
        paid_on=paid_on,
        reference=reference,
        kind=PaymentKind.RECOVERY if recovery else PaymentKind.PAYMENT,
        recorded_by=user if getattr(user, "pk", None) else None,
    )
    payment.full_clean()
    payment.save()
    on_time: list[Installment] = []
    if not recovery:
        on_time = _apply(facility, payment, overpayment=overpayment, user=user)
    from fincrm.loyalty.services import points_earn

    from .services import customer_changed, facility_refresh_delinquency

    facility_refresh_delinquency(facility=facility, as_of=max(paid_on, timezone.localdate()))
    for installment in on_time:  # loyalty: each instalment paid in full by its due date
        points_earn(
            customer=facility.customer,
            reason="on_time_repayment",
            key=f"installment:{installment.pk}",
        )
    webhooks.emit(
        webhooks.Event.PAYMENT_RECEIVED,
        [
            {
                "payment": payment.pk,
                "facility": facility.pk,
                "customer": facility.customer_id,
                "amount": payment.amount,
                "paid_on": paid_on,
                "kind": payment.kind,
                "allocation": payment.allocation,
            }
        ],
    )
    from .collections import collections_settle

    collections_settle(facility=facility, on=paid_on)
    customer_changed(facility.customer_id)
    return payment


def _apply(facility: Facility, payment: Payment, *, overpayment: str, user) -> list[Installment]:
    """Allocate ``payment`` and store where it went; returns instalments paid on time."""
    remaining = payment.amount + facility.credit_balance
    facility.credit_balance = ZERO
    prepay = overpayment in (Overpayment.REDUCE_TENOR, Overpayment.REDUCE_INSTALMENT)
    rows = Installment.objects.filter(facility=facility, paid_off_on__isnull=True).order_by(
        "number"
    )
    if prepay:
        rows = rows.filter(due_date__lte=payment.paid_on)
    lines, on_time, fees = [], [], {"penalty": ZERO, "fee": ZERO}
    for installment in rows:
        if remaining <= 0:
            break
        paid, remaining = _allocate(installment, remaining)
        if installment.total_outstanding == 0:
            installment.paid_off_on = payment.paid_on
            if payment.paid_on <= installment.due_date:
                on_time.append(installment)
        installment.save(
            update_fields=[f for _n, _d, f in COMPONENTS] + ["amount_paid", "paid_off_on"]
        )
        lines.append({"installment": installment.pk, **{k: str(v) for k, v in paid.items()}})
        for kind in fees:
            fees[kind] += paid.get(kind, ZERO)
    allocation: dict = {"lines": lines}
    if remaining > 0 and prepay:
        allocation["prepaid"] = str(remaining)
        prepay_principal(
            facility=facility,
            amount=remaining,
            on=payment.paid_on,
            shorten=overpayment == Overpayment.REDUCE_TENOR,
            user=user,
        )
    elif remaining > 0:
        allocation["credit"] = str(remaining)
        facility.credit_balance = remaining
    facility.save(update_fields=["credit_balance"])
    payment.allocation = allocation
    payment.save(update_fields=["allocation"])
    for kind, fee_kind in (("penalty", FeeKind.PENALTY), ("fee", FeeKind.SERVICE)):
        if fees[kind] > 0:
            Fee.objects.create(
                facility=facility,
                kind=fee_kind,
                amount=fees[kind],
                charged_on=payment.paid_on,
                payment=payment,
            )
    if not Installment.objects.filter(facility=facility, paid_off_on__isnull=True).exists():
        facility.status = FacilityStatus.CLOSED
        facility.save(update_fields=["status"])
    return on_time


def outstanding_principal(facility: Facility) -> Decimal:
    rows = Installment.objects.filter(facility=facility)
    return sum((r.principal_due - r.principal_paid for r in rows), ZERO)


def _revision(facility: Facility, rows, reason: str, user) -> None:
    ScheduleRevision.objects.create(
        facility=facility,
        reason=reason,
        created_by=user if getattr(user, "pk", None) else None,
        rows=[
            {
                "number": r.number,
                "due_date": r.due_date.isoformat(),
                "principal_due": str(r.principal_due),
                "interest_due": str(r.interest_due),
                "fee_due": str(r.fee_due),
            }
            for r in rows
        ],
    )


def _untouched_future(facility: Facility, on: date) -> list[Installment]:
    """Instalments due after ``on`` that nothing has been paid on: what a rebuild replaces."""
    return list(
        Installment.objects.filter(
            facility=facility,
            due_date__gt=on,
            paid_off_on__isnull=True,
            amount_paid=0,
            fee_paid=0,
            penalty_paid=0,
        ).order_by("number")
    )


@transaction.atomic
def schedule_rebuild(
    *,
    facility: Facility,
    on: date,
    reason: str,
    user=None,
    prepaid: Decimal = ZERO,
    shorten: bool = False,
    rate: Decimal | None = None,
    extra_periods: int = 0,
    method: str | None = None,
    capitalised: Decimal = ZERO,
) -> list[Installment]:
    """Rebuild the instalments not yet touched after ``on``: less ``prepaid`` principal, at
    a new ``rate`` if given, with the same due dates (a lower instalment) or fewer of them
    (``shorten``: about the same instalment). The old rows are kept in a ``ScheduleRevision``;
    a prepayment beyond what is left is held as a credit.

    An extension or restructuring adds ``extra_periods`` after the last one, may change the
    repayment ``method`` and adds ``capitalised`` (overdue amounts) to the principal."""
    future = _untouched_future(facility, on)
    if not future:
        facility.credit_balance += prepaid
        facility.save(update_fields=["credit_balance"])
        return []
    balance = sum((r.principal_due for r in future), ZERO) - prepaid + capitalised
    _revision(facility, future, reason, user)
    previous = (
        Installment.objects.filter(facility=facility, number__lt=future[0].number)
        .order_by("-number")
        .values_list("due_date", flat=True)
        .first()
    ) or facility.start_date
    first_number = future[0].number
    Installment.objects.filter(pk__in=[r.pk for r in future]).delete()
    if rate is not None:
        facility.rate = rate
    if method:
        facility.repayment_method = method
    if balance <= 0:
        facility.credit_balance += -balance
        facility.save(update_fields=["credit_balance", "rate", "repayment_method"])
        return []
    step = FREQUENCY_MONTHS.get(facility.frequency, 1)
    periods = _shorter_term(facility, future, balance, step) if shorten else len(future)
    periods += extra_periods
    method = facility.repayment_method
    first_due = future[0].due_date
    if method == RepaymentMethod.BULLET and len(future) == 1:  # one payment, later
        first_due, periods = add_months(first_due, extra_periods * step), 1
    schedule = build_schedule(
        amount=balance,
        annual_rate_percent=facility.rate,
        tenor_months=periods * step,
        start=previous,
        method=method if method != RepaymentMethod.BULLET else RepaymentMethod.INTEREST_ONLY,
        frequency=facility.frequency,
        day_count=facility.day_count,
        first_due=first_due,
    )
    from .booking import installments_from

    rows = Installment.objects.bulk_create(
        installments_from(facility, schedule, first_number=first_number)
    )
    facility.maturity_date = rows[-1].due_date
    facility.save(update_fields=["maturity_date", "credit_balance", "rate", "repayment_method"])
    return rows


def prepay_principal(
    *, facility: Facility, amount: Decimal, on: date, shorten: bool, user=None
) -> list[Installment]:
    """Prepay ``amount`` of principal on ``on``: a shorter tenor or a lower instalment."""
    return schedule_rebuild(
        facility=facility,
        on=on,
        prepaid=amount,
        shorten=shorten,
        user=user,
        reason=f"prepayment {amount} on {on.isoformat()}",
    )


@transaction.atomic
def facility_call_in(*, facility: Facility, on: date, user=None) -> Installment | None:
    """Call the facility in (提前收回): every untouched future instalment is replaced by one
    due on ``on`` with the remaining principal and the interest accrued since the last due
    date. The old rows are kept in a ``ScheduleRevision``."""
    future = _untouched_future(facility, on)
    if not future:
        return None
    _revision(facility, future, f"called in on {on.isoformat()}", user)
    principal = sum((r.principal_due for r in future), ZERO)
    last_due = (
        Installment.objects.filter(facility=facility, due_date__lte=on)
        .order_by("-due_date")
        .values_list("due_date", flat=True)
        .first()
    ) or facility.start_date
    interest = early_settlement(
        balance=principal,
        annual_rate_percent=facility.rate,
        since=last_due,
        on=on,
        day_count=facility.day_count,
    )
    number = future[0].number
    Installment.objects.filter(pk__in=[r.pk for r in future]).delete()
    row = Installment.objects.create(
        facility=facility,
        number=number,
        due_date=on,
        principal_due=principal,
        interest_due=interest,
    )
    facility.maturity_date = max(on, facility.start_date + timedelta(days=1))
    facility.save(update_fields=["maturity_date"])
    return row


def _shorter_term(facility: Facility, future, balance: Decimal, step: int) -> int:
    """Periods that repay ``balance`` at no more than the current instalment (equal
    instalments) or the current principal per period (equal principal)."""
    if facility.repayment_method == RepaymentMethod.EQUAL_INSTALMENT:
        current = future[0].principal_due + future[0].interest_due
        rate = facility.rate / 100 * step / 12
        for n in range(1, len(future) + 1):
            if annuity_payment(balance, rate, n) <= current:
                return n
        return len(future)
    if facility.repayment_method == RepaymentMethod.EQUAL_PRINCIPAL:
        each = future[0].principal_due
        return max(1, min(len(future), math.ceil(balance / each)))
    return len(future)


@transaction.atomic
def payment_reverse(*, payment: Payment, user, reason: str, on: date | None = None) -> Payment:
    """Undo a wrong payment by a counter-entry: what it paid is unpaid again, its fee income
    is booked back; both rows stay."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.kind == PaymentKind.REVERSAL:
        raise ValidationError(MSG_NOT_A_PAYMENT, code="not_a_payment")
    if Payment.objects.filter(reverses=payment).exists():
        raise ValidationError(MSG_ALREADY_REVERSED, code="reversed")
    if payment.allocation.get("prepaid"):
        raise ValidationError(MSG_PREPAID, code="prepaid")
    if not reason.strip():
        raise ValidationError(MSG_REASON, code="reason")
    facility = Facility.objects.select_for_update().get(pk=payment.facility_id)
    on = on or timezone.localdate()
    reversal = Payment(
        facility=facility,
        amount=payment.amount,
        paid_on=on,
        reference=reason.strip()[:40],
        kind=PaymentKind.REVERSAL,
        reverses=payment,
        recorded_by=user,
        allocation={"reverses": payment.pk},
    )
    reversal.full_clean()
    reversal.save()
    fields = {name: paid for name, _due, paid in COMPONENTS}
    for line in payment.allocation.get("lines", []):
        installment = Installment.objects.select_for_update().get(pk=line["installment"])
        for name, field in fields.items():
            if name in line:
                setattr(installment, field, getattr(installment, field) - Decimal(line[name]))
        installment.amount_paid = installment.interest_paid + installment.principal_paid
        installment.paid_off_on = None
        installment.save(update_fields=[*fields.values(), "amount_paid", "paid_off_on"])
    credit = Decimal(payment.allocation.get("credit", "0"))
    facility.credit_balance = max(facility.credit_balance - credit, ZERO)
    if facility.status == FacilityStatus.CLOSED:
        facility.status = FacilityStatus.ACTIVE
    facility.save(update_fields=["credit_balance", "status"])
    for fee in payment.fees.all():
        Fee.objects.create(
            facility=facility, kind=fee.kind, amount=-fee.amount, charged_on=on, payment=reversal
        )
    from .services import customer_changed, facility_refresh_delinquency

    facility_refresh_delinquency(facility=facility, as_of=on)
    customer_changed(facility.customer_id)
    return reversal


def settlement_quote(*, facility: Facility, on: date) -> dict[str, Decimal]:
    """What settles the facility on ``on``: everything overdue, the principal still to
    come, and interest accrued on it since the last due date."""
    rows = list(Installment.objects.filter(facility=facility).order_by("number"))
    overdue = sum((r.total_outstanding for r in rows if r.due_date <= on), ZERO)
    principal = sum((r.principal_due - r.principal_paid for r in rows if r.due_date > on), ZERO)
    last_due = max((r.due_date for r in rows if r.due_date <= on), default=facility.start_date)
    accrued = early_settlement(
        balance=principal,
        annual_rate_percent=facility.rate,
        since=last_due,
        on=on,
        day_count=facility.day_count,
    )
    total = overdue + principal + accrued - facility.credit_balance
    return {
        "overdue": overdue,
        "principal": principal,
        "accrued_interest": accrued,
        "credit": facility.credit_balance,
        "total": max(total, ZERO),
    }


@transaction.atomic
def penalty_accrue(*, as_of: date, customer_ids=None) -> int:
    """Penalty interest (罚息) on overdue principal, at each facility's penalty rate, a day at
    a time (rate / 360) for each day up to ``as_of`` not yet accrued. Run by the nightly
    evaluation; running it twice for a day adds nothing. Returns instalments changed."""
    overdue = (
        Installment.objects.filter(
            facility__status=FacilityStatus.ACTIVE, paid_off_on__isnull=True, due_date__lt=as_of
        )
        .select_related("facility")
        .order_by("facility_id", "number")
    )
    if customer_ids is not None:
        overdue = overdue.filter(facility__customer_id__in=customer_ids)
    changed, facilities = [], {}
    for row in overdue:
        facility = row.facility
        if facility.penalty_rate <= 0:
            continue
        start = max(row.due_date, facility.penalty_accrued_to or row.due_date)
        days = (as_of - start).days
        principal = row.principal_due - row.principal_paid
        if days <= 0 or principal <= 0:
            continue
        row.penalty_due += money(principal * facility.penalty_rate / 100 * days / 360)
        changed.append(row)
        facilities[facility.pk] = facility
    Installment.objects.bulk_update(changed, ["penalty_due"], batch_size=2_000)
    Facility.objects.filter(pk__in=list(facilities)).update(penalty_accrued_to=as_of)
    return len(changed)
