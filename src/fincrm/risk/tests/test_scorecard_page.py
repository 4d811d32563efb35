"""The model report: training from the page, quality, bins and stability; expert fallback."""

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from fincrm.evaluation.choices import RunKind
from fincrm.evaluation.services import evaluation_run, policy_active, policy_publish
from fincrm.financing.models import Installment
from fincrm.risk.choices import ScoreMethod
from fincrm.risk.models import CreditAssessment, ScorecardModel
from fincrm.testing.factories import (
    CustomerFactory,
    FacilityFactory,
    StatementFactory,
    monthly_schedule,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(users):
    """150 firms with a facility a year ago; the more leveraged ones stopped paying after
    the observation date (90+ days past due today), the others paid everything on time."""
    today = timezone.localdate()
    observation = today - timedelta(days=365)
    start = (observation - timedelta(days=200)).replace(day=10)
    rng = np.random.default_rng(11)
    defaulted = 0
    for i in range(150):
        leverage = 0.3 + 0.6 * i / 149
        firm = CustomerFactory(owner=users["manager_a"])
        StatementFactory(
            customer=firm,
            # On file at every observation date training pools (the latest a year back).
            period_end=start - timedelta(days=365),
            total_assets=Decimal("100000000"),
            total_liabilities=Decimal(int(leverage * 100_000_000)),
        )
        facility = FacilityFactory(customer=firm, start_date=start, tenor_months=24,
                                   maturity_date=start + timedelta(days=730))  # fmt: skip
        monthly_schedule(facility, months=24, principal=Decimal("100000"), interest=Decimal("5000"))
        default = rng.random() < 1 / (1 + np.exp(-(-4 + 7 * (leverage - 0.3))))
        defaulted += default
        stop = observation if default else today
        Installment.objects.filter(facility=facility, due_date__lte=stop).update(
            paid_off_on=models_f("due_date"), amount_paid=Decimal("105000")
        )
    config = policy_active().config
    config["scorecard"]["min_defaults"] = 10
    policy_publish(config=config, note="small book")
    return defaulted


def models_f(name):
    from django.db.models import F

    return F(name)


def test_without_a_model_the_page_shows_the_expert_scorecard_of_the_policy(book, users, login):
    page = login(users["manager_a"]).get(reverse("risk:scorecard"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="expert-fallback"' in html and "每逾期一天增加的对数几率" in html
    assert "Train now" not in html and "训练" not in html  # a manager may not train


def test_a_risk_officer_trains_from_the_page_and_sees_quality_bins_and_stability(
    history, users, login
):
    assert history >= 20  # the fixture really has defaults to learn from
    # A manager cannot train.
    assert login(users["manager_a"]).post(reverse("risk:scorecard")).status_code == 403
    assert not ScorecardModel.objects.exists()

    officer = login(users["risk"])
    response = officer.post(reverse("risk:scorecard"), follow=True)
    assert response.status_code == 200
    model = ScorecardModel.objects.get(is_active=True)
    assert model.trained_by == users["risk"]
    assert model.n_defaults >= 10 and model.auc_train > 0.7
    # Leverage is what separates; arrears were nil for every client before: not selected.
    assert "debt_to_asset" in {b["feature"] for b in model.bins_table}
    assert model.params["selection"]["debt_to_asset"] == "kept"
    assert model.params["selection"]["max_dpd_12m"] == "low_iv"
    leverage = [b for b in model.bins_table if b["feature"] == "debt_to_asset" and b["count"]]
    assert len(leverage) >= 2  # leverage separates the defaulters: more than one bin
    assert sum(model.score_reference["shares"]) == pytest.approx(1)

    # The next run scores with the model; the page then compares today with training.
    evaluation_run(kind=RunKind.FULL)
    assert CreditAssessment.objects.filter(method=ScoreMethod.SCORECARD, model=model).exists()
    html = officer.get(reverse("risk:scorecard")).content.decode()
    markers = ('id="metrics"', 'id="bins-table"', 'id="psi-bands"', 'id="psi-verdict"')
    for marker in (*markers, 'id="selection-table"'):
        assert marker in html
    assert "Gini" in html and "KS" in html


def test_training_with_too_little_history_changes_nothing_and_says_why(book, users, login):
    response = login(users["risk"]).post(reverse("risk:scorecard"), follow=True)
    assert response.status_code == 200
    assert not ScorecardModel.objects.exists()
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and "defaults" in messages[0]
