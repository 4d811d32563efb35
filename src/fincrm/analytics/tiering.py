"""Value tiering: four explained sub-scores, a weighted value score, tiers and lifecycle.

Every sub-score is an absolute function of the client's own data (each component saturates at
a reference value in the policy), never of the rest of the book: scoring ten clients gives
exactly what scoring the whole book gives for those ten.

Reasons. Each component ``c`` of sub-score ``s`` moves the value score by
``points = W_s · 100 · share_c · (v_c − ½)`` where ``v_c ∈ [0, 1]`` is the component's value,
``share_c`` its weight within ``s`` and ``W_s`` the policy weight of ``s``. Risk is expressed
as the grade's points above 50 minus the arrears and warning penalties. Before clipping,
``value_score = 50 + Σ points``, so the reasons add up to the score they explain.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import ceil

import numpy as np
import polars as pl
import pyarrow as pa

from .policy import TIERS, PolicyConfig

#: Reason code → English template; the UI translates the template and formats ``value``.
#: ``gettext_noop`` marks them for the translation catalogue without importing Django.


def gettext_noop(text: str) -> str:
    return text


REASON_TEXTS: dict[str, str] = {
    "interest_fee_income": gettext_noop(
        "Interest and fee income of {value:,.0f} CNY in the last 12 months"
    ),
    "balance": gettext_noop("Outstanding balance of {value:,.0f} CNY"),
    "tenure": gettext_noop("Client for {value:,.0f} days"),
    "revenue_growth": gettext_noop("Revenue growth of {value:.0%} in the latest year"),
    "industry_outlook": gettext_noop("Industry outlook rated {value:.0%}"),
    "unused_limit": gettext_noop("{value:.0%} of approved limits unused"),
    "predicted_demand": gettext_noop("Predicted financing demand {value:.0%}"),
    "renewals": gettext_noop("{value:.0f} renewals"),
    "product_count": gettext_noop("Uses {value:.0f} product types"),
    "share_of_wallet": gettext_noop("Share of wallet {value:.0%}"),
    "responsiveness": gettext_noop("Reached in {value:.0%} of contacts in the last 12 months"),
    "satisfaction": gettext_noop(
        "Satisfaction {value:.1f} of 10 in the latest survey (its NPS answer, else its overall "
        "rating on the same scale)"
    ),
    "knowledge_reads": gettext_noop(
        "Read {value:.0f} briefings, reports and cases shared in the portal in the last 12 months"
    ),
    "event_attendance": gettext_noop(
        "Came to {value:.0%} of the events invited to in the last 12 months"
    ),
    "referrals": gettext_noop("Referred {value:.0f} clients who became active"),
    # An input unknown for the client: its weight went to the other inputs of its sub-score.
    "missing_revenue_growth": gettext_noop(
        "Revenue growth unknown: its {value:.0%} of the potential score went to the other inputs"
    ),
    "missing_unused_limit": gettext_noop(
        "No approved limit: its {value:.0%} of the potential score went to the other inputs"
    ),
    "missing_predicted_demand": gettext_noop(
        "No demand prediction yet: its {value:.0%} of the potential score went to the other inputs"
    ),
    "missing_share_of_wallet": gettext_noop(
        "Share of wallet unknown (no statement with liabilities): its {value:.0%} of the "
        "loyalty score went to the other inputs"
    ),
    "missing_responsiveness": gettext_noop(
        "No contact in the last 12 months: its {value:.0%} of the loyalty score went to the "
        "other inputs"
    ),
    "missing_satisfaction": gettext_noop(
        "Never surveyed: its {value:.0%} of the loyalty score went to the other inputs"
    ),
    "credit_grade": gettext_noop("Credit grade worth {value:.0f} of 100 risk points"),
    "arrears": gettext_noop("Up to {value:.0f} days past due in the last 12 months"),
    "open_warnings": gettext_noop("{value:.0f} open early-warning alerts"),
    "legal_disputes": gettext_noop("{value:.0f} open legal disputes found by external checks"),
    # Risk is points less penalties, not a weighted mean: nothing to share out, no penalty.
    "missing_legal_disputes": gettext_noop(
        "Never checked externally: legal disputes unknown, no penalty taken for them"
    ),
}
TOP_REASONS = 5
NUMERIC_INPUTS = (
    "tenure_days", "interest_income_12m", "fee_income_12m", "balance", "approved_limit",
    "revenue", "revenue_growth", "debt_to_asset", "current_ratio", "predicted_demand",
    "renewals", "product_count", "share_of_wallet", "interactions_12m",
    "successful_interactions_12m", "max_dpd_12m", "current_dpd", "open_warnings",
    "days_since_last_application", "days_since_last_transaction", "company_age_years",
    "age_years", "last_nps", "satisfaction", "event_attendance", "open_legal_disputes",
    "referrals",
)  # fmt: skip
#: Inputs a frame may lack (then unknown for every client). ``satisfaction`` (0–10: the latest
#: survey's NPS answer, else its overall rating rescaled) falls back on ``last_nps``.
OPTIONAL_INPUTS = (
    "last_nps", "satisfaction", "event_attendance", "open_legal_disputes", "referrals",
    "knowledge_reads_12m",
)  # fmt: skip
#: Confidence of a demand prediction → how much it counts (``demand_signal``).
DEMAND_CONFIDENCE = {"high": 1.0, "medium": 0.7, "low": 0.4}


def _saturate_log(column: str, ref: float) -> pl.Expr:
    """ln(1+x)/ln(1+ref) clipped to [0, 1]: diminishing returns up to the reference."""
    return ((pl.col(column).fill_null(0).clip(0) + 1).log() / np.log1p(ref)).clip(0, 1)


def _ratio(column: str, ref: float) -> pl.Expr:
    return (pl.col(column).cast(pl.Float64) / ref).clip(0, 1)


def _components(policy: PolicyConfig) -> list[tuple[str, str, str, float, pl.Expr]]:
    """(reason code, sub-score, raw value column, weight within sub-score, value in [0, 1])."""
    c, p, lo = policy.contribution, policy.potential, policy.loyalty
    outlook = pl.col("industry").replace_strict(
        p.industry_outlook, default=p.default_outlook, return_dtype=pl.Float64
    )
    limit = pl.col("approved_limit").fill_null(0)
    headroom = pl.when(limit > 0).then(
        ((limit - pl.col("balance").fill_null(0)) / limit).clip(0, 1)
    )
    interactions = pl.col("interactions_12m").fill_null(0)
    responsiveness = pl.when(interactions > 0).then(
        (pl.col("successful_interactions_12m").fill_null(0) / interactions).clip(0, 1)
    )
    return [
        ("interest_fee_income", "contribution", "income_12m", c.income_weight,
         _saturate_log("income_12m", c.income_ref_cny)),
        ("balance", "contribution", "balance", c.balance_weight,
         _saturate_log("balance", c.balance_ref_cny)),
        ("tenure", "contribution", "tenure_days", c.tenure_weight,
         _ratio("tenure_days", c.tenure_ref_days)),
        ("revenue_growth", "potential", "revenue_growth", p.growth_weight,
         (0.5 + pl.col("revenue_growth") / (2 * p.growth_ref)).clip(0, 1)),
        ("industry_outlook", "potential", "outlook", p.outlook_weight, outlook),
        ("unused_limit", "potential", "headroom", p.headroom_weight, headroom),
        ("predicted_demand", "potential", "predicted_demand", p.demand_weight,
         pl.col("predicted_demand").clip(0, 1)),
        ("tenure", "loyalty", "tenure_days", lo.tenure_weight,
         _ratio("tenure_days", lo.tenure_ref_days)),
        ("renewals", "loyalty", "renewals", lo.renewals_weight,
         _ratio("renewals", lo.renewals_ref)),
        ("product_count", "loyalty", "product_count", lo.products_weight,
         _ratio("product_count", lo.products_ref)),
        ("share_of_wallet", "loyalty", "share_of_wallet", lo.wallet_weight,
         pl.col("share_of_wallet").clip(0, 1)),
        ("responsiveness", "loyalty", "responsiveness", lo.responsiveness_weight, responsiveness),
        ("satisfaction", "loyalty", "satisfaction", lo.satisfaction_weight,
         (pl.col("satisfaction") / 10).clip(0, 1)),
        # Unknown (no portal login, nothing published) drops out with no "missing" reason.
        ("knowledge_reads", "loyalty", "knowledge_reads_12m", lo.knowledge_weight,
         _ratio("knowledge_reads_12m", lo.knowledge_reads_ref)),
        # Unknown (not invited) drops out with no "missing" reason: most clients never are.
        ("event_attendance", "loyalty", "event_attendance", lo.events_weight,
         pl.col("event_attendance").clip(0, 1)),
        # Known for every client of a run (0: nobody referred); a frame without the column
        # (a caller older than it) leaves it out silently.
        ("referrals", "loyalty", "referrals", lo.referrals_weight,
         _ratio("referrals", lo.referrals_ref)),
    ]  # fmt: skip


#: The risk sub-score's inputs (not a weighted mean: grade points less penalties).
RISK_INPUTS = ("credit_grade", "arrears", "open_warnings", "legal_disputes")


def value_inputs(policy: PolicyConfig) -> list[dict]:
    """Which inputs feed each sub-score, and how much: the policy screen's table.

    Returns
    -------
    list of dict
        sub_score, sub_weight (its weight in the value score), input (reason code), weight
        (within the sub-score; None for the risk sub-score's inputs), share (of the sub-score
        when every input of it is known) and missing_reported (an unknown value is named in
        the client's reasons with its weight shared out among the others; False: never
        unknown, or left out silently by design, as event attendance of a client never
        invited).
    """
    w = policy.weights
    sub_weights = {"contribution": w.contribution, "potential": w.potential,
                   "loyalty": w.loyalty, "risk": w.risk}  # fmt: skip
    components = _components(policy)
    totals: dict[str, float] = {}
    for _code, sub, _col, weight, _e in components:
        totals[sub] = totals.get(sub, 0.0) + weight
    rows = [
        {
            "sub_score": sub,
            "sub_weight": sub_weights[sub],
            "input": code,
            "weight": weight,
            "share": weight / totals[sub] if totals[sub] > 0 else 0.0,
            "missing_reported": f"missing_{code}" in REASON_TEXTS,
        }
        for code, sub, _col, weight, _e in components
    ]
    rows += [
        {"sub_score": "risk", "sub_weight": w.risk, "input": code, "weight": None,
         "share": None, "missing_reported": f"missing_{code}" in REASON_TEXTS}
        for code in RISK_INPUTS
    ]  # fmt: skip
    return rows


def expert_grade(frame: pl.DataFrame, policy: PolicyConfig) -> pl.Series:
    """The documented expert grade (see :class:`~.policy.ExpertGradeRules`)."""
    rules = policy.expert_grade
    grades = [band.grade for band in policy.grades]
    index = {g: i for i, g in enumerate(grades)}
    dpd = pl.col("max_dpd_12m").fill_null(0)
    start = pl.lit(index[rules.dpd_grades[0][1]])
    for days, grade in sorted(rules.dpd_grades)[1:]:
        start = pl.when(dpd >= days).then(pl.lit(index[grade])).otherwise(start)
    dta, cr = pl.col("debt_to_asset"), pl.col("current_ratio")
    breaches = (dta > rules.max_debt_to_asset).fill_null(False).cast(pl.Int64) + (
        cr < rules.min_current_ratio
    ).fill_null(False).cast(pl.Int64)
    strong = ((dta < rules.good_debt_to_asset) & (cr > rules.good_current_ratio)).fill_null(False)
    notch = (start + breaches - strong.cast(pl.Int64)).clip(0, len(grades) - 1)
    return frame.select(
        notch.replace_strict(list(range(len(grades))), grades, return_dtype=pl.String)
    ).to_series()


def size_band(frame: pl.DataFrame, policy: PolicyConfig) -> pl.Series:
    limit = pl.col("approved_limit").fill_null(0)
    bands = policy.size_bands
    expr = pl.lit(bands[-1].code)
    for band in reversed(bands[:-1]):
        expr = pl.when(limit < band.upper_cny).then(pl.lit(band.code)).otherwise(expr)
    return frame.select(expr).to_series()


def lifecycle_stage(frame: pl.DataFrame, policy: PolicyConfig) -> pl.Series:
    """potential / new / active / dormant / lost from facility and application activity.

    - no facility ever: *potential*, unless the last application is older than ``lost_days``
      (then *lost*);
    - first disbursement within ``new_days``: *new*;
    - last transaction (drawdown or repayment) within ``dormant_days``: *active*; within
      ``lost_days``: *dormant*; older or none: *lost*.
    """
    r = policy.lifecycle
    app = pl.col("days_since_last_application")
    txn = pl.col("days_since_last_transaction")
    expr = (
        pl.when(~pl.col("has_facility").fill_null(False))
        .then(pl.when(app > r.lost_days).then(pl.lit("lost")).otherwise(pl.lit("potential")))
        .when(pl.col("tenure_days").fill_null(0) <= r.new_days)
        .then(pl.lit("new"))
        .when(txn <= r.dormant_days)
        .then(pl.lit("active"))
        .when(txn <= r.lost_days)
        .then(pl.lit("dormant"))
        .otherwise(pl.lit("lost"))
    )
    return frame.select(expr).to_series()


def _dpd_penalty(policy: PolicyConfig) -> pl.Expr:
    dpd = pl.col("max_dpd_12m").fill_null(0)
    penalty = pl.lit(0.0)
    for days, points in sorted(policy.risk.dpd_penalties):
        penalty = pl.when(dpd >= days).then(pl.lit(float(points))).otherwise(penalty)
    return penalty


def score_customers(frame: pl.DataFrame, policy: PolicyConfig) -> pl.DataFrame:
    """Sub-scores, value score, grade, size band, lifecycle and reasons per client.

    Parameters
    ----------
    frame : pl.DataFrame
        One row per client with the columns listed in the module docs of
        :mod:`fincrm.evaluation.features` (money in CNY, durations in days).
    policy : PolicyConfig

    Returns
    -------
    pl.DataFrame
        customer_id, contribution, potential, loyalty, risk (0–100 each; risk: higher = safer),
        value_score (0–100), expert_grade, grade, size_band, lifecycle, reasons (list of
        {code, component, value, points}, the ``TOP_REASONS`` largest by |points|).
    """
    w = policy.weights
    weights = {"contribution": w.contribution, "potential": w.potential, "loyalty": w.loyalty}
    components = _components(policy)
    base = _base_frame(frame, policy, components)
    subs, shares = _sub_scores(components, weights)
    scored = base.with_columns(*shares, **subs, **_risk_columns(policy))
    scored = scored.with_columns(
        value_score=(
            w.contribution * pl.col("contribution")
            + w.potential * pl.col("potential")
            + w.loyalty * pl.col("loyalty")
            + w.risk * pl.col("risk")
        ).clip(0, 100)
    )
    reasons = _client_reasons(scored, components, w.risk)
    return scored.select(
        "customer_id",
        "contribution",
        "potential",
        "loyalty",
        "risk",
        "value_score",
        "expert_grade",
        "grade",
        "size_band",
        "lifecycle",
    ).join(reasons, on="customer_id", how="left", maintain_order="left")


def _base_frame(frame: pl.DataFrame, policy: PolicyConfig, components) -> pl.DataFrame:
    """``frame`` with every input typed, the derived inputs, the expert grade, size band,
    lifecycle and grade, and each component's value ``_v<i>`` (0–1, null when unknown)."""
    # Inputs added since a caller was written arrive as unknown (reported as missing).
    frame = frame.with_columns(
        pl.lit(None, dtype=pl.Float64).alias(c) for c in OPTIONAL_INPUTS if c not in frame.columns
    )
    # All-null columns arrive typed Null: give every numeric input its numeric type.
    frame = frame.with_columns(
        pl.col(c).cast(pl.Float64) for c in NUMERIC_INPUTS if c in frame.columns
    )
    base = frame.with_columns(
        satisfaction=pl.coalesce("satisfaction", "last_nps"),
        income_12m=pl.col("interest_income_12m").fill_null(0)
        + pl.col("fee_income_12m").fill_null(0),
        expert_grade=expert_grade(frame, policy),
        size_band=size_band(frame, policy),
        lifecycle=lifecycle_stage(frame, policy),
    )
    base = base.with_columns(grade=pl.coalesce("credit_grade", "expert_grade"))
    return base.with_columns(
        [expr.cast(pl.Float64).alias(f"_v{i}") for i, (*_x, expr) in enumerate(components)]
    )


