"""Servicing rules on a booked facility: allocation order, partial and early payments,
prepayment recomputation, reversal, penalty interest, settlement quotes, collections."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from fincrm.financing import collections, servicing
from fincrm.financing.booking import facility_book
from fincrm.financing.choices import (
    CollectionOutcome,
    CollectionStatus,
    CollectionStep,
    FacilityStatus,
    Overpayment,
    PromiseStatus,
    Stage,
)
from fincrm.financing.models import (
    Application,
    CollectionAction,
    Fee,
    Installment,
    Payment,
    ScheduleRevision,
)
from fincrm.testing.factories import ProductFactory

pytestmark = pytest.mark.django_db
D = Decimal
START = date(2026, 1, 10)
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def facility(book):
    """120,000 CNY at 6 % over 12 months, equal principal (10,000 a month), booked 10 Jan
    2026; a 1 % arrangement fee and a 1.2 % yearly service fee; penalty rate 9 %."""
    product = ProductFactory(
        code="EP01", upfront_fee_percent=D(1), service_fee_percent=D("1.2"), min_amount=D(100_000)
    )
    application = Application.objects.create(
        customer=book["a_company"],
        product=product,
        amount=D(120_000),
        tenor_months=12,
        rate=D(6),
        repayment_method="equal_principal",
        stage=Stage.CONTRACT,
    )
    return facility_book(application=application, on=START)


def rows(facility):
    return list(Installment.objects.filter(facility=facility).order_by("number"))


def test_booking_records_the_schedule_the_fee_and_the_penalty_rate(facility):
    first = rows(facility)[0]
    assert (first.due_date, first.principal_due, first.interest_due) == (
        date(2026, 2, 10),
        D("10000.00"),
        D("600.00"),
    )
    assert first.fee_due == D("120.00")  # 120,000 × 1.2 % / 12
    assert facility.penalty_rate == D("9.000")  # 6 % raised by half
    assert Fee.objects.get(facility=facility).amount == D("1200.00")  # 1 % upfront


def test_a_partial_payment_pays_penalty_fee_interest_then_principal(facility):
    first = rows(facility)[0]
    Installment.objects.filter(pk=first.pk).update(penalty_due=D("50.00"))
    payment = servicing.payment_record(
        facility=facility, amount=D("1000"), paid_on=date(2026, 2, 20)
    )
    first.refresh_from_db()
    assert (first.penalty_paid, first.fee_paid, first.interest_paid, first.principal_paid) == (
        D("50.00"),
        D("120.00"),
        D("600.00"),
        D("230.00"),
    )
    assert first.paid_off_on is None and first.amount_paid == D("830.00")
    line = payment.allocation["lines"][0]
    assert line == {
        "installment": first.pk,
        "penalty": "50.00",
        "fee": "120.00",
        "interest": "600.00",
        "principal": "230.00",
    }
    income = dict(Fee.objects.filter(payment=payment).values_list("kind", "amount"))
    assert income == {"penalty": D("50.00"), "service": D("120.00")}


def test_an_early_payment_runs_on_into_the_next_instalments(facility):
    servicing.payment_record(facility=facility, amount=D("21500"), paid_on=date(2026, 2, 1))
    first, second, third = rows(facility)[:3]
    assert first.paid_off_on == date(2026, 2, 1)
    assert second.total_outstanding == D(0)  # 10,000 + 550 + 110 = 10,660
    assert third.amount_paid + third.fee_paid == D("21500") - D("10720") - D("10660")


def test_a_prepayment_shortens_the_tenor_or_lowers_the_instalment(facility, book):
    prepaid = servicing.payment_record(
        facility=facility,
        amount=D("40720"),
        paid_on=date(2026, 2, 10),
        overpayment=Overpayment.REDUCE_TENOR,
    )
    assert prepaid.allocation["prepaid"] == "30000.00"
    shorter = rows(facility)
    # 30,000 prepaid: 80,000 left at 10,000 a month is 8 more instalments, not 11.
    assert len(shorter) == 9 and shorter[-1].due_date == date(2026, 10, 10)
    assert sum(r.principal_due for r in shorter) == D("90000.00")  # + 30,000 prepaid
    assert ScheduleRevision.objects.get(facility=facility).rows[0]["number"] == 2
    facility.refresh_from_db()
    assert facility.maturity_date == date(2026, 10, 10)

    other = facility_book(
        application=Application.objects.create(
            customer=book["a_company"],
            product=facility.product,
            amount=D(120_000),
            tenor_months=12,
            rate=D(6),
            repayment_method="equal_principal",
            stage=Stage.CONTRACT,
        ),
        on=START,
    )
    servicing.payment_record(
        facility=other,
        amount=D("40720"),
        paid_on=date(2026, 2, 10),
        overpayment=Overpayment.REDUCE_INSTALMENT,
    )
    lower = rows(other)
    assert len(lower) == 12 and lower[1].principal_due == D("7272.73")  # 80,000 / 11
    assert sum(r.principal_due for r in lower) == D("90000.00")


def test_a_wrong_payment_is_reversed_by_a_counter_entry(facility, users):
    payment = servicing.payment_record(
        facility=facility, amount=D("10720"), paid_on=date(2026, 2, 10)
    )
    assert rows(facility)[0].paid_off_on == date(2026, 2, 10)
    with pytest.raises(ValidationError):
        servicing.payment_reverse(payment=payment, user=users["manager_a"], reason=" ")
    reversal = servicing.payment_reverse(
        payment=payment, user=users["manager_a"], reason="重复入账", on=date(2026, 2, 11)
    )
    first = rows(facility)[0]
    assert first.paid_off_on is None and first.total_outstanding == D("10720.00")
    assert Payment.objects.filter(facility=facility).count() == 2  # nothing deleted
    assert reversal.reverses == payment
    assert sum(
        Fee.objects.filter(facility=facility, kind="service").values_list("amount", flat=True)
    ) == D(0)
    with pytest.raises(ValidationError):
        servicing.payment_reverse(payment=payment, user=users["manager_a"], reason="again")


def test_penalty_interest_accrues_daily_once(facility):
    servicing.penalty_accrue(as_of=date(2026, 2, 20))  # 10 days on 10,000 at 9 % / 360
    first = rows(facility)[0]
    assert first.penalty_due == D("25.00")
    assert servicing.penalty_accrue(as_of=date(2026, 2, 20)) == 0  # twice adds nothing
    servicing.penalty_accrue(as_of=date(2026, 2, 24))
    first.refresh_from_db()
    assert first.penalty_due == D("35.00")


def test_the_settlement_quote(facility):
    quote = servicing.settlement_quote(facility=facility, on=date(2026, 1, 25))
    # Nothing overdue, 120,000 principal, 15 days (30E) of interest at 6 %: 300.
    assert quote == {
        "overdue": D(0),
        "principal": D("120000.00"),
        "accrued_interest": D("300.00"),
        "credit": D(0),
        "total": D("120300.00"),
    }


def test_the_dunning_ladder_assigns_escalates_and_detects_broken_promises(facility, users, teams):
    from fincrm.accounts.models import Team
    from fincrm.testing.factories import UserFactory

    collector = UserFactory(
        username="collector",
        role="risk",
        team=Team.objects.create(name="催收组", parent=teams["root"]),
    )
    day = date(2026, 2, 11)  # one day late
    assert collections.collections_run(as_of=day)["created"] == 1
    action = CollectionAction.objects.get()
    assert (action.step, action.assigned_to) == (CollectionStep.SMS, users["manager_a"])
    assert collections.collections_run(as_of=day)["created"] == 0  # once per rung
    collections.collections_run(as_of=date(2026, 2, 14))  # day 4: a call
    collections.collections_run(as_of=date(2026, 3, 13))  # day 31: a letter, to collections
    letter = CollectionAction.objects.get(step=CollectionStep.LETTER)
    assert letter.assigned_to == collector and letter.days_past_due == 31

    moment = datetime(2026, 3, 13, 10, tzinfo=TZ)
    with pytest.raises(ValidationError):
        collections.collection_record_outcome(
            action=letter, user=collector, outcome=CollectionOutcome.PROMISE, today=moment.date()
        )
    collections.collection_record_outcome(
        action=letter,
        user=collector,
        outcome=CollectionOutcome.PROMISE,
        promise_date=date(2026, 3, 16),
        promise_amount=D("21000"),
        today=moment.date(),
    )
    CollectionAction.objects.filter(pk=letter.pk).update(completed_at=moment)
    result = collections.collections_run(as_of=date(2026, 3, 18))
    assert result["broken"] == 1
    letter.refresh_from_db()
    assert letter.promise_status == PromiseStatus.BROKEN
    follow_up = CollectionAction.objects.get(step=CollectionStep.PROMISE_BROKEN)
    assert follow_up.assigned_to == users["lead"]  # escalated to the team lead

    # Paying the arrears closes every open action.
    servicing.payment_record(facility=facility, amount=D("21500"), paid_on=date(2026, 3, 18))
    assert not CollectionAction.objects.filter(status=CollectionStatus.OPEN).exists()
    rates = collections.collection_rates(since=date(2026, 1, 1))
    assert rates["promise_kept_rate"] == 0.0 and rates["promises"] == 1


def test_a_write_off_and_a_recovery(facility, users):
    collections.facility_write_off(facility=facility, user=users["risk"], reason="法院判决")
    facility.refresh_from_db()
    assert facility.status == FacilityStatus.WRITTEN_OFF
    assert facility.written_off_amount == D("120000.00")
    recovery = servicing.payment_record(facility=facility, amount=D(5000), paid_on=date(2026, 6, 1))
    assert recovery.kind == "recovery" and recovery.allocation == {}
    assert not Installment.objects.filter(facility=facility, amount_paid__gt=0).exists()


def test_a_kept_promise(facility, users):
    collections.collections_run(as_of=date(2026, 2, 11))
    action = CollectionAction.objects.get()
    collections.collection_record_outcome(
        action=action,
        user=users["manager_a"],
        outcome=CollectionOutcome.PROMISE,
        promise_date=date(2026, 2, 13),
        promise_amount=D("10720"),
        today=date(2026, 2, 11),
    )
    CollectionAction.objects.filter(pk=action.pk).update(
        completed_at=datetime(2026, 2, 11, 10, tzinfo=TZ)
    )
    servicing.payment_record(facility=facility, amount=D("10720"), paid_on=date(2026, 2, 13))
    assert collections.promises_check(as_of=date(2026, 2, 15), grace_days=1) == (1, 0)


def test_recorded_fees_feed_the_value_tiering(facility, book):
    from fincrm.evaluation.features import load_features

    servicing.payment_record(facility=facility, amount=D("10720"), paid_on=date(2026, 2, 10))
    frame = load_features(as_of=date(2026, 3, 1), customer_ids=[book["a_company"].pk])
    # The 1,200 arrangement fee at booking and the first instalment's 120 service fee.
    assert frame.row(0, named=True)["fee_income_12m"] == 1320.0


def test_a_good_client_maturing_gets_a_prefilled_renewal_once(facility, book, users):
    from fincrm.engagement.models import Notification
    from fincrm.evaluation.models import Classification
    from fincrm.financing.services import renewals_open

    at = datetime(2026, 6, 1, tzinfo=TZ)
    Classification.objects.create(
        customer=book["a_company"],
        tier="key",
        tier_since=at,
        value_score=60,
        grade="A",
        size_band="small",
        lifecycle="active",
        evaluated_at=at,
    )
    near = facility.maturity_date - timedelta(days=30)
    assert renewals_open(as_of=near) == 1
    assert renewals_open(as_of=near) == 0
    renewal = Application.objects.get(renewal_of=facility)
    assert (renewal.channel, renewal.amount, renewal.tenor_months) == ("renewal", D(120_000), 12)
    assert renewal.repayment_method == "equal_principal"
    assert Notification.objects.filter(recipient=users["manager_a"]).exists()
