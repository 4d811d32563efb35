"""Extension (展期) and restructuring (重组) through approval: the new schedule and the old one
kept, the authority table and maker–checker, the grade's controls on the new terms, the
regulator's extension limits, the restructured facility's classification floor, the API's
refusals that change nothing, and the 360° page."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fincrm.analytics.delinquency import loan_classes
from fincrm.evaluation.models import Classification
from fincrm.financing import modifications, servicing
from fincrm.financing.booking import facility_book
from fincrm.financing.choices import ModificationStatus, Stage
from fincrm.financing.models import (
    Application,
    FacilityModification,
    Installment,
    ModificationVote,
    ScheduleRevision,
)
from fincrm.financing.schedule import annuity_payment, money
from fincrm.financing.services import policy_current
from fincrm.testing.factories import ProductFactory
from fincrm.webhooks.models import Delivery, Subscriber

pytestmark = pytest.mark.django_db
D = Decimal
TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 6, 15)  # the ``clock`` fixture's day


def graded(customer, grade: str):
    at = datetime(2026, 6, 1, tzinfo=TZ)
    Classification.objects.update_or_create(
        customer=customer,
        defaults={"tier": "ordinary", "tier_since": at, "value_score": 50, "grade": grade,
                  "size_band": "small", "lifecycle": "active", "evaluated_at": at},
    )  # fmt: skip
    customer.refresh_from_db()
    return customer


def book_loan(customer, *, amount=120_000, tenor=12, rate=6, method="equal_instalment",
              start=date(2026, 1, 10), pay_until=TODAY):  # fmt: skip
    """A booked loan whose instalments due by ``pay_until`` are paid on their due dates."""
    product = ProductFactory(code="MOD01", min_amount=D(100_000), max_amount=D(50_000_000),
                             max_tenor_months=120)  # fmt: skip
    application = Application.objects.create(
        customer=customer, product=product, amount=D(amount), tenor_months=tenor, rate=D(rate),
        repayment_method=method, stage=Stage.CONTRACT,
    )  # fmt: skip
    facility = facility_book(application=application, on=start)
    for row in rows(facility):
        if row.due_date <= pay_until:
            servicing.payment_record(
                facility=facility, amount=row.total_outstanding, paid_on=row.due_date
            )
    facility.refresh_from_db()
    return facility


def rows(facility):
    return list(Installment.objects.filter(facility=facility).order_by("number"))


def request(facility, user, **terms):
    policy, _version = policy_current()
    terms.setdefault("kind", "extension")
    terms.setdefault("reason", "客户回款周期延长")
    return modifications.modification_request(facility=facility, user=user, policy=policy,
                                              **terms)  # fmt: skip


def decide(modification, user, vote="approve", **extra):
    policy, version = policy_current()
    return modifications.modification_decide(
        modification=modification, user=user, vote=vote, policy=policy,
        policy_version=version, **extra,
    )  # fmt: skip


@pytest.fixture
def loan(book, clock):
    """120,000 CNY at 6 % over 12 months, equal instalments, from 10 Jan 2026; the five
    instalments due by 15 June paid; the client graded BBB (lead's authority)."""
    return book_loan(graded(book["a_company"], "BBB"))


def test_an_extension_respreads_the_outstanding_principal_to_the_cent_and_keeps_the_old_schedule(
    loan, users
):
    before = rows(loan)
    open_rows = [r for r in before if r.due_date > TODAY]
    outstanding = sum(r.principal_due for r in open_rows)
    modification = request(loan, users["manager_a"], extension_months=6)
    assert modification.status == ModificationStatus.PENDING
    assert modification.outstanding_principal == outstanding
    assert [r.pk for r in rows(loan)] == [r.pk for r in before]  # nothing changes yet

    decide(modification, users["lead"])

    modification.refresh_from_db()
    loan.refresh_from_db()
    after = rows(loan)
    new = [r for r in after if r.due_date > TODAY]
    assert modification.status == ModificationStatus.APPROVED
    assert modification.effective_on == TODAY
    assert len(new) == len(open_rows) + 6 == 13
    assert sum(r.principal_due for r in new) == outstanding  # to the cent
    assert [r.number for r in after] == list(range(1, 19))
    assert after[:5] == before[:5]  # what was paid stays
    assert (new[0].due_date, new[-1].due_date) == (date(2026, 7, 10), date(2027, 7, 10))
    # The annuity of the outstanding principal over 13 months at 6 %, the last one clearing.
    instalment = annuity_payment(outstanding, D("0.005"), 13)
    assert {r.principal_due + r.interest_due for r in new[:-1]} == {instalment}
    assert new[0].interest_due == money(outstanding * D("0.005"))
    assert (loan.maturity_date, loan.tenor_months, loan.rate) == (date(2027, 7, 10), 18, D(6))
    assert loan.restructured_until is None  # an extension of a loan paid on time
    revision = modification.revision
    assert revision == ScheduleRevision.objects.get(facility=loan)
    assert [r["number"] for r in revision.rows] == [r.number for r in open_rows]
    assert sum(D(r["principal_due"]) for r in revision.rows) == outstanding
    assert revision.rows[-1]["due_date"] == "2027-01-10"
    # The facility's history has its old maturity; the modification's its decision.
    old = loan.history.filter(maturity_date=date(2027, 1, 10)).exists()
    assert old and loan.history.first().maturity_date == date(2027, 7, 10)
    assert modification.history.first().status == ModificationStatus.APPROVED
    assert ModificationVote.objects.get(modification=modification).role == "lead"


def test_a_restructuring_at_a_new_rate_and_method_rebuilds_the_rest_and_floors_the_class(
    loan, users
):
    open_rows = [r for r in rows(loan) if r.due_date > TODAY]
    outstanding = sum(r.principal_due for r in open_rows)
    modification = request(loan, users["manager_a"], kind="restructuring",
                           extension_months=5, new_rate=D("5.5"),
                           new_method="equal_principal")  # fmt: skip
    decide(modification, users["lead"])
    loan.refresh_from_db()
    new = [r for r in rows(loan) if r.due_date > TODAY]
    assert len(new) == 12
    assert sum(r.principal_due for r in new) == outstanding
    assert {r.principal_due for r in new[:-1]} == {money(outstanding / 12)}
    assert new[0].interest_due == money(outstanding * D("0.055") / 12)
    assert (loan.rate, loan.repayment_method, loan.tenor_months) == (
        D("5.5"), "equal_principal", 17,
    )  # fmt: skip
    # Restructured: watched for a year from the first new due date (10 July), at least
    # special mention though nothing is late.
    assert loan.restructured_until == date(2027, 7, 10)
    assert (loan.days_past_due, loan.loan_class_auto, loan.loan_class) == (
        0, "special_mention", "special_mention",
    )  # fmt: skip


def test_a_restructuring_can_capitalise_what_is_overdue(book, users, clock):
    # Nothing paid since April: the instalments of 10 May and 10 June are overdue.
    loan = book_loan(graded(book["a_company"], "BBB"), pay_until=date(2026, 4, 30))
    assert loan.days_past_due == 36
    overdue = [r for r in rows(loan) if r.due_date <= TODAY and not r.paid_off_on]
    owed = sum(r.principal_due + r.interest_due for r in overdue)
    outstanding = sum(r.principal_due for r in rows(loan) if not r.paid_off_on)
    modification = request(loan, users["manager_a"], kind="restructuring",
                           extension_months=6, capitalise_overdue=True)  # fmt: skip
    decide(modification, users["lead"])
    loan.refresh_from_db()
    new = [r for r in rows(loan) if r.due_date > TODAY]
    overdue_interest = sum(r.interest_due for r in overdue)
    assert sum(r.principal_due for r in new) == outstanding + overdue_interest
    overdue_numbers = {r.number for r in overdue}
    assert all(r.paid_off_on == TODAY for r in rows(loan) if r.number in overdue_numbers)
    assert loan.days_past_due == 0 and loan.loan_class == "special_mention"
    modification.refresh_from_db()
    revision = modification.revision
    kept = {r["number"]: D(r["principal_due"]) + D(r["interest_due"]) for r in revision.rows}
    assert sum(kept[r.number] for r in overdue) == owed  # the old overdue rows kept too


def test_a_restructured_facility_in_arrears_is_at_least_substandard():
    frame = pl.DataFrame(
        {"days_past_due": [0, 5, 5, 0], "grade": ["A"] * 4, "alert_severities": [None] * 4,
         "override": [None] * 4, "restructured": [True, True, False, False]},
        schema_overrides={"alert_severities": pl.List(pl.String), "override": pl.String},
    )  # fmt: skip
    classes = loan_classes(frame, restructured_floor="special_mention",
                           restructured_arrears_floor="substandard")  # fmt: skip
    assert classes["auto_class"].to_list() == [
        "special_mention", "substandard", "special_mention", "normal",
    ]  # fmt: skip


def test_maker_checker_the_requester_may_not_decide(loan, users):
    modification = request(loan, users["lead"], extension_months=3)
    with pytest.raises(PermissionDenied, match=re.escape(str(modifications.MSG_MAKER))):
        decide(modification, users["lead"])
    with pytest.raises(PermissionDenied):  # an account manager approves nothing
        decide(modification, users["manager_a"])
    assert not ModificationVote.objects.exists()
    decide(modification, users["risk"])
    modification.refresh_from_db()
    assert modification.status == ModificationStatus.APPROVED


def test_the_authority_follows_the_outstanding_principal(book, users, clock):
    firm = graded(book["a_company"], "BBB")
    big = book_loan(firm, amount=2_000_000, pay_until=date(2026, 1, 1))
    modification = request(big, users["manager_a"], extension_months=6)
    with pytest.raises(PermissionDenied, match="1,000,000"):  # above the lead's authority
        decide(modification, users["lead"])
    decide(modification, users["risk"])
    assert FacilityModification.objects.get().status == ModificationStatus.APPROVED


def test_above_ten_million_a_risk_officer_and_an_executive_both_approve(book, users, clock):
    firm = graded(book["a_company"], "BBB")
    huge = book_loan(firm, amount=12_000_000, pay_until=date(2026, 1, 1))
    before = rows(huge)
    modification = request(huge, users["manager_a"], extension_months=6)
    decide(modification, users["risk"])
    modification.refresh_from_db()
    assert modification.status == ModificationStatus.PENDING and rows(huge) == before
    decide(modification, users["exec"])
    modification.refresh_from_db()
    assert modification.status == ModificationStatus.APPROVED
    assert sorted(modification.votes.values_list("role", flat=True)) == ["exec", "risk"]
    assert len(rows(huge)) == 18


def test_a_rejection_needs_a_reason_and_changes_nothing(loan, users):
    before = rows(loan)
    modification = request(loan, users["manager_a"], extension_months=6)
    with pytest.raises(ValidationError):
        decide(modification, users["lead"], vote="reject")
    decide(modification, users["lead"], vote="reject", note="还款来源不足")
    modification.refresh_from_db()
    assert modification.status == ModificationStatus.REJECTED and rows(loan) == before
    assert not ScheduleRevision.objects.exists()


@pytest.mark.parametrize(
    ("tenor", "allowed"),
    [(12, 12), (6, 6), (24, 12), (60, 30), (120, 36)],
)
def test_an_extension_is_limited_by_the_original_tenor(book, users, clock, tenor, allowed):
    """《贷款通则》第十二条: short-term by at most the tenor, medium-term by half of it,
    long-term by three years; checked when it is requested."""
    loan = book_loan(graded(book["a_company"], "AAA"), tenor=tenor,
                     pay_until=date(2026, 1, 1))  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        request(loan, users["manager_a"], extension_months=allowed + 1)
    assert refused.value.code == "extension_limit"
    assert request(loan, users["manager_a"], extension_months=allowed).pk


def test_extensions_count_together_against_the_limit(loan, users):
    decide(request(loan, users["manager_a"], extension_months=8), users["lead"])
    loan.refresh_from_db()
    said = str(modifications.MSG_EXTENSION_LIMIT) % {
        "tenor": 12, "max": 12, "before": 8, "months": 6,
    }  # fmt: skip
    with pytest.raises(ValidationError, match=re.escape(said)):
        request(loan, users["manager_a"], extension_months=6)
    assert request(loan, users["manager_a"], extension_months=4).pk


def test_requests_that_change_nothing_or_not_by_whole_periods_are_refused(loan, users):
    with pytest.raises(ValidationError):
        request(loan, users["manager_a"], kind="restructuring")
    with pytest.raises(ValidationError):
        request(loan, users["manager_a"], extension_months=0)
    with pytest.raises(ValidationError):  # an extension with a new rate is a restructuring
        request(loan, users["manager_a"], extension_months=3, new_rate=D(5))
    request(loan, users["manager_a"], extension_months=3)
    with pytest.raises(ValidationError, match=re.escape(str(modifications.MSG_PENDING_EXISTS))):
        request(loan, users["manager_a"], extension_months=3)


def test_the_new_terms_must_respect_the_grade_controls_unless_overridden(loan, users):
    # Grade BBB: at most 36 months, at least 3.0 % + 220 bp = 5.2 %.
    before = rows(loan)
    modification = request(loan, users["manager_a"], kind="restructuring",
                           extension_months=12, new_rate=D("4.8"))  # fmt: skip
    modification = FacilityModification.objects.get(pk=modification.pk)
    breaches = modifications.modification_breaches(modification, policy_current()[0])
    assert [b.code for b in breaches] == ["min_rate"]
    with pytest.raises(ValidationError, match=r"5\.2"):
        decide(modification, users["lead"])
    with pytest.raises(PermissionDenied):  # a lead may not override
        decide(modification, users["lead"], override_reason="战略客户")
    assert rows(loan) == before and not ModificationVote.objects.exists()
    decide(modification, users["risk"], override_reason="战略客户，风控同意")
    modification.refresh_from_db()
    assert modification.override_reason == "战略客户，风控同意"
    assert modification.votes.get().breaches[0]["code"] == "min_rate"


def test_the_tenor_control_counts_from_the_original_start(book, users, clock):
    loan = book_loan(graded(book["a_company"], "BB"), tenor=24, rate=D("6.5"),
                     pay_until=date(2026, 1, 1))  # fmt: skip
    modification = request(loan, users["manager_a"], extension_months=6)
    breaches = modifications.modification_breaches(modification, policy_current()[0])
    assert [b.code for b in breaches] == ["max_tenor"]  # 30 months > BB's 24
    assert "30" in breaches[0].message and "2026-01-10" in breaches[0].message


def test_the_webhooks_hear_of_the_request_and_the_decision(loan, users):
    Subscriber.objects.create(name="核心系统", url="http://127.0.0.1:9/hook")
    modification = request(loan, users["manager_a"], extension_months=6)
    decide(modification, users["lead"])
    events = list(Delivery.objects.order_by("pk").values_list("event", flat=True))
    assert events[-2:] == ["facility.modification_requested", "facility.modification_decided"]


# --- API ---------------------------------------------------------------------------------


def test_the_api_requests_lists_and_decides(client, loan, users, bearer):
    url = f"/api/v1/facilities/{loan.pk}/modifications"
    body = {"kind": "extension", "reason": "回款周期延长", "extension_months": 6}
    refused = client.post(url, body, content_type="application/json", **bearer(users["risk"]))
    assert refused.status_code == 403  # risk officers decide, the client's side asks
    hidden = client.post(url, body, content_type="application/json", **bearer(users["manager_b"]))
    assert hidden.status_code == 404
    too_long = client.post(url, {**body, "extension_months": 13}, content_type="application/json",
                           **bearer(users["manager_a"]))  # fmt: skip
    assert too_long.status_code == 422 and "12" in too_long.json()["detail"]
    created = client.post(url, body, content_type="application/json",
                          **bearer(users["manager_a"]))  # fmt: skip
    assert created.status_code == 201, created.content
    mod = created.json()
    outstanding = sum(r.principal_due for r in rows(loan) if r.due_date > TODAY)
    assert (mod["status"], D(mod["outstanding_principal"])) == ("pending", outstanding)
    listed = client.get(url, **bearer(users["lead"])).json()
    assert [m["id"] for m in listed] == [mod["id"]]
    assert client.get(url, **bearer(users["manager_b"])).status_code == 404

    decide_url = f"{url}/{mod['id']}/decide"
    before = rows(loan)
    for user, status in (("manager_a", 403), ("agent", 403), ("manager_b", 404)):
        response = client.post(decide_url, {"vote": "approve"}, content_type="application/json",
                               **bearer(users[user]))  # fmt: skip
        assert response.status_code == status, (user, response.content)
    assert rows(loan) == before and not ModificationVote.objects.exists()
    approved = client.post(decide_url, {"vote": "approve", "note": "同意"},
                           content_type="application/json", **bearer(users["lead"]))  # fmt: skip
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert approved.json()["votes"][0]["role"] == "lead"
    again = client.post(decide_url, {"vote": "approve"}, content_type="application/json",
                        **bearer(users["risk"]))  # fmt: skip
    assert again.status_code == 422


def test_a_control_breach_through_the_api_is_a_422_and_changes_nothing(client, loan, users, bearer):
    url = f"/api/v1/facilities/{loan.pk}/modifications"
    body = {"kind": "restructuring", "reason": "降低利率", "new_rate": "4.0"}
    created = client.post(url, body, content_type="application/json",
                          **bearer(users["manager_a"]))  # fmt: skip
    assert created.status_code == 201, created.content
    decide_url = f"{url}/{created.json()['id']}/decide"
    before = rows(loan)
    refused = client.post(decide_url, {"vote": "approve"}, content_type="application/json",
                          **bearer(users["risk"]))  # fmt: skip
    assert refused.status_code == 422 and "5.2" in refused.json()["detail"]
    lead = client.post(decide_url, {"vote": "approve", "override_reason": "战略客户"},
                       content_type="application/json", **bearer(users["lead"]))  # fmt: skip
    assert lead.status_code == 403
    loan.refresh_from_db()
    assert rows(loan) == before and loan.rate == D(6)
    assert FacilityModification.objects.get().status == "pending"
    assert not ModificationVote.objects.exists()


def test_an_application_below_the_rate_floor_is_refused_with_a_422_naming_it(
    client, book, users, bearer, clock
):
    """The breach message holds a "%" (the rate): the refusal must still read as a 422."""
    firm = graded(book["a_company"], "BBB")
    product = ProductFactory(code="MOD02", min_amount=D(100_000), min_rate=D(4))
    application = Application.objects.create(
        customer=firm, product=product, amount=D(500_000), tenor_months=12, rate=D("4.5"),
        guarantee_type="guarantee", margin_percent=D(5), stage=Stage.CREDIT_REVIEW,
        submitted_by=users["manager_a"],
    )  # fmt: skip
    response = client.post(
        f"/api/v1/applications/{application.pk}/stage", {"to_stage": "approved"},
        content_type="application/json", **bearer(users["risk"]),
    )  # fmt: skip
    assert response.status_code == 422, response.content
    # The pricing rule's floor: 3.0 % + 220 bp (BBB) less 10 bp of the manager's discretion.
    assert "5.1%" in response.json()["detail"]
    application.refresh_from_db()
    assert application.stage == Stage.CREDIT_REVIEW


def test_a_bullet_loan_is_extended_by_moving_its_one_payment(book, users, clock):
    loan = book_loan(graded(book["a_company"], "BBB"), method="bullet", pay_until=TODAY)
    decide(request(loan, users["manager_a"], extension_months=6), users["lead"])
    (row,) = rows(loan)
    # 120,000 at 6 % from 10 Jan 2026 to 10 Jul 2027: 540 days of 30/360, a year and a half.
    assert (row.due_date, row.principal_due, row.interest_due) == (
        date(2027, 7, 10), D(120_000), D("10800.00"),
    )  # fmt: skip