def _sub_scores(components, weights: dict[str, float]) -> tuple[dict[str, pl.Expr], list[pl.Expr]]:
    """Each sub-score (0–100): the weighted mean of its available components (unknown ones
    drop out; 50 when none is known); and each component's points ``_p<i>`` in the value
    score."""
    subs: dict[str, pl.Expr] = {}
    shares: list[pl.Expr] = []
    for sub in weights:
        members = [i for i, comp in enumerate(components) if comp[1] == sub]
        known = pl.sum_horizontal(
            [pl.col(f"_v{i}").is_not_null().cast(pl.Float64) * components[i][3] for i in members]
        )
        total = pl.sum_horizontal(
            [pl.col(f"_v{i}").fill_null(0) * components[i][3] for i in members]
        )
        subs[sub] = pl.when(known > 0).then(100 * total / known).otherwise(50.0)
        for i in members:
            share = pl.when(known > 0).then(components[i][3] / known).otherwise(0.0)
            shares.append(
                (weights[sub] * 100 * share * (pl.col(f"_v{i}") - 0.5)).fill_null(0).alias(f"_p{i}")
            )
    return subs, shares


def _risk_columns(policy: PolicyConfig) -> dict[str, pl.Expr]:
    """``risk`` (0–100, higher = safer): the grade's points less the arrears, warnings and
    legal-dispute penalties, each also kept (``_grade_points``, ``_penalty``, ``_warnings``,
    ``_legal``) for the reasons."""
    grade_points = pl.col("grade").replace_strict(
        policy.risk.grade_points, default=50.0, return_dtype=pl.Float64
    )
    warnings = (pl.col("open_warnings").fill_null(0) * policy.risk.warning_penalty).clip(
        0, policy.risk.max_warning_penalty
    )
    penalty = _dpd_penalty(policy)
    legal = (pl.col("open_legal_disputes").fill_null(0) * policy.risk.legal_dispute_penalty).clip(
        0, policy.risk.max_legal_penalty
    )
    return {
        "risk": (grade_points - penalty - warnings - legal).clip(0, 100),
        "_grade_points": grade_points,
        "_penalty": penalty,
        "_warnings": warnings,
        "_legal": legal,
    }


