"""Event attendance in the value tiering's loyalty score: the share of the last 12 months'
invitations a client came to, a small weight; a client never invited keeps its score."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from fincrm.analytics.policy import default_policy
from fincrm.analytics.tiering import score_customers
from fincrm.evaluation.features import load_features
from fincrm.events.models import Event, Invitee
from fincrm.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


def _event(organiser, day: date) -> Event:
    return Event.objects.create(
        kind="forum", title="投资者论坛", place="北京", capacity=50, organiser=organiser,
        starts_at=datetime(day.year, day.month, day.day, 6, tzinfo=UTC),
    )  # fmt: skip


def test_attendance_is_the_share_of_the_years_invitations_checked_in(users):
    owner = users["manager_a"]
    keen, absent, never = (CustomerFactory(owner=owner) for _ in range(3))
    this_year = [_event(owner, date(2026, 3, 1)), _event(owner, date(2026, 5, 1))]
    too_old, later = _event(owner, date(2025, 6, 1)), _event(owner, date(2026, 7, 15))
    for event in (*this_year, too_old, later):
        for customer in (keen, absent):
            Invitee.objects.create(event=event, customer=customer)
    Invitee.objects.filter(customer=keen, event__in=[this_year[0], too_old, later]).update(
        checked_in_at=datetime(2026, 3, 1, 7, tzinfo=UTC)
    )
    frame = load_features(as_of=AS_OF).filter(pl.col("customer_id").is_in([keen.pk, absent.pk,
                                                                           never.pk]))  # fmt: skip
    values = dict(zip(frame["customer_id"], frame["event_attendance"], strict=True))
    assert values == {keen.pk: 0.5, absent.pk: 0.0, never.pk: None}


def _row(**kw) -> dict:
    base = {
        "customer_id": 1, "tenure_days": 900, "interest_income_12m": 50_000.0,
        "fee_income_12m": 2_000.0, "balance": 1_000_000.0, "approved_limit": 2_000_000.0,
        "revenue": 10_000_000.0, "revenue_growth": 0.1, "debt_to_asset": 0.5,
        "current_ratio": 1.5, "industry": "manufacturing", "renewals": 1, "product_count": 1,
        "share_of_wallet": 0.3, "interactions_12m": 4, "successful_interactions_12m": 3,
        "max_dpd_12m": 0, "current_dpd": 0, "open_warnings": 0, "credit_grade": None,
        "days_since_last_application": 100, "days_since_last_transaction": 20,
        "has_facility": True, "company_age_years": 8.0, "age_years": None,
        "predicted_demand": None, "last_nps": 8.0,
    }  # fmt: skip
    return {**base, **kw}


def test_attendance_moves_the_loyalty_score_a_little_and_not_invited_changes_nothing():
    policy = default_policy()
    before = score_customers(pl.DataFrame([_row()]), policy)
    rows = [_row(customer_id=1, event_attendance=None), _row(customer_id=2, event_attendance=1.0),
            _row(customer_id=3, event_attendance=0.0)]  # fmt: skip
    scored = score_customers(pl.DataFrame(rows), policy).sort("customer_id")
    loyalty = scored["loyalty"].to_list()
    assert loyalty[0] == pytest.approx(before["loyalty"][0])
    assert loyalty[2] < loyalty[0] < loyalty[1]
    # The weight is small: coming to every event against none moves loyalty by under 10 points.
    assert loyalty[1] - loyalty[2] < 10
    codes = [r["code"] for r in scored["reasons"][0]]
    assert not any("event" in code for code in codes)  # not invited: no "missing" reason
