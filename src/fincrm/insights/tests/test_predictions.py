from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import polars as pl
import pytest
from django.core.management import call_command
from django.urls import reverse
from polars.testing import assert_frame_equal

from fincrm.engagement.models import Interaction
from fincrm.financing.models import Application
from fincrm.insights.features import Book
from fincrm.insights.models import ChurnModelReport, Prediction, Recommendation
from fincrm.insights.services import predictions_run
from fincrm.testing.factories import FacilityFactory, ProductFactory

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 6, 30)


def test_the_churn_pipeline_trains_explains_and_sees_no_future_on_the_demo_book():
    # A thousand clients: the churn model learns from those with a facility to renew.
    call_command("demo-data", customers=1000, seed=11, as_of=AS_OF, reset=True,
                 stdout=StringIO(), stderr=StringIO())  # fmt: skip
    call_command("evaluate", full=True, as_of=AS_OF, stdout=StringIO(), stderr=StringIO())
    result = predictions_run(as_of=AS_OF)

    report = result.churn_report
    assert report is not None and report == ChurnModelReport.objects.first()
    assert report.test_cutoff == AS_OF - timedelta(days=report.horizon_days)
    assert report.train_cutoff <= report.test_cutoff - timedelta(days=report.horizon_days)
    assert report.auc is not None and 0.5 < report.auc <= 1
    # Calibrated out of time (issue 21, point 4): a Brier score before and after, and a
    # reliability table whose bands hold every test client.
    assert report.brier is not None and report.brier_raw is not None
    assert sum(band["n"] for band in report.reliability) == report.n_test
    if report.calibration:
        assert report.calibration_basis["n"] >= 20 and report.brier < report.brier_raw
    assert set(report.importance) == {
        "activity_trend", "balance_trend", "utilisation", "complaints_12m", "last_nps",
        "days_since_last_contact", "days_to_nearest_maturity", "competitor_mentions_12m",
        "tenure_days", "open_warnings", "max_dpd_12m",
    }  # fmt: skip
    risky = Prediction.objects.exclude(churn_probability=None).order_by("-churn_probability")[0]
    # Only clients with a facility maturing in the horizon are at risk, so only they are scored.
    assert 0 < Prediction.objects.exclude(churn_probability=None).count() < 1000
    reasons = risky.churn_reasons
    assert 1 <= len(reasons) <= 3 and all(r["contribution"] > 0 for r in reasons)
    assert Prediction.objects.count() == 1000
    assert Prediction.objects.exclude(clv=None).count() == result.with_clv > 0
    assert Recommendation.objects.count() == result.recommendations > 0

    # Leakage: history written on and after a cut-off moves no feature at that cut-off.
    cutoff = AS_OF - timedelta(days=200)
    before = Book.read(competitor_words=["他行"]).churn_features(cutoff)
    some = before["customer_id"][0]
    FacilityFactory(customer_id=some, start_date=cutoff, approved_limit=Decimal(9_000_000),
                    drawn_amount=Decimal(9_000_000))  # fmt: skip
    Interaction.objects.create(
        customer_id=some, channel="phone", subject="x", summary="他行利率更低",
        occurred_at=_aware(cutoff),
    )  # fmt: skip
    after = Book.read(competitor_words=["他行"]).churn_features(cutoff)
    # Equal up to float summation order (polars sums groups in parallel).
    assert_frame_equal(after, before, rel_tol=1e-12, abs_tol=1e-9)
    later = Book.read(competitor_words=["他行"]).churn_features(cutoff + timedelta(days=1))
    row = later.filter(pl.col("customer_id") == some).row(0, named=True)
    assert row["competitor_mentions_12m"] >= 1 and row["days_since_last_contact"] == 1


def _aware(day):
    from datetime import datetime, time

    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, time(10)))


def test_accepting_a_recommendation_opens_an_application_draft(book, users, login):
    firm = book["a_company"]
    product = ProductFactory(code="FCT01", name="保理融资")
    recommendation = Recommendation.objects.create(
        customer=firm, product=product, rank=1, score=0.4, reason_code="popular",
        reason_value={"share": 0.4, "holders": 4, "peers": 10}, suggested_amount=2_345_678,
    )  # fmt: skip
    url = reverse("insights:recommendation", args=[recommendation.pk, "accept"])
    assert login(users["manager_b"]).post(url).status_code == 404
    response = login(users["manager_a"]).post(url)
    application = Application.objects.get(customer=firm)
    assert response.status_code == 302 and application.product == product
    assert application.stage == "lead" and application.amount == Decimal("2346000")
    recommendation.refresh_from_db()
    assert recommendation.status == "accepted" and recommendation.application == application
    assert login(users["manager_a"]).post(url).status_code == 404  # decided once


def test_retention_visits_go_to_valuable_clients_at_risk_once_a_quarter(users):
    """Core and key clients at or above the policy's churn probability get a retention visit
    from their manager, once per client and quarter whatever became of the first one; an
    ordinary client at risk and a key client below the threshold get none."""
    from django.utils import timezone

    from fincrm.analytics.policy import default_policy
    from fincrm.engagement.models import Task
    from fincrm.evaluation.models import Classification
    from fincrm.insights.services import _retention_tasks
    from fincrm.testing.factories import CustomerFactory

    clients = {}
    for name, tier in (("core", "core"), ("key", "key"), ("ordinary", "ordinary"),
                       ("calm", "key")):  # fmt: skip
        c = clients[name] = CustomerFactory(owner=users["manager_a"])
        Classification.objects.create(
            customer=c, tier=tier, tier_since=timezone.now(), value_score=50.0, grade="BBB",
            size_band="small", lifecycle="active", segments=[], evaluated_at=timezone.now(),
        )  # fmt: skip
    scored = pl.DataFrame({
        "customer_id": [clients[n].pk for n in ("core", "key", "ordinary", "calm")],
        "churn_probability": [0.81, 0.5, 0.9, 0.2],
    })  # fmt: skip
    rules = default_policy().prediction
    assert (rules.retention_min_probability, rules.retention_min_tier) == (0.5, "key")

    assert _retention_tasks(scored, rules, AS_OF) == 2
    tasks = Task.objects.filter(source_key="retention:2026Q2").order_by("customer_id")
    assert [(t.customer_id, t.owner_id, t.kind, t.priority, t.detail, t.due_on, t.status)
            for t in tasks] == [
        (clients["core"].pk, users["manager_a"].pk, "visit", "high", "81%",
         AS_OF + timedelta(days=7), "open"),
        (clients["key"].pk, users["manager_a"].pk, "visit", "high", "50%",
         AS_OF + timedelta(days=7), "open"),
    ]  # fmt: skip
    tasks.update(status="done")
    assert _retention_tasks(scored, rules, AS_OF - timedelta(days=1)) == 0
    assert _retention_tasks(scored, rules, date(2026, 7, 1)) == 2  # the next quarter
