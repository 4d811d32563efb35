"""With a statistical scorecard in use, the expert rule still grades the clients it cannot
score (no credit history with us and no statement on file)."""

from datetime import date

import numpy as np
import polars as pl
import pytest

from fincrm.analytics.scorecard import Scorecard
from fincrm.evaluation.risk import SCORE_FEATURES
from fincrm.evaluation.services import evaluation_run
from fincrm.risk.choices import ScoreMethod
from fincrm.risk.models import CreditAssessment, ScorecardModel
from fincrm.testing.factories import CustomerFactory, FacilityFactory, StatementFactory

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


def _active_model() -> ScorecardModel:
    rng = np.random.default_rng(0)
    n = 600
    X = pl.DataFrame({f: rng.normal(0, 1, n) for f in SCORE_FEATURES})
    y = (rng.random(n) < 1 / (1 + np.exp(-(-2 + 1.5 * X["debt_to_asset"].to_numpy())))).astype(int)
    card = Scorecard(list(SCORE_FEATURES)).fit(X, y)
    return ScorecardModel.objects.create(
        observation_date=date(2025, 6, 30), params=card.to_dict(), features=list(SCORE_FEATURES),
        bins_table=card.points_table_.to_dicts(), score_reference={}, n_train=n,
        n_defaults=int(y.sum()), auc_train=card.auc_, is_active=True,
    )  # fmt: skip


def test_the_scorecard_grades_borrowers_and_firms_on_file_and_the_expert_rule_the_rest(users):
    model = _active_model()
    owner = users["manager_a"]
    borrower = FacilityFactory(customer__owner=owner, start_date=date(2025, 9, 1)).customer
    on_file = CustomerFactory(owner=owner)
    StatementFactory(customer=on_file, period_end=date(2025, 12, 31))
    stranger = CustomerFactory(owner=owner)  # no facility, no statement: a stranger to us

    evaluation_run(kind="full", as_of=AS_OF)

    latest = {
        a.customer_id: a
        for a in CreditAssessment.objects.filter(
            customer__in=[borrower, on_file, stranger]
        ).order_by("assessed_at", "pk")
    }
    assert latest[borrower.pk].method == ScoreMethod.SCORECARD
    assert latest[borrower.pk].model_id == model.pk
    assert latest[on_file.pk].method == ScoreMethod.SCORECARD
    stranger_assessment = latest[stranger.pk]
    assert stranger_assessment.method == ScoreMethod.EXPERT
    assert stranger_assessment.model_id is None
    # Its points are the expert card's and add up to its score.
    assert "base" in stranger_assessment.points and "debt_to_asset" not in (
        stranger_assessment.points
    )
    assert sum(stranger_assessment.points.values()) == pytest.approx(
        stranger_assessment.score, abs=0.5
    )
    assert "base" not in latest[borrower.pk].points
