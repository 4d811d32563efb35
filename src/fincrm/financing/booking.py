"""The contract and the booking: an approved application becomes a facility with its
repayment schedule and its fees."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from fincrm.webhooks import events as webhooks

from .choices import FeeKind
from .models import Application, Facility, Fee, Installment
from .pricing import application_quote
from .schedule import FREQUENCY_MONTHS, ScheduleError, build_schedule, money
from .services import policy_current

MSG_SCHEDULE = _("No repayment schedule can be built from these terms: %(error)s")


def contract_number_next(*, on: date, pattern: str | None = None) -> str:
    """The next free number of the configured pattern for ``on``'s year."""
    pattern = pattern or policy_current()[0].lending.contract_number_pattern
    taken = set(
        Facility.objects.filter(start_date__year=on.year).values_list("contract_number", flat=True)
    ) | set(
        Application.objects.exclude(contract_number="").values_list("contract_number", flat=True)
    )
    seq = len(taken) + 1
    while (number := pattern.format(year=on.year, seq=seq)) in taken or (
        Facility.objects.filter(contract_number=number).exists()
    ):
        seq += 1
    return number


@transaction.atomic
def contract_prepare(*, application: Application, on: date) -> Application:
    """The contract stage fixes the terms: a contract number from the pattern, the signing
    date and the arrangement fee (the product's rate less the pricing rule's waiver for the
    client's tier, unless one was agreed)."""
    fields = []
    if not application.contract_number:
        application.contract_number = contract_number_next(on=on)
        fields.append("contract_number")
    if application.signed_on is None:
        application.signed_on = on
        fields.append("signed_on")
    if not application.upfront_fee and application.product.upfront_fee_percent:
        # The pricing rule waives all or part of it for the client's tier.
        quote = application_quote(application, policy_current()[0])
        fee_percent = (
            Decimal(str(quote.arrangement_fee_percent))
            if quote is not None
            else application.product.upfront_fee_percent
        )
        application.upfront_fee = money(application.amount * fee_percent / 100)
        if application.upfront_fee:
            fields.append("upfront_fee")
    if fields:
        application.save(update_fields=fields)
    return application


def schedule_for(application: Application, *, start: date, amount: Decimal | None = None):
    """The schedule of ``amount`` (default: the whole approved amount) lent on ``start`` on
    the application's terms."""
    product = application.product
    rate = application.rate if application.rate is not None else product.min_rate
    try:
        return build_schedule(
            amount=application.amount if amount is None else amount,
            annual_rate_percent=rate,
            tenor_months=application.tenor_months,
            start=start,
            method=application.repayment_method,
            frequency=application.frequency,
            day_count=product.day_count,
            first_due=application.first_due_date,
        )
    except ScheduleError as exc:
        raise ValidationError(MSG_SCHEDULE % {"error": exc}, code="schedule") from exc


def installments_from(facility: Facility, periods, *, first_number: int = 1) -> list[Installment]:
    """Instalment rows of a schedule, each with its service fee on the balance it runs on."""
    step = FREQUENCY_MONTHS.get(facility.frequency, 1)
    balance = sum((p.principal for p in periods), Decimal(0))
    rows = []
    for offset, period in enumerate(periods):
        fee = money(balance * facility.service_fee_percent / 100 * step / 12)
        rows.append(
            Installment(
                facility=facility,
                number=first_number + offset,
                due_date=period.due_date,
                principal_due=period.principal,
                interest_due=period.interest,
                fee_due=fee,
            )
        )
        balance -= period.principal
    return rows


@transaction.atomic
def facility_book(
    *, application: Application, user=None, on: date, amount: Decimal | None = None
) -> Facility:
    """Disburse on ``on``: the facility, its schedule (the application's method, frequency
    and first due date, the product's day count), the grade's controls in force and the
    arrangement fee as income.

    The facility's limit is the approved amount; what is drawn is ``amount`` — the whole
    approved amount unless the application is disbursed in tranches, when it is the first
    tranche's and the later ones join this facility (``tranches.tranche_disburse``).
    """
    from .approval import client_grade

    application = Application.objects.select_related("product", "customer").get(pk=application.pk)
    contract_prepare(application=application, on=on)
    drawn = application.amount if amount is None else amount
    periods = schedule_for(application, start=on, amount=drawn)
    product = application.product
    rate = application.rate if application.rate is not None else product.min_rate
    policy = policy_current()[0]
    grade = client_grade(application.customer)
    controls = policy.grade_controls.get(grade or "")
    facility = Facility(
        customer=application.customer,
        application=application,
        product=product,
        contract_number=application.contract_number,
        approved_limit=application.amount,
        drawn_amount=drawn,
        rate=rate,
        tenor_months=application.tenor_months,
        start_date=on,
        maturity_date=periods[-1].due_date,
        guarantee_type=application.guarantee_type,
        collateral_value=application.collateral_value,
        repayment_method=application.repayment_method,
        frequency=application.frequency,
        day_count=product.day_count,
        penalty_rate=(rate * (1 + product.penalty_markup_percent / 100)).quantize(Decimal("0.001")),
        service_fee_percent=product.service_fee_percent,
        risk_controls={"grade": grade, **controls.model_dump()} if controls else {},
    )
    facility.full_clean()
    facility.save()
    Installment.objects.bulk_create(installments_from(facility, periods))
    if application.upfront_fee:
        Fee.objects.create(
            facility=facility, kind=FeeKind.UPFRONT, amount=application.upfront_fee, charged_on=on
        )
    webhooks.emit(
        webhooks.Event.FACILITY_BOOKED,
        [
            {
                "facility": facility.pk,
                "application": application.pk,
                "customer": application.customer_id,
                "contract_number": facility.contract_number,
                "amount": facility.drawn_amount,
                "rate": facility.rate,
                "start_date": on,
                "maturity_date": facility.maturity_date,
                "installments": len(periods),
            }
        ],
    )
    return facility
