import re
from datetime import date

import polars as pl
import pytest

from fincrm.analytics.running_book import (
    BAD_PD,
    BAD_RATE,
    INSTALMENT_COLUMNS,
    MISSING_COLUMNS,
    running_book_value,
)

AS_OF = date(2026, 1, 1)


def schedule(rows):
    return pl.DataFrame(rows, schema=INSTALMENT_COLUMNS, orient="row")


#: Client 1: one facility started 2025-07-01, its first instalment due on AS_OF (past: left
#: out, but it starts the next period), then two yearly instalments (365 days each).
TWO_AHEAD = [
    (1, 10, date(2025, 7, 1), date(2026, 1, 1), 0.0, 3_000.0, 100.0),
    (1, 10, date(2025, 7, 1), date(2027, 1, 1), 60_000.0, 4_000.0, 200.0),
    (1, 10, date(2025, 7, 1), date(2028, 1, 1), 40_000.0, 2_000.0, 0.0),
]


def test_a_two_instalment_book_is_discounted_and_survival_weighted_by_hand():
    out = running_book_value(
        schedule(TWO_AHEAD),
        pl.DataFrame({"customer_id": [1], "pd": [0.2]}),
        discount_rate=0.25,
        funding_rate=0.03,
        as_of=AS_OF,
    )
    row = out.row(0, named=True)
    # Year 1: income 4,000 + 200; funding 3 % of the 100,000 still owed over 365 days = 3,000.
    # Year 2: income 2,000; funding 3 % of 40,000 = 1,200.
    assert row["instalments"] == 2
    assert row["income"] == pytest.approx(6_200)
    assert row["funding"] == pytest.approx(4_200)
    assert row["margin"] == pytest.approx(2_000)
    # (1 − 0.2) / 1.25 = 0.64 a year: 1,200 × 0.64 + 800 × 0.64² = 768 + 327.68.
    assert row["value"] == pytest.approx(1_095.68)


def test_without_funding_cost_risk_or_discounting_the_value_is_the_income_still_due():
    out = running_book_value(
        schedule(TWO_AHEAD), pl.DataFrame({"customer_id": [1], "pd": [0.0]}),
        discount_rate=0, funding_rate=0, as_of=AS_OF,
    )  # fmt: skip
    assert out["value"].to_list() == pytest.approx([6_200])


def test_the_whole_period_of_the_next_instalment_is_funded_and_earned():
    # Half-way through the first period: its whole interest and whole funding still count.
    out = running_book_value(
        schedule(TWO_AHEAD), pl.DataFrame({"customer_id": [1], "pd": [0.0]}),
        discount_rate=0, funding_rate=0.03, as_of=date(2026, 7, 2),
    )  # fmt: skip
    assert out["margin"].to_list() == pytest.approx([2_000])


def test_the_first_instalment_is_funded_from_the_facility_start():
    rows = [(2, 20, date(2026, 1, 1), date(2026, 4, 1), 10_000.0, 500.0, 0.0)]  # 90 days
    out = running_book_value(
        schedule(rows), pl.DataFrame({"customer_id": [2], "pd": [0.0]}),
        discount_rate=0, funding_rate=0.0365, as_of=AS_OF,
    )  # fmt: skip
    assert out["funding"].to_list() == pytest.approx([10_000 * 0.0365 * 90 / 365])  # 90


def test_a_client_without_a_pd_keeps_its_margin_and_gets_no_value():
    rows = [*TWO_AHEAD, (3, 30, date(2025, 7, 1), date(2027, 1, 1), 1_000.0, 100.0, 0.0)]
    out = running_book_value(
        schedule(rows), pl.DataFrame({"customer_id": [1], "pd": [0.2]}),
        discount_rate=0.25, funding_rate=0.0, as_of=AS_OF,
    )  # fmt: skip
    assert out["customer_id"].to_list() == [1, 3]
    assert out["margin"].to_list() == pytest.approx([6_200, 100])
    assert out["value"][1] is None


def test_nothing_left_to_run_is_an_empty_frame():
    out = running_book_value(
        schedule(TWO_AHEAD[:1]), pl.DataFrame({"customer_id": [1], "pd": [0.1]}),
        discount_rate=0.1, funding_rate=0.03, as_of=AS_OF,
    )  # fmt: skip
    assert out.is_empty() and out.columns == [
        "customer_id", "instalments", "income", "funding", "margin", "value",
    ]  # fmt: skip


def test_bad_inputs_are_refused_with_the_shared_messages():
    pd = pl.DataFrame({"customer_id": [1], "pd": [0.1]})
    with pytest.raises(ValueError, match=re.escape(MISSING_COLUMNS.format(missing="fee"))):
        running_book_value(schedule(TWO_AHEAD).drop("fee"), pd, discount_rate=0.1,
                           funding_rate=0.03, as_of=AS_OF)  # fmt: skip
    negative = re.escape(BAD_RATE.format(name="funding_rate", value=-0.01))
    with pytest.raises(ValueError, match=negative):
        running_book_value(schedule(TWO_AHEAD), pd, discount_rate=0.1, funding_rate=-0.01,
                           as_of=AS_OF)  # fmt: skip
    with pytest.raises(ValueError, match=re.escape(BAD_PD.format(count=1))):
        running_book_value(schedule(TWO_AHEAD), pd.with_columns(pd=pl.lit(1.5)),
                           discount_rate=0.1, funding_rate=0.03, as_of=AS_OF)  # fmt: skip