def _client_reasons(scored: pl.DataFrame, components, risk_weight: float) -> pl.DataFrame:
    """customer_id, reasons: the top reasons followed by the missing inputs (null when there
    are neither)."""
    reasons = _reasons(scored, components, risk_weight).join(
        _missing_inputs(scored, components), on="customer_id", how="left", maintain_order="left"
    )
    return reasons.select(
        "customer_id",
        reasons=pl.when(pl.col("reasons").is_null() & (pl.col("missing").list.len() == 0))
        .then(None)
        .otherwise(pl.concat_list(pl.col("reasons").fill_null([]), "missing")),
    )


def _reason_entries(components, risk_weight: float) -> list[tuple[str, str, pl.Expr, pl.Expr]]:
    """(code, sub-score, value, points) of every candidate reason, in component order."""
    entries = []
    for i, (code, sub, column, _w, _e) in enumerate(components):
        value = (
            pl.col(f"_v{i}")
            if column in {"outlook", "headroom", "responsiveness"}
            else pl.col(column)
        )
        entries.append((code, sub, value.cast(pl.Float64), pl.col(f"_p{i}")))
    grade_points = pl.col("_grade_points")
    return [
        *entries,
        ("credit_grade", "risk", grade_points, risk_weight * (grade_points - 50)),
        (
            "arrears",
            "risk",
            pl.col("max_dpd_12m").fill_null(0).cast(pl.Float64),
            -risk_weight * pl.col("_penalty"),
        ),
        (
            "open_warnings",
            "risk",
            pl.col("open_warnings").fill_null(0).cast(pl.Float64),
            -risk_weight * pl.col("_warnings"),
        ),
        (
            "legal_disputes",
            "risk",
            pl.col("open_legal_disputes").cast(pl.Float64),
            -risk_weight * pl.col("_legal"),
        ),
    ]


