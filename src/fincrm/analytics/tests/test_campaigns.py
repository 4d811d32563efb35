"""Campaign results on a small exact book: counts per group, rates, uplift against control."""

from __future__ import annotations

import polars as pl
import pytest
from scipy.stats import chi2_contingency

from fincrm.analytics.campaigns import campaign_results, two_proportion_p_value


def _rows(group, statuses, clicked=0, replied=0, applied=0):
    """``statuses`` in order; the first ``clicked`` / ``replied`` / ``applied`` rows are
    marked."""
    return [
        {"group": group, "status": s, "clicked": i < clicked, "replied": i < replied,
         "applied": i < applied}
        for i, s in enumerate(statuses)
    ]  # fmt: skip


@pytest.fixture
def book() -> pl.DataFrame:
    """A: 10 clients (6 delivered, 2 sent, 1 failed, 1 kept back; 3 clicked, 2 replied, 3
    applied). B: 10 (8 delivered, 2 kept back; 4 clicked, 1 replied, 1 applied). Control: 5
    (no message; 1 applied)."""
    a = _rows("a", ["delivered"] * 6 + ["sent"] * 2 + ["failed", "blocked"], 3, 2, 3)
    b = _rows("b", ["delivered"] * 8 + ["blocked"] * 2, 4, 1, 1)
    control = _rows("control", [None] * 5, applied=1)
    return pl.DataFrame(
        a + b + control,
        schema={
            "group": pl.String,
            "status": pl.String,
            "clicked": pl.Boolean,
            "replied": pl.Boolean,
            "applied": pl.Boolean,
        },
    )


def test_it_counts_each_group_by_hand(book):
    rows = {r["group"]: r for r in campaign_results(book).iter_rows(named=True)}
    assert list(rows) == ["a", "b", "control"]
    a, b, control = rows["a"], rows["b"], rows["control"]
    assert (a["clients"], a["sent"], a["delivered"], a["failed"], a["skipped"]) == (10, 8, 6, 1, 1)
    assert (b["clients"], b["sent"], b["delivered"], b["failed"], b["skipped"]) == (10, 8, 8, 0, 2)
    assert (control["clients"], control["sent"], control["skipped"]) == (5, 0, 0)
    assert (a["clicked"], a["replied"], a["applications"]) == (3, 2, 3)
    assert a["click_rate"] == pytest.approx(3 / 8)
    assert b["click_rate"] == pytest.approx(4 / 8)
    assert control["click_rate"] is None  # nothing went
    assert a["application_rate"] == pytest.approx(0.3)
    assert control["application_rate"] == pytest.approx(0.2)


def test_the_uplift_is_against_the_control_group(book):
    rows = {r["group"]: r for r in campaign_results(book).iter_rows(named=True)}
    assert rows["a"]["application_uplift"] == pytest.approx(0.3 - 0.2)
    assert rows["b"]["application_uplift"] == pytest.approx(0.1 - 0.2)
    assert rows["a"]["reply_uplift"] == pytest.approx(0.2)
    assert rows["control"]["application_uplift"] is None
    # The z-test's p-value is the uncorrected chi-square test's on the 2×2 table.
    expected = chi2_contingency([[3, 7], [1, 4]], correction=False)[1]
    assert rows["a"]["application_p_value"] == pytest.approx(expected)


def test_without_a_control_group_there_is_no_uplift(book):
    rows = campaign_results(book.filter(pl.col("group") != "control")).to_dicts()
    assert [r["group"] for r in rows] == ["a", "b"]
    assert all(r["application_uplift"] is None for r in rows)


def test_an_empty_campaign_has_no_rows_and_bad_frames_are_refused(book):
    assert campaign_results(book.clear()).is_empty()
    with pytest.raises(ValueError, match="applied"):
        campaign_results(book.drop("applied"))
    with pytest.raises(ValueError, match="unknown groups: z"):
        campaign_results(book.with_columns(pl.lit("z").alias("group")))


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(30, 200, 12, 180), (5, 40, 9, 41)])
def test_the_p_value_matches_scipy(x1, n1, x2, n2):
    expected = chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)[1]
    assert two_proportion_p_value(x1, n1, x2, n2) == pytest.approx(expected)


def test_no_p_value_without_spread_or_clients():
    assert two_proportion_p_value(0, 10, 0, 5) is None
    assert two_proportion_p_value(1, 0, 1, 5) is None


def test_channel_results_count_each_group_and_channel_by_hand():
    """A: 3 by SMS (2 delivered, 1 kept back; 1 clicked, 1 replied), 2 by e-mail (1 sent,
    1 failed). B: 2 by SMS (delivered, 1 replied). Control: 1 would-be SMS, 1 e-mail."""
    from fincrm.analytics.campaigns import channel_results

    rows = [
        ("a", "sms", "delivered", True, True), ("a", "sms", "delivered", False, False),
        ("a", "sms", "blocked", False, False), ("a", "email", "sent", False, False),
        ("a", "email", "failed", False, False), ("b", "sms", "delivered", False, True),
        ("b", "sms", "delivered", False, False), ("control", "sms", None, False, False),
        ("control", "email", None, False, True),
    ]  # fmt: skip
    frame = pl.DataFrame(
        [{"group": g, "channel": c, "status": s, "clicked": k, "replied": r, "applied": False}
         for g, c, s, k, r in rows],
        schema={"group": pl.String, "channel": pl.String, "status": pl.String,
                "clicked": pl.Boolean, "replied": pl.Boolean, "applied": pl.Boolean},
    )  # fmt: skip
    got = {(r["group"], r["channel"]): (r["clients"], r["sent"], r["delivered"], r["failed"],
                                        r["skipped"], r["clicked"], r["replied"])
           for r in channel_results(frame, ["sms", "email"]).to_dicts()}  # fmt: skip
    assert list(got) == [("all", "sms"), ("all", "email"), ("a", "sms"), ("a", "email"),
                         ("b", "sms"), ("control", "sms"), ("control", "email")]  # fmt: skip
    assert got == {
        ("all", "sms"): (5, 4, 4, 0, 1, 1, 2), ("all", "email"): (2, 1, 0, 1, 0, 0, 0),
        ("a", "sms"): (3, 2, 2, 0, 1, 1, 1), ("a", "email"): (2, 1, 0, 1, 0, 0, 0),
        ("b", "sms"): (2, 2, 2, 0, 0, 0, 1),
        ("control", "sms"): (1, 0, 0, 0, 0, 0, 0), ("control", "email"): (1, 0, 0, 0, 0, 0, 1),
    }  # fmt: skip
    with pytest.raises(ValueError, match="channel"):
        channel_results(frame.drop("channel"))
