"""Cure and promise-kept rates on the risk portfolio page, on a small book built day by day
through the nightly ladder, payments, promises and a write-off (the ``clock`` moved to each
day, then back to 15 June 2026).

Four facilities of manager A's clients, 120,000 CNY each, equal principal over 12 months
from 10 January 2026 (instalments due on the 10th):

- A: late on 10 February, promises on 11 February to pay by the 20th, pays then and on time
  after: one episode, cured; the promise kept.
- B: late on 10 February, never pays; promises on 13 March to pay 21,000 by the 16th: one
  episode, not cured; the promise broken.
- C: late on 10 February, pays that instalment alone on 15 March while the one of 10 March is
  already late (the queue's episode moves to 10 March: the same run), promises on the 16th to
  pay it by the 20th, pays it then and on time after: one episode, cured; the promise kept.
- D: late on 10 February, written off on 1 March: one episode, not cured.

Cure rate 2 of 4 = 50.0 %, promise-kept rate 2 of 3 = 66.7 %.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from fincrm.financing import collections, servicing
from fincrm.financing.booking import facility_book
from fincrm.financing.models import Application, CollectionAction, Installment
from fincrm.testing.factories import ProductFactory
from fincrm.testing.html import visible_text

pytestmark = pytest.mark.django_db
D = Decimal
TZ = ZoneInfo("Asia/Shanghai")


def _at(traveller, day: date) -> None:
    traveller.move_to(datetime.combine(day, time(10), TZ))


def _instalment(facility, due: date) -> Installment:
    return Installment.objects.get(facility=facility, due_date=due)


def _pay_on_time(facility, *dues: date) -> None:
    for due in dues:
        servicing.payment_record(facility=facility, amount=_instalment(facility, due).amount_due,
                                 paid_on=due)  # fmt: skip


def _promise(traveller, facility, step: str, *, on: date, by: date, amount: Decimal, user):
    _at(traveller, on)
    action = CollectionAction.objects.filter(facility=facility, step=step).latest("episode")
    collections.collection_record_outcome(action=action, user=user, outcome="promise",
                                          promise_date=by, promise_amount=amount)  # fmt: skip


@pytest.fixture
def collected_book(book, users, clock):
    product = ProductFactory(code="EP03", min_amount=D(100_000))

    def loan(customer):
        application = Application.objects.create(
            customer=customer, product=product, amount=D(120_000), tenor_months=12, rate=D(6),
            repayment_method="equal_principal", stage="contract",
        )  # fmt: skip
        return facility_book(application=application, on=date(2026, 1, 10))

    a, b = loan(book["a_company"]), loan(book["a_company"])
    c, d = loan(book["a_person"]), loan(book["a_person"])
    manager = users["manager_a"]

    _at(clock, date(2026, 2, 11))
    collections.collections_run(as_of=date(2026, 2, 11))  # all four: an SMS rung
    _promise(clock, a, "sms", on=date(2026, 2, 11), by=date(2026, 2, 20),
             amount=D("10600.00"), user=manager)  # fmt: skip
    servicing.payment_record(facility=a, amount=D("10600.00"), paid_on=date(2026, 2, 20))
    _at(clock, date(2026, 2, 22))
    collections.collections_run(as_of=date(2026, 2, 22))  # A's promise: kept
    _at(clock, date(2026, 3, 1))
    collections.facility_write_off(facility=d, user=users["risk"], reason="破产清算")
    _pay_on_time(a, date(2026, 3, 10))

    _at(clock, date(2026, 3, 13))
    collections.collections_run(as_of=date(2026, 3, 13))  # B and C: a letter (day 31)
    _promise(clock, b, "letter", on=date(2026, 3, 13), by=date(2026, 3, 16),
             amount=D("21000.00"), user=users["risk"])  # fmt: skip
    servicing.payment_record(facility=c, amount=D("10600.00"), paid_on=date(2026, 3, 15))
    _at(clock, date(2026, 3, 16))
    collections.collections_run(as_of=date(2026, 3, 16))  # C from 10 March: a call
    _promise(clock, c, "call", on=date(2026, 3, 16), by=date(2026, 3, 20),
             amount=_instalment(c, date(2026, 3, 10)).amount_due, user=manager)  # fmt: skip
    _at(clock, date(2026, 3, 18))
    collections.collections_run(as_of=date(2026, 3, 18))  # B's promise: broken
    servicing.payment_record(facility=c, amount=_instalment(c, date(2026, 3, 10)).amount_due,
                             paid_on=date(2026, 3, 20))  # fmt: skip
    _at(clock, date(2026, 3, 22))
    collections.collections_run(as_of=date(2026, 3, 22))  # C's promise: kept
    for facility in (a, c):
        _pay_on_time(facility, date(2026, 4, 10), date(2026, 5, 10), date(2026, 6, 10))
    _at(clock, date(2026, 6, 15))
    return {"a": a, "b": b, "c": c, "d": d}


def test_the_rates_count_runs_of_arrears_and_decided_promises(collected_book, users):
    assert Installment.objects.filter(facility=collected_book["c"], paid_off_on=date(2026, 3, 20),
                                      due_date=date(2026, 3, 10)).exists()  # fmt: skip
    rates = collections.collection_rates(since=date(2025, 6, 15))
    assert {k: rates[k] for k in ("episodes", "cured", "promises", "kept")} == {
        "episodes": 4, "cured": 2, "promises": 3, "kept": 2,
    }  # fmt: skip
    assert rates["cure_rate"] == 0.5 and rates["promise_kept_rate"] == pytest.approx(2 / 3)
    # Before C paid its March instalment none of its arrears had cleared yet.
    early = collections.collection_rates(since=date(2025, 6, 15), today=date(2026, 3, 19))
    assert (early["episodes"], early["cured"]) == (4, 1)


def test_the_portfolio_page_shows_them_beside_the_roll_rates(collected_book, users, login):
    page = visible_text(login(users["risk"]).get(reverse("risk:portfolio")).content.decode())
    assert "治愈率 50.0% 4 个逾期期间中 2 个已治愈" in page
    assert "承诺履约率 66.7% 3 笔还款承诺中 2 笔已履约" in page
    assert "治愈率：" in page  # the definitions
    lead = visible_text(login(users["lead"]).get(reverse("risk:portfolio")).content.decode())
    assert "治愈率 50.0%" in lead  # manager A's clients are in the lead's team


def test_another_managers_page_counts_none_of_them(collected_book, users, login):
    page = visible_text(login(users["manager_b"]).get(reverse("risk:portfolio")).content.decode())
    assert "治愈率 — 0 个逾期期间中 0 个已治愈" in page
    assert "承诺履约率 — 0 笔还款承诺中 0 笔已履约" in page