def _reasons(scored: pl.DataFrame, components, risk_weight: float) -> pl.DataFrame:
    """The ``TOP_REASONS`` reasons of each client: non-zero points only, largest |points|
    first (NaN first, as polars sorts it), ties by code; a code that two sub-scores share
    (tenure) is one reason with the sum of their points and the component and value of the
    first that moved the score. Clients without any reason get null.

    Computed row-wise on a clients × codes matrix: the long form (a row per client and
    component, grouped and sorted) took ~6 s of a million-client run.
    """
    entries = _reason_entries(components, risk_weight)
    wide = scored.select(
        *(v.alias(f"value{j}") for j, (_c, _s, v, _p) in enumerate(entries)),
        *(p.cast(pl.Float64).alias(f"points{j}") for j, (_c, _s, _v, p) in enumerate(entries)),
    )
    n = scored.height
    codes = sorted({code for code, *_rest in entries})  # column order = tie order
    subs = sorted({sub for _c, sub, *_rest in entries})
    points = np.zeros((n, len(codes)))
    values = np.full((n, len(codes)), np.nan)
    has_value = np.zeros((n, len(codes)), dtype=bool)
    component = np.zeros((n, len(codes)), dtype=np.int8)  # index into ``subs``
    moved = np.zeros((n, len(codes)), dtype=bool)
    for j, (code, sub, _v, _p) in enumerate(entries):
        k = codes.index(code)
        p = wide[f"points{j}"].fill_null(0).to_numpy()
        value = wide[f"value{j}"]
        nonzero = p != 0  # NaN counts as non-zero, as ``points != 0`` does
        first = nonzero & ~moved[:, k]  # the first entry of this code that moved the score
        points[:, k] += np.where(nonzero, p, 0.0)
        values[first, k] = value.fill_null(np.nan).to_numpy()[first]
        has_value[first, k] = value.is_not_null().to_numpy()[first]
        component[first, k] = subs.index(sub)
        moved[:, k] |= nonzero
    # Largest |points| first with NaN before any number; the reasons that never moved last.
    key = np.where(np.isnan(points), -np.inf, -np.abs(points))
    key[~moved] = np.inf
    order = np.argsort(key, axis=1, kind="stable")[:, :TOP_REASONS]
    rows = np.arange(n)[:, None]
    count = moved.sum(axis=1)
    # The reasons of all clients one after the other (row-major), then cut into lists.
    kept = np.arange(order.shape[1])[None, :] < count[:, None]
    top = order[kept]
    value = pl.Series(values[rows, order][kept]).set(pl.Series(~has_value[rows, order][kept]), None)
    flat = pl.DataFrame(
        {
            "code": pl.Series(codes).gather(top),
            "component": pl.Series(subs).gather(component[rows, order][kept]),
            "value": value,
            "points": pl.Series(points[rows, order][kept]).round(2),
        }
    ).to_struct()
    offsets = pl.Series(np.concatenate([[0], np.cumsum(kept.sum(axis=1))]), dtype=pl.Int64)
    # Arrow arrays made by polars: ``pa.array`` of a NumPy array would import pandas (0.5 s).
    lists = pa.LargeListArray.from_arrays(
        offsets.to_arrow(), flat.to_arrow(), mask=pl.Series(count == 0).to_arrow()
    )
    return pl.DataFrame({"customer_id": scored["customer_id"], "reasons": pl.Series(lists)})


