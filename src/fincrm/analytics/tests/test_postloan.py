"""Payee checks and exposure net of cover, on small books worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from fincrm.analytics.postloan import (
    AMOUNT_OVER_DISBURSED,
    PAYEE_IS_BORROWER,
    PAYEE_IS_RELATED,
    net_exposure,
    normalise_name,
    payee_flags,
)

BORROWER = "苏州恒瑞精密机械有限公司"


def flags(payee, amount=Decimal(100), related=("王建国",), disbursed=Decimal(1000)):
    return payee_flags(
        payee=payee, amount=amount, borrower=BORROWER, related=related, disbursed=disbursed
    )


def test_names_compare_without_width_spaces_or_brackets():
    assert normalise_name("苏州（恒瑞） 精密机械有限公司") == normalise_name(
        "苏州(恒瑞)精密机械有限公司"
    )
    assert normalise_name("ＡＢＣ Trading") == "abctrading"


def test_a_supplier_paid_within_the_disbursed_amount_fits():
    assert flags("上海宝钢钢材贸易有限公司") == []


def test_money_paid_back_to_the_borrower_is_flagged():
    assert flags(" 苏州恒瑞精密机械有限公司 ") == [PAYEE_IS_BORROWER]


def test_a_related_party_from_the_contacts_is_flagged():
    assert flags("王 建国") == [PAYEE_IS_RELATED]
    assert flags("王建国", related=["", "李四"]) == []


def test_an_amount_over_the_disbursed_amount_is_flagged_with_the_payee():
    assert flags("上海宝钢", amount=Decimal("1000.01")) == [AMOUNT_OVER_DISBURSED]
    assert flags("上海宝钢", amount=Decimal("1000")) == []
    assert flags(BORROWER, amount=Decimal(5000)) == [PAYEE_IS_BORROWER, AMOUNT_OVER_DISBURSED]
    assert flags("上海宝钢", amount=None) == []


def _net(facilities, covers):
    result = net_exposure(
        pl.DataFrame(facilities, schema=["facility_id", "outstanding"], orient="row"),
        pl.DataFrame(covers, schema=["cover_id", "facility_id", "amount", "share"], orient="row")
        if covers
        else pl.DataFrame(
            schema={"cover_id": pl.Int64, "facility_id": pl.Int64, "amount": pl.Float64,
                    "share": pl.Float64}
        ),
    )  # fmt: skip
    return {r["facility_id"]: (r["outstanding"], r["cover"], r["net"]) for r in result.to_dicts()}


def test_net_exposure_on_a_small_book():
    # 1: 600 owed, a guarantee of 1,000 shared with 2 (owing 400): 600 of it; net 0.
    # 2: 400 owed, 400 of that guarantee plus 50 % insured (200): cover 600, net 0.
    # 3: 1,000 owed, 80 % insured with a cap of 500: 500; net 500.
    # 4: 300 owed, no cover: net 300.  5: not in the book: its cover is ignored.
    result = _net(
        [(1, 600.0), (2, 400.0), (3, 1000.0), (4, 300.0)],
        [
            (10, 1, 1000.0, None),
            (10, 2, 1000.0, None),
            (11, 2, None, 0.5),
            (12, 3, 500.0, 0.8),
            (13, 5, 999.0, None),
        ],
    )
    assert result == {
        1: (600.0, pytest.approx(600.0), 0.0),
        2: (400.0, pytest.approx(600.0), 0.0),
        3: (1000.0, pytest.approx(500.0), pytest.approx(500.0)),
        4: (300.0, 0.0, 300.0),
    }


def test_a_guarantee_smaller_than_the_debt_leaves_the_rest_exposed():
    result = _net([(1, 900.0), (2, 300.0)], [(7, 1, 600.0, None), (7, 2, 600.0, None)])
    # 600 shared 3:1 → 450 and 150.
    assert result == {1: (900.0, 450.0, 450.0), 2: (300.0, 150.0, 150.0)}
    assert sum(v[1] for v in result.values()) == 600.0


def test_no_cover_and_a_repaid_facility():
    assert _net([(1, 0.0), (2, 250.0)], []) == {1: (0.0, 0.0, 0.0), 2: (250.0, 0.0, 250.0)}
    assert _net([(1, 0.0)], [(3, 1, 500.0, None)]) == {1: (0.0, 0.0, 0.0)}
