"""Disbursement in tranches: the plan's rules, the first tranche booked with the application's
disbursement, later tranches joining the one facility's schedule (interest only from the day
each is drawn, principal equal to what was drawn to the fen), refusals that change nothing,
and the API."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import ValidationError

from fincrm.api.models import ApiToken
from fincrm.financing import services, tranches
from fincrm.financing.choices import Stage, TrancheStatus
from fincrm.financing.models import Facility, Installment, ScheduleRevision, Tranche
from fincrm.testing.factories import ApplicationFactory, ProductFactory
from fincrm.webhooks.models import Delivery, Subscriber

pytestmark = pytest.mark.django_db

D = Decimal
JUNE_15 = date(2026, 6, 15)  # the clock's today: the contract is signed on it
PLAN = [(D("1000000.00"), JUNE_15), (D("1200000.00"), date(2026, 7, 25)),
        (D("800000.00"), date(2026, 9, 15))]  # fmt: skip


def annuity(principal: Decimal, monthly_rate: Decimal, periods: int) -> Decimal:
    """P·r / (1 − (1 + r)^−n) to the fen, written out here rather than taken from the code."""
    factor = (1 + monthly_rate) ** periods
    return (principal * monthly_rate * factor / (factor - 1)).quantize(
        D("0.01"), rounding=ROUND_HALF_UP
    )


@pytest.fixture
def at_contract(book, users, clock):
    """A 3,000,000 CNY, 12-month equal-instalment loan at 6 % (30/360), approved and moved to
    the contract stage today: signed on 2026-06-15."""

    def _make(customer=None, **terms):
        product = ProductFactory(code="PF09", product_type="project", required_documents=[])
        application = ApplicationFactory(
            customer=customer or book["a_company"],
            product=product,
            amount=D("3000000.00"),
            tenor_months=12,
            rate=D("6.000"),
            stage=Stage.APPROVED,
            **terms,
        )
        return services.application_move_stage(
            application=application, to_stage=Stage.CONTRACT, user=users["manager_a"]
        )

    return _make


def _schedule(facility) -> list[tuple]:
    return list(
        Installment.objects.filter(facility=facility)
        .order_by("number")
        .values_list("due_date", "principal_due", "interest_due", "fee_due", "paid_off_on")
    )


def _disburse(application, user):
    services.application_move_stage(application=application, to_stage=Stage.DISBURSED, user=user)
    return Facility.objects.get(application=application)


# --- the plan ----------------------------------------------------------------------------


def test_the_plan_is_refused_with_every_rule_it_breaks_and_nothing_is_saved(at_contract, users):
    application = at_contract()
    assert application.signed_on == JUNE_15
    plan = [
        (D("0"), date(2026, 6, 14)),  # nothing, and before the signing
        (D("1000000.005"), date(2026, 8, 1)),  # fractions of a fen
        (D("500000.00"), date(2026, 7, 1)),  # before the one listed before it
        (D("1000000.00"), date(2027, 6, 14)),  # at the maturity of the first drawdown
    ]
    with pytest.raises(ValidationError) as refused:
        tranches.tranches_set(application=application, plan=plan, user=users["manager_a"])
    messages = refused.value.messages
    assert str(tranches.MSG_TRANCHE_AMOUNT % {"number": 1, "amount": D("0")}) in messages
    assert str(tranches.MSG_TRANCHE_AMOUNT % {"number": 2, "amount": D("1000000.005")}) in messages
    assert (
        str(
            tranches.MSG_BEFORE_SIGNING
            % {"number": 1, "date": "2026-06-14", "signed": "2026-06-15"}
        )
        in messages
    )
    assert str(tranches.MSG_PLAN_ORDER % {"number": 3, "previous": 2}) in messages
    assert (
        str(
            tranches.MSG_AFTER_MATURITY
            % {"number": 4, "date": "2027-06-14", "maturity": "2027-06-14"}
        )
        in messages
    )
    assert (
        str(tranches.MSG_PLAN_SUM % {"total": "2,500,000.00", "approved": "3,000,000.00"})
        in messages
    )
    assert not Tranche.objects.exists()


def test_the_plan_must_add_up_to_the_approved_amount_to_the_fen(at_contract, users):
    application = at_contract()
    short = [(D("1000000.00"), JUNE_15), (D("1999999.99"), date(2026, 8, 1))]
    with pytest.raises(ValidationError, match=r"2,999,999\.99"):
        tranches.tranches_set(application=application, plan=short, user=users["manager_a"])
    assert not Tranche.objects.exists()
    saved = tranches.tranches_set(application=application, plan=PLAN, user=users["manager_a"])
    assert [(t.number, t.amount, t.status) for t in saved] == [
        (1, D("1000000.00"), "planned"),
        (2, D("1200000.00"), "planned"),
        (3, D("800000.00"), "planned"),
    ]
    # Replaced whole; the replaced plan stays in the history.
    tranches.tranches_set(application=application, plan=[*PLAN[:1], (D("2000000"), JUNE_15)])
    assert list(application.tranches.values_list("amount", flat=True)) == [
        D("1000000.00"),
        D("2000000.00"),
    ]
    assert Tranche.history.filter(history_type="-").count() == 3


def test_the_plan_is_set_at_the_contract_stage_only(at_contract, users):
    application = at_contract()
    tranches.tranches_set(application=application, plan=PLAN, user=users["manager_a"])
    _disburse(application, users["manager_a"])
    with pytest.raises(ValidationError) as refused:
        tranches.tranches_set(application=application, plan=PLAN, user=users["manager_a"])
    assert refused.value.messages == [str(tranches.MSG_PLAN_STAGE)]
    assert list(application.tranches.values_list("status", flat=True)) == [
        "disbursed",
        "planned",
        "planned",
    ]


# --- drawing -----------------------------------------------------------------------------


def test_a_plan_the_contract_no_longer_fits_stops_the_disbursement(at_contract, users):
    application = at_contract()
    tranches.tranches_set(application=application, plan=PLAN, user=users["manager_a"])
    services.application_set_terms(application=application, signed_on=date(2026, 8, 1))
    with pytest.raises(ValidationError) as refused:
        _disburse(application, users["manager_a"])
    assert refused.value.messages == [
        str(tranches.MSG_BEFORE_SIGNING % {"number": n, "date": d, "signed": "2026-08-01"})
        for n, d in ((1, "2026-06-15"), (2, "2026-07-25"))
    ]
    application.refresh_from_db()
    assert application.stage == Stage.CONTRACT
    assert not Facility.objects.exists()
    assert set(application.tranches.values_list("status", flat=True)) == {"planned"}


def test_without_a_plan_the_whole_amount_is_disbursed_at_once(at_contract, users):
    facility = _disburse(at_contract(), users["manager_a"])
    assert facility.drawn_amount == facility.approved_limit == D("3000000.00")
    assert sum(row[1] for row in _schedule(facility)) == D("3000000.00")


def test_disbursement_books_the_first_tranche_only(at_contract, users):
    Subscriber.objects.create(name="core", url="http://127.0.0.1:9/hook")
    application = at_contract()
    tranches.tranches_set(application=application, plan=PLAN, user=users["manager_a"])
    facility = _disburse(application, users["manager_a"])

    assert facility.approved_limit == D("3000000.00")
    assert facility.drawn_amount == D("1000000.00")
    rows = _schedule(facility)
    assert len(rows) == 12 and rows[0][0] == date(2026, 7, 15) and rows[-1][0] == date(2027, 6, 15)
    assert sum(r[1] for r in rows) == D("1000000.00")  # principal: what was drawn, to the fen
    assert rows[0][2] == D("5000.00")  # a month's interest on 1,000,000 at 6 %, not on 3,000,000
    assert {r[1] + r[2] for r in rows[:-1]} == {annuity(D("1000000"), D("0.005"), 12)}
    first, second, third = application.tranches.all()
    assert (first.status, first.disbursed_on, first.facility, first.disbursed_by) == (
        "disbursed",
        JUNE_15,
        facility,
        users["manager_a"],
    )
    assert second.status == third.status == "planned" and second.facility is None
    events = list(Delivery.objects.values_list("event", flat=True))
    assert events.count("facility.booked") == 1 and events.count("tranche.disbursed") == 1


def test_later_tranches_join_the_schedule_with_interest_from_the_day_they_are_drawn(
    at_contract, users
):
    Subscriber.objects.create(name="core", url="http://127.0.0.1:9/hook")
    application = at_contract()
    tranches.tranches_set(application=application, plan=PLAN, user=users["manager_a"])
    facility = _disburse(application, users["manager_a"])
    before = _schedule(facility)
    second = application.tranches.get(number=2)

    tranches.tranche_disburse(tranche=second, user=users["lead"], on=date(2026, 7, 25))

    facility.refresh_from_db()
    after = _schedule(facility)
    assert facility.drawn_amount == D("2200000.00") and facility.approved_limit == D("3000000")
    assert sum(r[1] for r in after) == D("2200000.00")
    assert after[0] == before[0]  # due before the drawdown: untouched
    # 25 July to 15 August is 20 days under 30/360: 1,200,000 × 6 % × 20 / 360.
    assert after[1][2] - before[1][2] == D("4000.00")
    # From its second period on, the tranche is an 11-month annuity beside the first's: the
    # instalments stay level, each the sum of the two.
    level = annuity(D("1000000"), D("0.005"), 12) + annuity(D("1200000"), D("0.005"), 11)
    assert {r[1] + r[2] for r in after[2:-1]} == {level}
    assert [r[0] for r in after] == [r[0] for r in before]  # one maturity, one set of dates
    revision = ScheduleRevision.objects.get(facility=facility)
    assert len(revision.rows) == 11 and revision.created_by == users["lead"]
    second.refresh_from_db()
    assert (second.status, second.disbursed_on, second.facility_id, second.disbursed_by) == (
        "disbursed",
        date(2026, 7, 25),
        facility.pk,
        users["lead"],
    )
    assert facility.history.first().drawn_amount == D("2200000.00")  # audited

    # The third on a due date: a regular first period, 800,000 × 6 % / 12.
    third = application.tranches.get(number=3)
    tranches.tranche_disburse(tranche=third, user=users["manager_a"], on=date(2026, 9, 15))
    facility.refresh_from_db()
    final = _schedule(facility)
    assert facility.drawn_amount == facility.approved_limit == D("3000000.00")
    assert sum(r[1] for r in final) == D("3000000.00")
    assert final[3][2] - after[3][2] == D("4000.00")
    assert final[:3] == after[:3]
    assert list(Delivery.objects.values_list("event", flat=True)).count("tranche.disbursed") == 3


def test_a_month_end_due_day_keeps_its_dates_when_a_tranche_joins(at_contract, users):
    application = at_contract(first_due_date=date(2026, 7, 31))
    plan = [(D("1000000.00"), JUNE_15), (D("2000000.00"), date(2026, 9, 10))]
    tranches.tranches_set(application=application, plan=plan, user=users["manager_a"])
    facility = _disburse(application, users["manager_a"])
    dates = [r[0] for r in _schedule(facility)]
    assert dates[:4] == [date(2026, 7, 31), date(2026, 8, 31), date(2026, 9, 30),
                         date(2026, 10, 31)]  # fmt: skip
    before = _schedule(facility)
    tranches.tranche_disburse(
        tranche=application.tranches.get(number=2), user=users["manager_a"], on=date(2026, 9, 10)
    )
    after = _schedule(facility)
    assert [r[0] for r in after] == dates
    assert sum(r[1] for r in after) == D("3000000.00")
    # 10 to 30 September: 20 days under 30/360 on 2,000,000 at 6 %.
    assert after[2][2] - before[2][2] == D("6666.67")


@pytest.mark.parametrize("frequency", ["monthly", "quarterly"])
@pytest.mark.parametrize(
    "method", ["equal_instalment", "equal_principal", "interest_only", "bullet"]
)
def test_every_method_keeps_the_principal_drawn_and_charges_interest_from_the_draw(
    at_contract, users, method, frequency
):
    application = at_contract(repayment_method=method, frequency=frequency)
    plan = [(D("1000000.00"), JUNE_15), (D("2000000.00"), date(2026, 8, 10))]
    tranches.tranches_set(application=application, plan=plan, user=users["manager_a"])
    facility = _disburse(application, users["manager_a"])
    before = _schedule(facility)
    assert sum(r[1] for r in before) == D("1000000.00")
    tranches.tranche_disburse(
        tranche=application.tranches.get(number=2), user=users["manager_a"], on=date(2026, 8, 10)
    )
    after = _schedule(facility)
    assert sum(r[1] for r in after) == D("3000000.00")
    assert [r[0] for r in after] == [r[0] for r in before]
    # Interest on the 2,000,000 from 10 August to the next due date only (30E/360 days):
    # 15 August (5 days), 15 September for quarterly (35), the bullet's maturity on 15 June
    # 2027 (305).
    days = 305 if method == "bullet" else 5 if frequency == "monthly" else 35
    first = next(i for i, r in enumerate(after) if r[0] > date(2026, 8, 10))
    expected = (D("2000000") * D("0.06") * days / 360).quantize(D("0.01"), ROUND_HALF_UP)
    assert after[first][2] - before[first][2] == expected
    if method in ("interest_only", "bullet"):
        assert after[-1][1] == D("3000000.00")


def test_moving_to_disbursed_draws_every_tranche_already_due(at_contract, users):
    application = at_contract()
    plan = [(D("1000000.00"), JUNE_15), (D("500000.00"), JUNE_15),
            (D("1500000.00"), date(2026, 8, 1))]  # fmt: skip
    tranches.tranches_set(application=application, plan=plan, user=users["manager_a"])
    facility = _disburse(application, users["manager_a"])
    assert facility.drawn_amount == D("1500000.00")
    assert sum(r[1] for r in _schedule(facility)) == D("1500000.00")
    assert list(application.tranches.values_list("status", flat=True)) == [
        "disbursed",
        "disbursed",
        "planned",
    ]


def test_refused_draws_change_nothing(at_contract, users):
    application = at_contract()
    tranches.tranches_set(application=application, plan=PLAN, user=users["manager_a"])
    second, third = application.tranches.filter(number__gt=1)
    with pytest.raises(ValidationError) as not_yet:
        tranches.tranche_disburse(tranche=second, user=users["manager_a"], on=JUNE_15)
    assert not_yet.value.messages == [str(tranches.MSG_NOT_DISBURSED_YET)]

    facility = _disburse(application, users["manager_a"])
    before = (_schedule(facility), facility.drawn_amount)
    refusals = [
        (third, date(2026, 8, 1), tranches.MSG_EARLIER_FIRST % {"previous": 2}),
        (
            second,
            date(2026, 6, 14),
            tranches.MSG_BEFORE_LAST_DRAW % {"date": "2026-06-14", "last": "2026-06-15"},
        ),
        (
            application.tranches.get(number=1),
            date(2026, 8, 1),
            tranches.MSG_NOT_PLANNED % {"status": TrancheStatus.DISBURSED.label},
        ),
        (second, date(2027, 6, 15), tranches.MSG_NO_PERIOD_LEFT % {"date": "2027-06-15"}),
    ]
    for tranche, on, message in refusals:
        with pytest.raises(ValidationError) as refused:
            tranches.tranche_disburse(tranche=tranche, user=users["manager_a"], on=on)
        assert refused.value.messages == [str(message)]
    Facility.objects.filter(pk=facility.pk).update(frozen=True)
    with pytest.raises(ValidationError, match=str(tranches.MSG_FROZEN)):
        tranches.tranche_disburse(tranche=second, user=users["manager_a"], on=date(2026, 8, 1))
    facility.refresh_from_db()
    assert (_schedule(facility), facility.drawn_amount) == before
    assert list(application.tranches.values_list("status", flat=True)) == [
        "disbursed",
        "planned",
        "planned",
    ]
    assert not ScheduleRevision.objects.exists()


def test_cancelling_the_last_tranche_lowers_the_limit(at_contract, users):
    application = at_contract()
    tranches.tranches_set(application=application, plan=PLAN, user=users["manager_a"])
    with pytest.raises(ValidationError):  # before the disbursement the plan is changed whole
        tranches.tranche_cancel(tranche=application.tranches.get(number=3))
    facility = _disburse(application, users["manager_a"])
    tranches.tranche_cancel(tranche=application.tranches.get(number=3), user=users["manager_a"])
    facility.refresh_from_db()
    assert facility.approved_limit == D("2200000.00") and facility.drawn_amount == D("1000000")
    tranches.tranche_disburse(
        tranche=application.tranches.get(number=2), user=users["manager_a"], on=date(2026, 7, 25)
    )
    facility.refresh_from_db()
    assert facility.drawn_amount == facility.approved_limit == D("2200000.00")


# --- the API -----------------------------------------------------------------------------


@pytest.fixture
def bearer(users):
    def _bearer(role):
        return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(user=users[role], name='t')[1]}"}

    return _bearer


def test_the_api_sets_the_plan_draws_tranches_and_refuses_without_changing_anything(
    client, at_contract, bearer, users, clock
):
    application = at_contract()
    base = f"/api/v1/applications/{application.pk}"
    manager, risk, other = bearer("manager_a"), bearer("risk"), bearer("manager_b")
    body = {"tranches": [{"amount": str(a), "planned_on": d.isoformat()} for a, d in PLAN]}

    assert client.get(f"{base}/tranches", **manager).json() == []
    assert client.get(f"{base}/tranches", **other).status_code == 404
    # Risk officers see the application but do not move it: 403; another manager: 404.
    for headers, status in ((risk, 403), (other, 404)):
        response = client.put(f"{base}/tranches", body, content_type="application/json",
                              **headers)  # fmt: skip
        assert response.status_code == status, response.content
    short = {"tranches": body["tranches"][:2]}
    refused = client.put(f"{base}/tranches", short, content_type="application/json", **manager)
    assert refused.status_code == 422 and "2,200,000.00" in refused.json()["detail"]
    assert not Tranche.objects.exists()

    planned = client.put(f"{base}/tranches", body, content_type="application/json", **manager)
    assert planned.status_code == 200, planned.content
    assert [(t["number"], t["amount"], t["status"]) for t in planned.json()] == [
        (1, "1000000.00", "planned"),
        (2, "1200000.00", "planned"),
        (3, "800000.00", "planned"),
    ]
    moved = client.post(f"{base}/stage", {"to_stage": "disbursed"},
                        content_type="application/json", **manager)  # fmt: skip
    assert moved.status_code == 200, moved.content
    facility = Facility.objects.get(pk=moved.json()["facility_id"])
    assert facility.drawn_amount == D("1000000.00")

    second, third = (t["id"] for t in planned.json()[1:])
    before = (_schedule(facility), facility.drawn_amount)
    for url, headers, status in (
        (f"{base}/tranches/{second}/disburse", risk, 403),
        (f"{base}/tranches/{second}/disburse", other, 404),
        (f"{base}/tranches/{third}/disburse", manager, 422),  # tranche 2 comes first
        (f"{base}/tranches/{second}/cancel", risk, 403),
    ):
        response = client.post(url, **headers)
        assert response.status_code == status, (url, response.content)
    facility.refresh_from_db()
    assert (_schedule(facility), facility.drawn_amount) == before

    clock.move_to("2026-07-25 10:00+08:00")
    drawn = client.post(f"{base}/tranches/{second}/disburse", **manager)
    assert drawn.status_code == 200, drawn.content
    assert drawn.json()["status"] == "disbursed" and drawn.json()["disbursed_on"] == "2026-07-25"
    assert drawn.json()["facility_id"] == facility.pk
    facility.refresh_from_db()
    assert facility.drawn_amount == D("2200000.00")
    assert sum(r[1] for r in _schedule(facility)) == D("2200000.00")
    listed = client.get(f"{base}/tranches", **risk).json()
    assert [t["status"] for t in listed] == ["disbursed", "disbursed", "planned"]


# --- the pages ---------------------------------------------------------------------------


def test_the_application_page_sets_the_plan_and_draws_the_tranches(
    client, at_contract, users, clock
):
    from django.test import Client
    from django.urls import reverse

    application = at_contract()
    url = application.get_absolute_url()
    client.force_login(users["manager_a"])
    assert 'id="tranche-plan"' in client.get(url).content.decode()
    form = {"tranches-TOTAL_FORMS": "4", "tranches-INITIAL_FORMS": "0"}
    for i, (amount, day) in enumerate(PLAN):
        form |= {f"tranches-{i}-amount": str(amount), f"tranches-{i}-planned_on": str(day)}
    plan_url = reverse("financing:application_tranches", args=[application.pk])

    short = client.post(plan_url, form | {"tranches-2-amount": "700000.00"}, follow=True)
    assert "2,900,000.00" in short.content.decode()  # the sum named against the approved amount
    assert not Tranche.objects.exists()
    assert client.post(plan_url, form).status_code == 302
    assert application.tranches.count() == 3

    move = reverse("financing:application_move", args=[application.pk])
    assert client.post(move, {"to_stage": "disbursed"}).status_code == 302
    page = client.get(url).content.decode()
    assert 'id="tranche-disburse-2"' in page and 'id="tranche-disburse-3"' not in page
    assert 'id="tranche-plan"' not in page  # the plan is closed once disbursed

    second = application.tranches.get(number=2)
    risk = Client()
    risk.force_login(users["risk"])
    assert 'id="tranche-disburse-2"' not in risk.get(url).content.decode()
    refused = risk.post(reverse("financing:tranche_disburse", args=[application.pk, second.pk]))
    assert refused.status_code == 403
    facility = Facility.objects.get(application=application)
    assert facility.drawn_amount == D("1000000.00")

    clock.move_to("2026-07-25 10:00+08:00")
    client.force_login(users["manager_a"])  # a new working day, a new session
    drawn = client.post(reverse("financing:tranche_disburse", args=[application.pk, second.pk]))
    assert drawn.status_code == 302 and drawn["Location"].endswith("#tranches")
    facility.refresh_from_db()
    assert facility.drawn_amount == D("2200000.00")
    assert sum(r[1] for r in _schedule(facility)) == D("2200000.00")
    page = client.get(url).content.decode()
    assert 'id="tranche-disburse-3"' in page and "1,200,000" in page and "220.0 万元" in page

    card = client.get(application.customer.get_absolute_url()).content.decode()
    assert f'id="facility-tranches-{facility.pk}"' in card
    assert "73%" in card  # 2,200,000 of the 3,000,000 limit
    assert "第 2 笔 · 120.0 万元" in card  # the drawdown on the timeline
