"""The staff scorecard's scoring table and the asset-quality measure, on small exact data."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from fincrm.analytics.incentive import arrears_share, score_staff
from fincrm.analytics.policy import IncentiveMeasure, PolicyConfig, StaffIncentive


def _scheme() -> StaffIncentive:
    return StaffIncentive(
        measures={
            "contacts": IncentiveMeasure(weight=0.5, target=40),
            "complaints": IncentiveMeasure(weight=0.25, target=1, lower_is_better=True),
            "nps": IncentiveMeasure(weight=0.25, target=40),
        },
        cap=1.2,
    )


def test_each_measure_against_its_target_capped_and_weighted():
    measures = pl.DataFrame(
        {
            "staff_id": [1, 2, 3],
            "contacts": [20, 60, None],
            "complaints": [0, 3, None],
            "nps": [50.0, None, None],
        }
    )
    out = {row["staff_id"]: row for row in score_staff(measures, _scheme()).iter_rows(named=True)}
    first, second, nobody = out[1], out[2], out[3]
    # 20 of 40 contacts: half; no complaint: 2, capped at 1.2; NPS 50 of 40: 1.25, capped.
    assert first["contacts_attainment"] == pytest.approx(0.5)
    assert first["complaints_attainment"] == pytest.approx(1.2)
    assert first["nps_attainment"] == pytest.approx(1.2)
    assert first["contacts_points"] == pytest.approx(25.0)
    assert first["complaints_points"] == pytest.approx(30.0)
    assert first["nps_points"] == pytest.approx(30.0)
    assert first["score"] == pytest.approx(85.0)
    assert first["missing"] == []
    # Three complaints against a target of one: 2 − 3 floored at 0. No NPS answer: its weight
    # is shared among contacts and complaints (0.5 / 0.75 of the score on contacts).
    assert second["complaints_attainment"] == 0.0
    assert second["contacts_points"] == pytest.approx(1.2 * 0.5 / 0.75 * 100)
    assert second["nps_points"] is None
    assert second["score"] == pytest.approx(80.0)
    assert second["missing"] == ["nps"]
    assert nobody["score"] is None
    assert nobody["missing"] == ["contacts", "complaints", "nps"]


def test_the_best_score_comes_first_and_no_data_last():
    measures = pl.DataFrame(
        {
            "staff_id": [7, 8, 9],
            "contacts": [None, 10, 40],
            "complaints": [None, 1, 1],
            "nps": [None, 40.0, 40.0],
        }
    )
    table = score_staff(measures, _scheme())
    assert table["staff_id"].to_list() == [9, 8, 7]
    # On every target: 100 points; a quarter of the contacts: 0.25 × 50 + 25 + 25.
    assert table["score"].to_list()[:2] == pytest.approx([100.0, 62.5])


def test_a_measure_with_no_weight_is_not_asked_for():
    scheme = StaffIncentive(
        measures={
            "contacts": IncentiveMeasure(weight=1, target=10),
            "nps": IncentiveMeasure(weight=0, target=40),
        }
    )
    table = score_staff(pl.DataFrame({"staff_id": [1], "contacts": [5]}), scheme)
    assert "nps" not in table.columns
    assert table["score"].to_list() == [50.0]


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="complaints, nps"):
        score_staff(pl.DataFrame({"staff_id": [1], "contacts": [5]}), _scheme())


def test_a_scheme_without_any_weight_is_refused():
    with pytest.raises(ValueError, match="at least one measure"):
        StaffIncentive(measures={"contacts": IncentiveMeasure(weight=0, target=1)})


def test_the_default_policy_scores_every_measure():
    scheme = PolicyConfig().staff_incentive
    assert sum(m.weight for m in scheme.measures.values()) == pytest.approx(1.0)
    row = {m: [rule.target] for m, rule in scheme.measures.items()}
    table = score_staff(pl.DataFrame({"staff_id": [1], **row}), scheme)
    assert table["score"].to_list() == [pytest.approx(100.0)]


def test_arrears_share_weighs_the_book_by_balance_on_the_day():
    as_of = date(2026, 5, 31)
    facilities = pl.DataFrame(
        {
            "facility_id": [1, 2, 3, 4],
            "manager_id": [10, 10, 10, 20],
            "balance": [300.0, 100.0, 500.0, 200.0],
        }
    )
    installments = pl.DataFrame(
        {
            "facility_id": [1, 1, 2, 3, 4],
            # 1: due 2026-04-30 (31 days before) unpaid → late; 2: due 05-02 (29 days) unpaid →
            # open, not late; 3: paid off before the day → not in the book; 4: paid off after
            # the day, due 04-01 → late on the day.
            "due_date": [
                date(2026, 4, 30),
                date(2026, 6, 30),
                date(2026, 5, 2),
                date(2026, 3, 1),
                date(2026, 4, 1),
            ],
            "paid_off_on": [None, None, None, date(2026, 3, 1), date(2026, 6, 10)],
        }
    )
    out = arrears_share(facilities, installments, as_of=as_of, days=30)
    assert out.rows() == [(10, 400.0, 300.0, 0.75), (20, 200.0, 200.0, 1.0)]
