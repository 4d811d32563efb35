"""The prediction run reads the row sets a range of clients at a time (issue 23, point 4):
any cut of the book into ranges predicts what one read of the whole book does."""

from datetime import date
from io import StringIO

import polars as pl
import pytest
from django.core.management import call_command
from polars.testing import assert_frame_equal

from fincrm.insights import services
from fincrm.insights.models import ChurnModelReport, Prediction, Recommendation
from fincrm.insights.services import client_ranges, predictions_run

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 6, 30)


def test_client_ranges_hold_the_same_number_of_clients_whatever_the_gaps_in_ids():
    ids = pl.Series([13, 1, 2, 3, 5, 8, 21])
    assert client_ranges(ids, 3) == [range(1, 5), range(5, 21), range(21, 22)]
    assert client_ranges(ids, 100) == [range(1, 22)]
    assert client_ranges(pl.Series([], dtype=pl.Int64), 3) == []


def _predicted(monkeypatch, chunk: int) -> tuple[pl.DataFrame, pl.DataFrame, tuple]:
    monkeypatch.setattr(services, "PREDICT_CHUNK_CLIENTS", chunk)
    result = predictions_run(as_of=AS_OF)
    assert result.churn_report is not None
    report = ChurnModelReport.objects.order_by("-pk").first()
    predictions = pl.DataFrame(
        [
            {**row, "churn_reasons": [r["feature"] for r in row["churn_reasons"]]}
            for row in Prediction.objects.order_by("customer_id").values(
                "customer_id", "expected_transactions", "prob_alive", "clv", "clv_running",
                "clv_drawdowns", "churn_probability", "churn_reasons", "next_need_on",
                "next_need_amount", "need_confidence",
            )
        ],
        infer_schema_length=None,
    )  # fmt: skip
    recommendations = pl.DataFrame(
        list(Recommendation.objects.order_by("customer_id", "rank").values_list(
            "customer_id", "product_id", "rank", "score")),
        schema=["customer_id", "product_id", "rank", "score"], orient="row",
    )  # fmt: skip
    return predictions, recommendations, (report.n_train, report.n_test, report.auc)


def test_a_run_in_ranges_of_clients_predicts_what_one_range_does(monkeypatch):
    call_command("demo-data", customers=1000, seed=11, as_of=AS_OF, reset=True,
                 stdout=StringIO(), stderr=StringIO())  # fmt: skip
    call_command("evaluate", full=True, as_of=AS_OF, stdout=StringIO(), stderr=StringIO())

    whole = _predicted(monkeypatch, chunk=10**9)
    ranges = _predicted(monkeypatch, chunk=37)

    assert whole[0].height == 1000 and whole[0]["churn_probability"].is_not_null().sum() > 0
    # Equal up to float summation order (polars sums groups in parallel).
    assert_frame_equal(ranges[0], whole[0], rel_tol=1e-9, abs_tol=1e-9)
    assert_frame_equal(ranges[1], whole[1], rel_tol=1e-9, abs_tol=1e-9)
    assert ranges[2][:2] == whole[2][:2] and ranges[2][2] == pytest.approx(whole[2][2])


def test_a_book_without_clients_predicts_nothing():
    result = predictions_run(as_of=AS_OF)
    assert result.clients == 0 and not Prediction.objects.exists()
