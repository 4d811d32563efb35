"""The churn page says whether its probabilities are right (issue 21, point 4): the Brier
score before and after calibration and the reliability table of the out-of-time test."""

import numpy as np
import pytest
from django.urls import reverse

from fincrm.insights.services import _reliability
from fincrm.testing.factories.evaluation import ChurnModelReportFactory

pytestmark = pytest.mark.django_db


def test_the_reliability_rows_carry_the_mean_probability_before_calibration():
    y = np.array([0, 1, 0, 1])
    calibrated = np.array([0.12, 0.18, 0.55, 0.95])
    raw = np.array([0.01, 0.03, 0.90, 0.99])
    rows = _reliability(y, calibrated, raw)
    assert [(r["lower"], r["n"], r["events"]) for r in rows] == [(0.1, 2, 1), (0.5, 1, 0),
                                                                  (0.9, 1, 1)]  # fmt: skip
    assert [r["mean_raw"] for r in rows] == pytest.approx([0.02, 0.90, 0.99])
    assert [r["observed_rate"] for r in rows] == [0.5, 0.0, 1.0]


def test_the_churn_page_shows_the_brier_score_and_the_reliability_table(users, login):
    ChurnModelReportFactory(
        brier_raw=0.2988, brier=0.1947, calibration="platt",
        calibration_basis={"n": 47, "slope": 0.17, "intercept": -0.38, "scoring": {"n": 49}},
        reliability=[
            {"lower": 0.1, "upper": 0.2, "n": 22, "events": 3, "mean_predicted": 0.158,
             "observed_rate": 0.136, "mean_raw": 0.0005},
            {"lower": 0.6, "upper": 0.7, "n": 11, "events": 6, "mean_predicted": 0.671,
             "observed_rate": 0.545, "mean_raw": 0.9985},
        ],
    )  # fmt: skip
    page = login(users["exec"]).get(reverse("insights:churn"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert 'id="churn-brier">0.195<' in html and 'id="churn-brier-raw">0.299<' in html
    assert "Platt 缩放校准" in html and "47 位客户" in html and "49 位测试客户" in html
    table = html.split('id="churn-reliability"')[1].split("</table>")[0]
    assert table.count("<tr>") == 3  # the header and two bands
    assert "10% – 20%" in table and '<td class="num">22</td>' in table
    assert "15.8%" in table and "13.6%" in table and "0.1%" in table
    assert login(users["outsider"]).get(reverse("insights:churn")).status_code == 403


def test_an_uncalibrated_model_says_so(users, login):
    ChurnModelReportFactory(brier_raw=0.25, brier=0.25, calibration="", reliability=[])
    html = (
        login(users["risk"])
        .get(reverse("insights:churn"), HTTP_ACCEPT_LANGUAGE="zh-hans")
        .content.decode()
    )
    assert "未校准" in html and "没有测试客户。" in html
