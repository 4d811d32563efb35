from dataclasses import dataclass
from datetime import date

import polars as pl
import pytest

from fincrm.analytics.early_warning import dedupe, evaluate_rules


@dataclass(frozen=True)
class Rule:
    code: str
    signal: str
    op: str
    threshold: float
    severity: str
    cooldown_days: int = 30


RULES = [
    Rule("dpd_1", "current_dpd", ">=", 1, "low"),
    Rule("dpd_30", "current_dpd", ">=", 30, "medium"),
    Rule("dpd_90", "current_dpd", ">=", 90, "critical"),
    Rule("leverage", "debt_to_asset", ">", 0.8, "high"),
    Rule("contact_lost", "days_since_successful_contact", ">=", 180, "low", 60),
]
AS_OF = date(2026, 6, 30)


def signals():
    return pl.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "current_dpd": [45, 0, 120, None],
            "debt_to_asset": [0.9, 0.5, None, 0.85],
            "days_since_successful_contact": [10, 200, None, None],
        }
    )


def test_rules_fire_and_escalate_to_the_most_severe_per_signal():
    fired = evaluate_rules(signals(), RULES)
    got = sorted(fired.select("customer_id", "rule_code").iter_rows())
    assert got == [
        (1, "dpd_30"),
        (1, "leverage"),
        (2, "contact_lost"),
        (3, "dpd_90"),
        (4, "leverage"),
    ]
    row = fired.filter(pl.col("customer_id") == 3).row(0, named=True)
    assert (row["value"], row["threshold"], row["severity"]) == (120.0, 90.0, "critical")


def test_an_unknown_signal_names_the_rule():
    with pytest.raises(ValueError, match="warning rule 'x': unknown signal 'nope'"):
        evaluate_rules(signals(), [Rule("x", "nope", ">", 1, "low")])


def existing(*rows):
    return pl.DataFrame(
        list(rows),
        schema={
            "customer_id": pl.Int64,
            "rule_code": pl.String,
            "signal": pl.String,
            "raised_on": pl.Date,
            "severity": pl.String,
            "status": pl.String,
        },
        orient="row",
    )


def test_dedupe_drops_open_alerts_and_cooldowns_but_lets_escalation_through():
    fired = evaluate_rules(signals(), RULES)
    cooldowns = {r.code: r.cooldown_days for r in RULES}
    known = existing(
        (1, "dpd_30", "current_dpd", date(2026, 6, 1), "medium", "open"),  # still open
        (2, "contact_lost", "days_since_successful_contact", date(2026, 6, 1), "low", "closed"),
        (3, "dpd_30", "current_dpd", date(2026, 5, 1), "medium", "acknowledged"),  # escalates
        (4, "leverage", "debt_to_asset", date(2026, 1, 1), "high", "closed"),  # cooled down
    )
    kept = dedupe(fired, known, AS_OF, cooldowns)
    assert sorted(kept.select("customer_id", "rule_code").iter_rows()) == [
        (1, "leverage"),
        (3, "dpd_90"),
        (4, "leverage"),
    ]


def test_a_milder_alert_on_a_signal_with_a_worse_open_one_adds_nothing():
    fired = evaluate_rules(signals().filter(pl.col("customer_id") == 1), RULES[:2])
    known = existing((1, "dpd_90", "current_dpd", date(2026, 6, 1), "critical", "open"))
    assert dedupe(fired, known, AS_OF, {"dpd_30": 30}).is_empty()
