"""Guarantees and credit insurance: recording them, expiry reminders, exposure net of cover on
the risk portfolio page, and claims whose recoveries are booked on the facility."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from fincrm.engagement.models import Task
from fincrm.financing.choices import FacilityStatus, PaymentKind
from fincrm.financing.collections import facility_write_off
from fincrm.postloan import services
from fincrm.postloan.models import Claim, GuaranteeContract
from fincrm.postloan.selectors import portfolio_cover
from fincrm.testing.factories import FacilityFactory, monthly_schedule

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def loans(book):
    """Manager A's firm owes 600,000 on one facility and 400,000 on another (principal);
    manager B's firm owes 300,000."""
    firm = book["a_company"]
    one = FacilityFactory(customer=firm, start_date=date(2026, 1, 15))
    two = FacilityFactory(customer=firm, start_date=date(2026, 2, 15))
    other = FacilityFactory(customer=book["b_company"], start_date=date(2026, 1, 15))
    monthly_schedule(one, months=6, principal=D(100_000), interest=D(3_000))
    monthly_schedule(two, months=4, principal=D(100_000), interest=D(2_000))
    monthly_schedule(other, months=3, principal=D(100_000), interest=D(1_000))
    return one, two, other


GUARANTEED = Decimal(500_000)


def guarantee(firm, facilities, amount=GUARANTEED, **extra):
    fields = {"number": "BZ001", "kind": "guarantee", "guarantor_name": "华东融资担保有限公司",
              "amount_covered": amount, "start_on": date(2026, 1, 1),
              "expires_on": date(2027, 1, 1), **extra}  # fmt: skip
    return services.guarantee_record(customer=firm, facilities=facilities, **fields)