def _missing_inputs(scored: pl.DataFrame, components) -> pl.DataFrame:
    """customer_id, missing: a reason for every input unknown for the client (code
    ``missing_<input>``, its sub-score, ``value`` = the share of that sub-score's weight it
    would have had and that went to the other inputs, 0 points), after the top reasons: an
    unknown input is never silently dropped."""
    # The sub-score's weights the client is expected to have: every input with a "missing"
    # text, and a silent one (event attendance: most clients are never invited) only when
    # known. A book without the silent inputs reports the same shares as before them.
    totals: dict[str, list[pl.Expr]] = {}
    for i, (code, sub, _col, weight, _e) in enumerate(components):
        if f"missing_{code}" in REASON_TEXTS:
            totals.setdefault(sub, []).append(pl.lit(weight))
        else:
            totals.setdefault(sub, []).append(
                pl.when(pl.col(f"_v{i}").is_not_null()).then(weight).otherwise(0.0)
            )
    total = {sub: pl.sum_horizontal(parts) for sub, parts in totals.items()}
    entries = [
        pl.when(pl.col(f"_v{i}").is_null()).then(
            pl.struct(
                code=pl.lit(f"missing_{code}"),
                component=pl.lit(sub),
                value=pl.when(total[sub] > 0).then(weight / total[sub]).otherwise(0.0),
                points=pl.lit(0.0),
            )
        )
        for i, (code, sub, _col, weight, _e) in enumerate(components)
        if f"missing_{code}" in REASON_TEXTS and weight > 0
    ]
    entries.append(
        pl.when(pl.col("open_legal_disputes").is_null()).then(
            pl.struct(
                code=pl.lit("missing_legal_disputes"),
                component=pl.lit("risk"),
                value=pl.lit(0.0),
                points=pl.lit(0.0),
            )
        )
    )
    return scored.select("customer_id", missing=pl.concat_list(entries).list.drop_nulls())


