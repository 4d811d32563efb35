"""The policy screen's table of what feeds each sub-score (``tiering.value_inputs``)."""

import pytest

from fincrm.analytics.policy import PolicyConfig
from fincrm.analytics.tiering import value_inputs


def test_each_sub_score_lists_its_inputs_with_the_policys_weights():
    policy = PolicyConfig.model_validate(
        {"loyalty": {"satisfaction_weight": 0.3}, "potential": {"demand_weight": 0.0}}
    )
    rows = value_inputs(policy)
    by = {(r["sub_score"], r["input"]): r for r in rows}
    assert {r["sub_score"] for r in rows} == {"contribution", "potential", "loyalty", "risk"}
    assert by["loyalty", "satisfaction"]["weight"] == 0.3
    assert by["potential", "predicted_demand"]["weight"] == 0.0
    # Shares of each weighted sub-score add up to one; each is its weight over their sum.
    for sub in ("contribution", "potential", "loyalty"):
        members = [r for r in rows if r["sub_score"] == sub]
        assert sum(r["share"] for r in members) == pytest.approx(1)
        total = sum(r["weight"] for r in members)
        assert by[sub, members[0]["input"]]["share"] == pytest.approx(members[0]["weight"] / total)
    # The value score's weights travel with the rows.
    assert by["contribution", "balance"]["sub_weight"] == policy.weights.contribution
    # Which unknown inputs are reported (and re-weighted) in the reasons, which are not.
    assert by["loyalty", "satisfaction"]["missing_reported"]
    assert by["loyalty", "share_of_wallet"]["missing_reported"]
    assert by["potential", "predicted_demand"]["missing_reported"]
    assert not by["loyalty", "event_attendance"]["missing_reported"]
    assert not by["contribution", "balance"]["missing_reported"]
    risk = [r for r in rows if r["sub_score"] == "risk"]
    assert [r["input"] for r in risk] == [
        "credit_grade", "arrears", "open_warnings", "legal_disputes"
    ]  # fmt: skip
    assert all(r["weight"] is None for r in risk)
    # A client never checked externally: named in its reasons (no penalty taken).
    assert [r["input"] for r in risk if r["missing_reported"]] == ["legal_disputes"]


def test_satisfaction_from_a_rating_counts_like_an_nps_answer_and_falls_back_on_it():
    from fincrm.analytics.tests.test_tiering import POLICY, client, frame
    from fincrm.analytics.tiering import score_customers

    rated = client(customer_id=1, satisfaction=7.5)  # a CSAT-only survey, on the 0–10 scale
    answered = client(customer_id=2, last_nps=7.5)  # a frame with the NPS answer only
    never = client(customer_id=3)
    out = {r["customer_id"]: r for r in score_customers(frame(rated, answered, never), POLICY)
           .iter_rows(named=True)}  # fmt: skip
    assert out[1]["loyalty"] == pytest.approx(out[2]["loyalty"])
    lo = POLICY.loyalty
    # Loyalty of a client known only by tenure 0, no renewals, no products and satisfaction:
    # weighted mean over the known inputs (share of wallet, responsiveness, events unknown).
    known = lo.tenure_weight + lo.renewals_weight + lo.products_weight + lo.satisfaction_weight
    assert out[1]["loyalty"] == pytest.approx(100 * lo.satisfaction_weight * 0.75 / known)
    codes = {r["code"] for r in out[3]["reasons"]}
    assert "missing_satisfaction" in codes
    assert "missing_satisfaction" not in {r["code"] for r in out[1]["reasons"]}
