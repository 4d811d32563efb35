"""The risk portfolio reads its figures, and the key they are cached under, on the
``reporting`` database (the read replica); a reclassification is written on the primary."""

import pytest
from django.urls import reverse

from fincrm.financing.services import facility_refresh_delinquency

from .conftest import AS_OF

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "reporting"])


def _touching(queries: list[str], table: str) -> list[str]:
    return [sql for sql in queries if f'"{table}"' in sql]


def test_the_portfolio_reads_on_the_replica_and_a_reclassification_on_the_primary(
    late_facility, users, login, replica
):
    facility = late_facility(100)
    facility_refresh_delinquency(facility=facility, as_of=AS_OF)
    officer = login(users["risk"])
    with replica() as seen:
        page = officer.get(reverse("risk:portfolio"))
    classes = {c["code"]: c for c in page.context["delinquency"]["classes"]}
    assert classes["substandard"]["n"] == 1
    assert classes["substandard"]["balance"] == facility.drawn_amount
    for table in ("financing_facility", "financing_installment", "evaluation_evaluationrun"):
        assert _touching(seen["reporting"], table), table
        assert not _touching(seen["default"], table), table
    assert any(
        "GROUP BY" in sql.upper() for sql in _touching(seen["reporting"], "financing_facility")
    )

    with replica() as seen:
        officer.post(
            reverse("risk:facility_classify", args=[facility.pk]),
            {"loan_class": "doubtful", "reason": "担保人失联"},
        )
    assert seen["reporting"] == []
    assert _touching(seen["default"], "financing_facility")
    # The key is read where the figures are: the change shows on the next visit.
    fresh = officer.get(reverse("risk:portfolio")).context["delinquency"]
    assert {c["code"]: c["n"] for c in fresh["classes"]}["doubtful"] == 1


def test_a_manager_sees_only_own_facilities_on_the_replica(late_facility, users, login, replica):
    facility_refresh_delinquency(facility=late_facility(100), as_of=AS_OF)
    for who, expected in (("manager_a", 1), ("manager_b", 0)):
        page = login(users[who]).get(reverse("risk:portfolio"))
        assert sum(c["n"] for c in page.context["delinquency"]["classes"]) == expected, who
