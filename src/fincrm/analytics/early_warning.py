"""Early warning: the policy's rules over many signals, escalation and de-duplication.

A rule is any object with ``code, signal, op, threshold, severity, cooldown_days`` (the
policy's ``WarningRule``). Signals are columns of a frame with one row per client; a null
signal never fires.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import polars as pl

SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
_OPS = {
    ">=": lambda c, t: c >= t,
    ">": lambda c, t: c > t,
    "<=": lambda c, t: c <= t,
    "<": lambda c, t: c < t,
    "==": lambda c, t: c == t,
}
FIRED_SCHEMA = {
    "customer_id": pl.Int64,
    "rule_code": pl.String,
    "signal": pl.String,
    "value": pl.Float64,
    "threshold": pl.Float64,
    "severity": pl.String,
}


def evaluate_rules(signals: pl.DataFrame, rules: Sequence) -> pl.DataFrame:
    """Every rule that fires, one row per client and signal: the most severe one.

    Several thresholds on one signal (DPD 1, 15, 30, 60, 90) escalate: a client 65 days past
    due gets the 60-day alert only, not four alerts.
    """
    parts = []
    for rule in rules:
        if rule.signal not in signals.columns:
            raise ValueError(f"warning rule {rule.code!r}: unknown signal {rule.signal!r}")
        column = pl.col(rule.signal).cast(pl.Float64)
        fired = signals.filter(_OPS[rule.op](column, rule.threshold).fill_null(False))
        parts.append(
            fired.select(
                pl.col("customer_id").cast(pl.Int64),
                rule_code=pl.lit(rule.code),
                signal=pl.lit(rule.signal),
                value=column,
                threshold=pl.lit(float(rule.threshold)),
                severity=pl.lit(rule.severity),
            )
        )
    if not parts:
        return pl.DataFrame(schema=FIRED_SCHEMA)
    fired = pl.concat(parts).with_columns(
        _rank=pl.col("severity").replace_strict(SEVERITY_RANK, return_dtype=pl.Int64)
    )
    return (
        fired.sort(
            ["customer_id", "signal", "_rank", "threshold"], descending=[False, False, True, True]
        )
        .unique(subset=["customer_id", "signal"], keep="first", maintain_order=True)
        .drop("_rank")
    )


def dedupe(
    fired: pl.DataFrame,
    existing: pl.DataFrame,
    as_of: date,
    cooldown_days: Mapping[str, int],
) -> pl.DataFrame:
    """Drop alerts the responsible person already has.

    ``existing`` holds earlier alerts: customer_id, rule_code, raised_on, severity and
    optionally ``signal`` and ``status`` ("closed" or anything else = still open). A fired
    alert is dropped when, for the same client,

    - the same rule is still open, or was raised less than its ``cooldown_days`` ago; or
    - an open alert on the same signal is at least as severe (a 30-DPD alert while the 60-DPD
      one is open adds nothing; a 90-DPD alert while the 60-DPD one is open escalates).
    """
    if fired.is_empty() or existing.is_empty():
        return fired
    existing = existing.with_columns(
        _open=(pl.col("status") != "closed") if "status" in existing.columns else pl.lit(True),
        _age=(pl.lit(as_of) - pl.col("raised_on")).dt.total_days(),
        _cooldown=pl.col("rule_code").replace_strict(
            dict(cooldown_days), default=0, return_dtype=pl.Int64
        ),
        _rank=pl.col("severity").replace_strict(SEVERITY_RANK, return_dtype=pl.Int64),
    )
    same_rule = (
        existing.filter(pl.col("_open") | (pl.col("_age") < pl.col("_cooldown")))
        .select("customer_id", "rule_code")
        .unique()
    )
    kept = fired.join(same_rule, on=["customer_id", "rule_code"], how="anti")
    if "signal" in existing.columns:
        worst_open = (
            existing.filter(pl.col("_open"))
            .group_by("customer_id", "signal")
            .agg(_open_rank=pl.col("_rank").max())
        )
        kept = (
            kept.with_columns(
                _rank=pl.col("severity").replace_strict(SEVERITY_RANK, return_dtype=pl.Int64)
            )
            .join(worst_open, on=["customer_id", "signal"], how="left")
            .filter(pl.col("_open_rank").is_null() | (pl.col("_rank") > pl.col("_open_rank")))
            .drop("_rank", "_open_rank")
        )
    return kept