def demand_signal(days_to_need: pl.Expr, confidence: pl.Expr, *, horizon_days: int) -> pl.Expr:
    """Predicted demand in [0, 1] from the latest prediction: the confidence's weight
    (:data:`DEMAND_CONFIDENCE`) when the next need falls within ``horizon_days`` (or is
    overdue), 0 when it falls later or none is foreseen. Null stays null (no prediction)."""
    weight = confidence.replace_strict(DEMAND_CONFIDENCE, default=0.0, return_dtype=pl.Float64)
    return (
        pl.when(days_to_need.is_null())
        .then(0.0)
        .when(days_to_need <= horizon_days)
        .then(weight)
        .otherwise(0.0)
    )


def renewal_counts(facilities: pl.DataFrame, *, before_days: int, after_days: int) -> pl.DataFrame:
    """customer_id, renewals: facilities of a client that started from ``before_days``
    before to ``after_days`` after the maturity of an earlier facility of the same client
    (it replaced one that was running out), each counted once.

    ``facilities``: customer_id, start_date, maturity_date (one row per facility)."""
    rows = facilities.select("customer_id", "start_date", "maturity_date").with_row_index("f")
    pairs = rows.join(rows, on="customer_id", suffix="_old").filter(
        (pl.col("f") != pl.col("f_old"))
        & (pl.col("start_date_old") < pl.col("start_date"))
        & (pl.col("start_date") >= pl.col("maturity_date_old") - pl.duration(days=before_days))
        & (pl.col("start_date") <= pl.col("maturity_date_old") + pl.duration(days=after_days))
    )
    return (
        pairs.select("customer_id", "f")
        .unique()
        .group_by("customer_id")
        .agg(renewals=pl.len().cast(pl.Int64))
    )


