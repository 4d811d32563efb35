"""Five-tier loan classification: rules from arrears and signals, a risk officer's stricter
class with a reason, audited, kept by later runs."""

import pytest
from django.urls import reverse

from fincrm.evaluation.choices import RunKind
from fincrm.evaluation.services import evaluation_run
from fincrm.financing.services import facility_refresh_delinquency
from fincrm.risk.models import Alert
from fincrm.testing.factories import FacilityFactory

from .conftest import AS_OF

pytestmark = pytest.mark.django_db


def test_arrears_set_the_class_and_an_open_high_alert_makes_a_clean_facility_special_mention(
    late_facility, book
):
    late = late_facility(10)
    facility_refresh_delinquency(facility=late, as_of=AS_OF)
    late.refresh_from_db()
    assert (late.days_past_due, late.loan_class) == (10, "special_mention")

    clean = FacilityFactory(customer=book["b_company"])
    Alert.objects.create(
        customer=book["b_company"], rule_code="utilisation_spike", signal="utilisation",
        value=0.99, threshold=0.9, severity="high", raised_on=AS_OF,
    )  # fmt: skip
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    clean.refresh_from_db()
    assert (clean.days_past_due, clean.loan_class_auto, clean.loan_class) == (
        0,
        "special_mention",
        "special_mention",
    )
    assert clean.history.first().history_change_reason.startswith("evaluation run")


def test_a_risk_officer_classifies_more_strictly_with_a_reason_and_it_is_audited(
    late_facility, book, users, login
):
    facility = late_facility(10)
    facility_refresh_delinquency(facility=facility, as_of=AS_OF)
    url = reverse("risk:facility_classify", args=[facility.pk])

    # A manager may not classify.
    assert (
        login(users["manager_a"]).post(url, {"loan_class": "loss", "reason": "x"}).status_code
        == 403
    )

    officer = login(users["risk"])
    # Not without a reason, and never better than the rules.
    officer.post(url, {"loan_class": "doubtful", "reason": ""})
    officer.post(url, {"loan_class": "normal", "reason": "paid yesterday"})
    facility.refresh_from_db()
    assert (facility.loan_class, facility.loan_class_override) == ("special_mention", "")

    response = officer.post(url, {"loan_class": "doubtful", "reason": "主要收入来源中断"})
    assert response.status_code == 302
    facility.refresh_from_db()
    assert (facility.loan_class, facility.loan_class_auto) == ("doubtful", "special_mention")
    record = facility.history.first()
    assert record.history_user == users["risk"] and record.loan_class == "doubtful"
    assert record.history_change_reason == "主要收入来源中断"

    # A later run keeps the stricter class; the 360° page says who set it and what the rules say.
    evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    facility.refresh_from_db()
    assert facility.loan_class == "doubtful"
    page = officer.get(book["a_company"].get_absolute_url()).content.decode()
    assert "主要收入来源中断" in page

    # Back to the rules.
    officer.post(url, {"loan_class": "", "reason": ""})
    facility.refresh_from_db()
    assert (facility.loan_class, facility.loan_class_override) == ("special_mention", "")


def test_the_portfolio_shows_classes_with_balances_and_overrides(late_facility, users, login):
    facility = late_facility(100)
    facility_refresh_delinquency(facility=facility, as_of=AS_OF)
    page = login(users["risk"]).get(reverse("risk:portfolio"))
    classes = {c["code"]: c for c in page.context["delinquency"]["classes"]}
    assert classes["substandard"]["n"] == 1
    assert classes["substandard"]["balance"] == facility.drawn_amount


def test_the_portfolio_figures_are_cached_until_a_facility_changes(late_facility, users, login):
    from django.core.cache import cache

    cache.clear()
    facility = late_facility(100)
    facility_refresh_delinquency(facility=facility, as_of=AS_OF)
    officer = login(users["risk"])
    first = officer.get(reverse("risk:portfolio")).context["delinquency"]
    again = officer.get(reverse("risk:portfolio")).context["delinquency"]
    assert again == first
    facility.refresh_from_db()
    facility_refresh_delinquency(facility=facility, as_of=AS_OF.replace(day=1))  # fewer days
    fresh = officer.get(reverse("risk:portfolio")).context["delinquency"]
    classes = {c["code"]: c["n"] for c in fresh["classes"]}
    assert classes["substandard"] == 0 and classes["special_mention"] == 1