def test_net_exposure_on_the_risk_portfolio_page(loans, users, login, clock):
    one, two, _other = loans
    firm = one.customer
    guarantee(firm, [one, two])  # 500,000 shared 6:4 → 300,000 and 200,000
    services.policy_record(
        customer=firm,
        facilities=[two],
        insurer="中国出口信用保险公司",
        policy_number="P1",
        coverage_share=D(50),
        start_on=date(2026, 1, 1),
        expires_on=date(2027, 1, 1),
    )  # fmt: skip  50 % of 400,000 on top: two is fully covered (400,000 of 400,000)
    services.policy_record(
        customer=firm,
        facilities=[one],
        insurer="旧保险",
        policy_number="P0",
        coverage_amount=D(999_999),
        start_on=date(2025, 1, 1),
        expires_on=date(2026, 1, 1),
    )  # fmt: skip  expired: counts for nothing

    book = portfolio_cover(user=users["risk"], as_of=date(2026, 6, 15))
    assert book["total"] == {
        "outstanding": D(1_300_000), "cover": D(700_000), "net": D(600_000)
    }  # fmt: skip
    mine = portfolio_cover(user=users["manager_b"], as_of=date(2026, 6, 15))
    assert mine["total"] == {"outstanding": D(300_000), "cover": D(0), "net": D(300_000)}

    page = login(users["risk"]).get(reverse("risk:portfolio"), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert 'id="net-of-cover"' in html
    total = html.split('id="net-total"')[1].split("</tr>")[0]
    assert "CNY 1.30m" in total and "CNY 700,000" in total and "CNY 600,000" in total


def test_bad_cover_is_refused_and_nothing_is_saved(loans, book):
    one, _two, other = loans
    firm = one.customer
    with pytest.raises(ValidationError) as foreign:
        guarantee(firm, [one, other])
    assert "facilities" in foreign.value.message_dict
    with pytest.raises(ValidationError):
        guarantee(firm, [one], expires_on=date(2025, 12, 31))
    with pytest.raises(ValidationError):
        guarantee(firm, [one], guarantor_name="")
    with pytest.raises(ValidationError):
        guarantee(firm, [one], guarantor_name="", guarantor_client=firm)
    with pytest.raises(ValidationError):
        services.policy_record(
            customer=firm,
            facilities=[one],
            insurer="人保",
            policy_number="P9",
            start_on=date(2026, 1, 1),
            expires_on=date(2027, 1, 1),
        )  # fmt: skip  neither a share nor an amount
    assert not GuaranteeContract.objects.exists()


def test_a_guarantee_is_audited_with_its_facilities(loans, users):
    one, two, _other = loans
    record = guarantee(one.customer, [one, two], user=users["manager_a"])
    latest = record.history.latest()
    assert sorted(f.facility_id for f in latest.facilities.all()) == sorted([one.pk, two.pk])
    assert (latest.amount_covered, record.created_by) == (D(500_000), users["manager_a"])
    record.facilities.set([one])
    assert [f.facility_id for f in record.history.latest().facilities.all()] == [one.pk]


def test_the_owner_is_reminded_before_a_cover_expires(loans, users):
    one, _two, _other = loans
    guarantee(one.customer, [one], expires_on=date(2026, 7, 10))
    services.policy_record(
        customer=one.customer, facilities=[one], insurer="人保", policy_number="P2",
        coverage_share=D(80), start_on=date(2026, 1, 1), expires_on=date(2026, 9, 30),
    )  # fmt: skip
    # 30 days ahead (the policy): on 2026-06-05 nothing expires by 5 July; on 2026-06-15 the
    # guarantee (10 July) is in the window, the policy (30 September) is not.
    assert services.cover_expiry_reminders(as_of=date(2026, 6, 5)) == 0
    assert services.cover_expiry_reminders(as_of=date(2026, 6, 15)) == 1
    task = Task.objects.get(source_key__startswith="cover:")
    assert (task.owner, task.customer, task.priority) == (users["manager_a"], one.customer, "high")
    assert task.due_on == date(2026, 6, 25)  # halfway through the window
    assert "BZ001" in task.title and "2026-07-10" in task.title
    assert services.cover_expiry_reminders(as_of=date(2026, 6, 16)) == 0  # once
    assert services.cover_expiry_reminders(as_of=date(2026, 9, 1)) == 1  # now the policy


def test_a_claim_needs_a_defaulted_facility_and_its_cover(loans, users):
    one, two, _other = loans
    record = guarantee(one.customer, [one])
    with pytest.raises(ValidationError) as healthy:
        services.claim_file(facility=one, guarantee=record, amount=D(100_000),
                            filed_on=date(2026, 6, 15))  # fmt: skip
    assert healthy.value.code == "not_defaulted"
    type(one).objects.filter(pk__in=[one.pk, two.pk]).update(loan_class="doubtful")
    with pytest.raises(ValidationError) as unlinked:
        services.claim_file(facility=two, guarantee=record, amount=D(1), filed_on=date(2026, 6, 15))
    assert unlinked.value.code == "not_linked"
    with pytest.raises(ValidationError):  # more than the 500,000 covered
        services.claim_file(facility=one, guarantee=record, amount=D(500_001),
                            filed_on=date(2026, 6, 15))  # fmt: skip
    assert not Claim.objects.exists()
    claim = services.claim_file(facility=one, guarantee=record, amount=D(450_000),
                                filed_on=date(2026, 6, 15), user=users["manager_a"])  # fmt: skip
    assert (claim.status, claim.amount_recovered) == ("filed", D(0))


def test_a_paid_claim_on_a_written_off_facility_is_booked_as_a_recovery(loans, users):
    one, _two, _other = loans
    record = guarantee(one.customer, [one])
    facility_write_off(facility=one, user=users["risk"], reason="借款人破产")
    claim = services.claim_file(facility=one, guarantee=record, amount=D(450_000),
                                filed_on=date(2026, 6, 15))  # fmt: skip
    with pytest.raises(ValidationError):
        services.claim_decide(claim=claim, user=users["risk"], paid=True, on=date(2026, 7, 1),
                              amount_recovered=D(450_001))  # fmt: skip
    decided = services.claim_decide(claim=claim, user=users["risk"], paid=True,
                                    on=date(2026, 7, 1), amount_recovered=D(300_000))  # fmt: skip
    assert (decided.status, decided.amount_recovered) == ("paid", D(300_000))
    payment = decided.payment
    assert (payment.kind, payment.amount, payment.facility) == (PaymentKind.RECOVERY,
                                                                D(300_000), one)  # fmt: skip
    one.refresh_from_db()
    assert one.status == FacilityStatus.WRITTEN_OFF
    with pytest.raises(ValidationError):  # decided once
        services.claim_decide(claim=claim, user=users["risk"], paid=False, on=date(2026, 7, 2))
    assert list(claim.history.order_by("history_date").values_list("status", flat=True)) == [
        "filed", "paid"
    ]  # fmt: skip


def test_a_refused_claim_books_nothing(loans, users):
    one, _two, _other = loans
    record = guarantee(one.customer, [one])
    type(one).objects.filter(pk=one.pk).update(loan_class="loss")
    claim = services.claim_file(facility=one, guarantee=record, amount=D(100_000),
                                filed_on=date(2026, 6, 15))  # fmt: skip
    refused = services.claim_decide(claim=claim, user=users["risk"], paid=False,
                                    on=date(2026, 7, 1))  # fmt: skip
    assert (refused.status, refused.payment, refused.amount_recovered) == ("rejected", None, D(0))
    assert not one.payments.exists()


def test_the_cached_portfolio_figures_follow_a_new_cover_and_a_payment(loans, users):
    from fincrm.financing.servicing import payment_record

    _one, _two, other = loans
    day = date(2026, 6, 15)
    assert portfolio_cover(user=users["risk"], as_of=day)["total"]["cover"] == D(0)
    guarantee(other.customer, [other], amount=D(250_000))
    assert portfolio_cover(user=users["risk"], as_of=day)["total"] == {
        "outstanding": D(1_300_000), "cover": D(250_000), "net": D(1_050_000)
    }  # fmt: skip
    # 101,000 pays its first instalment (100,000 principal, 1,000 interest): it owes 200,000,
    # less than the 250,000 guaranteed, so the cover counted falls to 200,000 and its net to 0.
    payment_record(facility=other, amount=D(101_000), paid_on=day)
    figures = portfolio_cover(user=users["risk"], as_of=day)["total"]
    assert figures == {"outstanding": D(1_200_000), "cover": D(200_000), "net": D(1_000_000)}
