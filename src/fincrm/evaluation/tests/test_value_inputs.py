"""The value inputs read from the book: demand from the latest prediction run, share of
wallet from statements, real renewals, satisfaction; unknown ones stay null (and the tiering
reports them)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from fincrm.evaluation.features import load_features
from fincrm.insights.models import Prediction
from fincrm.surveys.models import Invitation, Response, Survey
from fincrm.testing.factories import CustomerFactory, FacilityFactory, StatementFactory

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


def _answer(customer, score: int, when: datetime, cause: str) -> None:
    survey, _ = Survey.objects.get_or_create(name="满意度", defaults={"trigger": "manual"})
    invitation = Invitation.objects.create(
        survey=survey, customer=customer, token_hash=cause.ljust(64, "0"), channel="sms",
        cause=cause, expires_at=when + timedelta(days=30),
    )  # fmt: skip
    Response.objects.create(invitation=invitation, customer=customer, submitted_at=when,
                            nps_score=score)  # fmt: skip


def test_demand_wallet_renewals_and_satisfaction_come_from_the_book(users):
    owner = users["manager_a"]
    firm = CustomerFactory(owner=owner)
    quiet = CustomerFactory(owner=owner)
    # Two facilities, the second starting a month before the first matures: one renewal.
    FacilityFactory(customer=firm, start_date=date(2024, 8, 1), drawn_amount=Decimal(0),
                    approved_limit=Decimal(1_000_000), maturity_date=date(2025, 8, 1))  # fmt: skip
    FacilityFactory(customer=firm, start_date=date(2025, 7, 1), drawn_amount=Decimal(2_000_000),
                    approved_limit=Decimal(3_000_000), maturity_date=date(2026, 7, 1))  # fmt: skip
    # Total liabilities of 8M on the latest statement: our 2M is a quarter of the wallet.
    StatementFactory(customer=firm, period_end=date(2024, 12, 31),
                     total_liabilities=Decimal(20_000_000))  # fmt: skip
    StatementFactory(customer=firm, period_end=date(2025, 12, 31),
                     total_liabilities=Decimal(8_000_000))  # fmt: skip
    Prediction.objects.create(
        customer=firm,
        computed_at=datetime(2026, 6, 29, tzinfo=UTC),
        next_need_on=AS_OF + timedelta(days=40),
        need_confidence="medium",
    )
    Prediction.objects.create(customer=quiet, computed_at=datetime(2026, 6, 29, tzinfo=UTC))
    _answer(firm, 6, datetime(2025, 11, 1, tzinfo=UTC), "a")
    _answer(firm, 9, datetime(2026, 5, 1, tzinfo=UTC), "b")
    _answer(firm, 2, datetime(2026, 7, 5, tzinfo=UTC), "c")  # after the run's day: unseen

    frame = load_features(as_of=AS_OF, customer_ids=[firm.pk, quiet.pk]).sort("customer_id")
    row, other = frame.rows(named=True)
    assert row["predicted_demand"] == pytest.approx(0.7)  # medium confidence, within 180 days
    assert row["share_of_wallet"] == pytest.approx(0.25)
    assert row["renewals"] == 1
    assert row["last_nps"] == 9
    # Predicted with no need foreseen: demand 0 (known); no statement, no survey: unknown.
    assert other["predicted_demand"] == 0
    assert other["share_of_wallet"] is None and other["last_nps"] is None
    assert other["renewals"] == 0


def test_without_a_prediction_run_demand_is_unknown(users):
    firm = CustomerFactory(owner=users["manager_a"])
    row = load_features(as_of=AS_OF, customer_ids=[firm.pk]).row(0, named=True)
    assert row["predicted_demand"] is None
