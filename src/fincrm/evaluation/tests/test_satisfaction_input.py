"""Satisfaction in the value tiering is the latest survey's (issue 21, point 5): its NPS
answer, else its overall CSAT rating on the same 0–10 scale; later surveys are unseen."""

from datetime import UTC, date, datetime, timedelta

import pytest

from fincrm.evaluation.features import load_features
from fincrm.surveys.models import Invitation, Response, Survey
from fincrm.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


def _answer(customer, when: datetime, cause: str, *, nps=None, rating=None) -> None:
    survey, _ = Survey.objects.get_or_create(name="满意度", defaults={"trigger": "manual"})
    invitation = Invitation.objects.create(
        survey=survey, customer=customer, token_hash=f"{customer.pk}{cause}".ljust(64, "0"),
        channel="sms", cause=cause, expires_at=when + timedelta(days=30),
    )  # fmt: skip
    Response.objects.create(invitation=invitation, customer=customer, submitted_at=when,
                            nps_score=nps, rating=rating)  # fmt: skip


def test_the_latest_survey_gives_satisfaction_by_nps_else_by_its_rating(users):
    owner = users["manager_a"]
    rated_later, rated_only, nps_only, never = (CustomerFactory(owner=owner) for _ in range(4))
    # NPS 9 in May, then a CSAT-only survey rated 2 of 5 on the same afternoon as another
    # earlier one: the latest wins, (2 − 1) / 4 · 10 = 2.5; the last NPS answer stays 9.
    _answer(rated_later, datetime(2026, 5, 1, 2, tzinfo=UTC), "a", nps=9)
    _answer(rated_later, datetime(2026, 6, 1, 6, 0, 0, tzinfo=UTC), "b", rating=5)
    _answer(rated_later, datetime(2026, 6, 1, 6, 0, 0, 250_000, tzinfo=UTC), "c", rating=2)
    _answer(rated_later, datetime(2026, 7, 2, tzinfo=UTC), "d", nps=0)  # after the run's day
    # Rated 4 of 5 only: (4 − 1) / 4 · 10 = 7.5, no NPS answer.
    _answer(rated_only, datetime(2026, 3, 1, tzinfo=UTC), "a", rating=4)
    # Both on one survey: the NPS answer.
    _answer(nps_only, datetime(2026, 4, 1, tzinfo=UTC), "a", nps=6, rating=5)

    ids = [c.pk for c in (rated_later, rated_only, nps_only, never)]
    rows = {
        r["customer_id"]: r for r in load_features(as_of=AS_OF, customer_ids=ids).rows(named=True)
    }
    assert (rows[rated_later.pk]["satisfaction"], rows[rated_later.pk]["last_nps"]) == (2.5, 9)
    assert rows[rated_only.pk]["satisfaction"] == 7.5 and rows[rated_only.pk]["last_nps"] is None
    assert (rows[nps_only.pk]["satisfaction"], rows[nps_only.pk]["last_nps"]) == (6, 6)
    assert rows[never.pk]["satisfaction"] is None