def tier_cutoffs(value_scores: Sequence[float] | np.ndarray | pl.Series, policy: PolicyConfig):
    """Minimum value score of core, key and ordinary.

    Absolute: the policy's numbers. Quantile: the score of the last client inside each share
    counted from the top (ties at the cut-off all get the better tier, so the result does not
    depend on row order).
    """
    rules = policy.tiers
    if rules.method == "absolute":
        return {"core": rules.core, "key": rules.key, "ordinary": rules.ordinary}
    scores = np.sort(np.asarray(value_scores, dtype=float))[::-1]
    if scores.size == 0:
        return {"core": 100.0, "key": 100.0, "ordinary": 100.0}
    cutoffs, cumulative = {}, 0.0
    for tier, share in (("core", rules.core), ("key", rules.key), ("ordinary", rules.ordinary)):
        cumulative += share
        rank = min(max(ceil(round(cumulative * scores.size, 9)), 1), scores.size)
        cutoffs[tier] = float(scores[rank - 1])
    return cutoffs


def assign_tiers(value_scores, cutoffs: dict[str, float]) -> pl.Series:
    """Tier of each value score: monotone (a higher score never gets a worse tier)."""
    scores = pl.Series("value_score", value_scores, dtype=pl.Float64)
    return pl.select(
        pl.when(scores >= cutoffs["core"])
        .then(pl.lit("core"))
        .when(scores >= cutoffs["key"])
        .then(pl.lit("key"))
        .when(scores >= cutoffs["ordinary"])
        .then(pl.lit("ordinary"))
        .otherwise(pl.lit("low"))
        .alias("tier")
    ).to_series()


def migration_matrix(
    before: pl.DataFrame, after: pl.DataFrame, key: str = "customer_id", col: str = "tier"
) -> pl.DataFrame:
    """Clients from each tier in ``before`` (null: not in it) to each tier in ``after``.

    Rows are ``from`` = TIERS then null when there are new clients; columns are TIERS.
    """
    joined = after.select(key, pl.col(col).alias("to")).join(
        before.select(key, pl.col(col).alias("from")), on=key, how="left"
    )
    counts = joined.group_by("from", "to").len()
    rows = []
    sources: list[str | None] = list(TIERS)
    if joined["from"].null_count():
        sources.append(None)
    for source in sources:
        subset = counts.filter(
            pl.col("from").is_null() if source is None else pl.col("from") == source
        )
        found = dict(zip(subset["to"].to_list(), subset["len"].to_list(), strict=True))
        rows.append({"from": source, **{t: int(found.get(t, 0)) for t in TIERS}})
    return pl.DataFrame(
        rows, schema={"from": pl.String, **dict.fromkeys(TIERS, pl.Int64)}, orient="row"
    )
