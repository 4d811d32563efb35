"""Lifetime value of the whole relationship and the demand back-test, through the prediction
run and the pages (issue 21, points 6 and 7)."""

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from fincrm.financing.models import Installment
from fincrm.insights.models import DemandBacktest, Prediction
from fincrm.insights.services import predictions_run
from fincrm.risk.models import CreditAssessment
from fincrm.testing.factories import FacilityFactory

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 6, 15)  # the clock fixture's today


def _assessed(customer, day, pd):
    when = timezone.make_aware(datetime.combine(day, time(9)))
    return CreditAssessment.objects.create(
        customer=customer, assessed_at=when, method="expert", score=600, pd=pd, grade="BB"
    )


def _running_book(firm):
    """A facility with one instalment behind it and two a year apart ahead (hand-valued in
    the test: policy defaults — funding at the 3 % base rate, discounting at 10 %)."""
    facility = FacilityFactory(
        customer=firm, start_date=date(2025, 6, 15), maturity_date=date(2028, 6, 14),
        approved_limit=Decimal(1_000_000), drawn_amount=Decimal(1_000_000),
    )  # fmt: skip
    rows = [
        (1, date(2026, 6, 15), 0, 35_000, 0),  # due on as_of: not still to come
        (2, date(2027, 6, 15), 600_000, 40_000, 2_000),
        (3, date(2028, 6, 14), 400_000, 20_000, 0),
    ]
    Installment.objects.bulk_create(
        Installment(facility=facility, number=n, due_date=due, principal_due=Decimal(p),
                    interest_due=Decimal(i), fee_due=Decimal(f))
        for n, due, p, i, f in rows
    )  # fmt: skip
    return facility


def test_the_prediction_run_values_the_running_book_and_the_future_drawdowns(book, clock):
    firm = book["a_company"]
    _running_book(firm)
    _assessed(firm, date(2026, 1, 10), 0.5)
    _assessed(firm, date(2026, 6, 1), 0.2)  # the latest counts
    _assessed(firm, date(2026, 6, 16), 0.9)  # after as_of: unseen

    predictions_run(as_of=AS_OF)

    p = Prediction.objects.get(customer=firm)
    # Year 1: 40,000 + 2,000 − 3 % of 1,000,000 = 12,000; year 2: 20,000 − 3 % of 400,000
    # = 8,000. Weighted by (1 − 0.2)^t and discounted at 1.1^t: 12,000 × 0.8 / 1.1 +
    # 8,000 × 0.64 / 1.21.
    assert p.clv_running == pytest.approx(12_000 * 0.8 / 1.1 + 8_000 * 0.64 / 1.21)  # 12,958.68
    assert p.clv_basis == {
        "pd": 0.2, "funding_rate": 0.03, "discount_rate": 0.1, "margin": pytest.approx(20_000),
        "instalments": 2,
    }  # fmt: skip
    assert p.clv == pytest.approx(p.clv_running + (p.clv_drawdowns or 0))
    others = Prediction.objects.exclude(customer=firm)
    assert others.count() == 3 and not others.exclude(clv_running=None).exists()
    # The back-test reported one window (90 days) before as_of: one row per level present,
    # for the calibrated levels and for the rules alone; a single drawdown in the book and
    # none before the cut-offs: no kind of forecast was tested.
    assert set(DemandBacktest.objects.filter(basis__in=("calibrated", "rule")).values_list(
        "cutoff", "window_days")) == {(date(2026, 3, 17), 90)}  # fmt: skip
    assert set(DemandBacktest.objects.values_list("basis", flat=True)) == {"calibrated", "rule"}


def test_the_360_page_shows_both_parts_of_the_lifetime_value_in_chinese(book, users, login):
    firm = book["a_company"]
    Prediction.objects.create(
        customer=firm, computed_at=timezone.now(), clv=1_234_567, clv_running=1_000_000,
        clv_drawdowns=234_567, expected_transactions=0.5, prob_alive=0.9,
        clv_basis={"pd": 0.0123, "funding_rate": 0.03, "discount_rate": 0.1,
                   "margin": 1_500_000, "instalments": 12},
    )  # fmt: skip

    page = login(users["manager_a"]).get(firm.get_absolute_url()).content.decode()

    assert "123.5 万元" in page  # the whole relationship
    assert 'id="clv-running">运行中授信: 100.0 万元' in page
    assert 'id="clv-drawdowns">未来提款: 23.5 万元' in page
    assert "剩余 12 期尚未收取的利息和费用，扣除年化 3.0% 的资金成本后为 150.0 万元" in page
    assert "年违约概率 PD 1.23%" in page and "按年 10.0% 贴现" in page
    assert login(users["manager_b"]).get(firm.get_absolute_url()).status_code == 404


def test_the_demand_page_shows_how_often_each_level_came_true(users, login):
    now = timezone.now()
    for basis, reason, rule, level, n, hits in [
        ("calibrated", "", "", "high", 40, 30),
        ("calibrated", "", "", "low", 20, 2),
        ("calibrated", "", "", "", 400, 16),
        ("rule", "", "", "low", 60, 32),
        ("levels", "maturity", "medium", "high", 130, 80),
        ("levels", "single_drawdown", "low", "low", 27, 1),
    ]:
        DemandBacktest.objects.create(
            computed_at=now, cutoff=date(2026, 3, 17), window_days=90, basis=basis,
            reason=reason, rule_confidence=rule, confidence=level, predictions=n,
            came_true=hits,
        )  # fmt: skip

    page = login(users["manager_a"]).get(reverse("insights:demand")).content.decode()

    table = page[page.index('id="demand-backtest"') :]
    assert "预测兑现情况" in table and "2026-03-17" in table and "90 天内提款" in table
    assert '<td>高</td><td class="num">40</td><td class="num">30</td>' in table
    assert "75.0%" in table and "10.0%" in table and "4.0%" in table
    assert "未预计在窗口内提款的客户（基准比例）" in table
    assert "53.3%" not in table  # the rules-alone rows are not the ones shown
    kinds = page[page.index('id="demand-levels"') :]
    assert "兑现比例达到 60% 为高置信度，达到 30% 为中" in table
    assert ("<td>到期续贷</td><td>中</td><td class=\"num\">130</td><td class=\"num\">80</td>"
            "<td class=\"num\">61.5%</td><td>高</td>") in kinds  # fmt: skip
    assert "仅一次提款（默认周期）" in kinds and "3.7%" in kinds
    assert login(users["outsider"]).get(reverse("insights:demand")).status_code in (403, 404)
