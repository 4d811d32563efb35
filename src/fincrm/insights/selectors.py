"""Reads of the insights app: a client's predictions, the churn model page, demand lists."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from fincrm.analytics.churn import FEATURE_LABELS
from fincrm.analytics.demand import REASON_TEXTS as NEED_TEXTS
from fincrm.analytics.recommend import REASON_TEXTS as RECOMMENDATION_TEXTS
from fincrm.core.policy import policy_active, policy_config

from .models import (
    DEMAND_MIN_PREDICTIONS,
    ChurnModelReport,
    DemandBacktest,
    Prediction,
    Recommendation,
    RecommendationStatus,
)


def _format(template: str, values: dict) -> str:
    try:
        return _(template).format(**values)
    except (KeyError, ValueError, TypeError):
        return _(template)


def customer_insights(*, customer) -> dict:
    prediction = Prediction.objects.filter(customer=customer).first()
    recommendations = list(
        Recommendation.objects.filter(customer=customer, status=RecommendationStatus.OPEN)
        .select_related("product")
        .order_by("rank")
    )
    for r in recommendations:
        r.reason_text = _format(RECOMMENDATION_TEXTS.get(r.reason_code, r.reason_code),
                                r.reason_value or {})  # fmt: skip
    reasons, need = [], ""
    if prediction is not None:
        reasons = [
            {**r, "text": _(FEATURE_LABELS.get(r.get("feature"), r.get("feature", "")))}
            for r in prediction.churn_reasons
        ]
        code = (prediction.need_reason or {}).get("code", "")
        if code in NEED_TEXTS:
            need = _format(NEED_TEXTS[code], prediction.need_reason)
    return {
        "prediction": prediction,
        "churn_reasons": reasons,
        "need_text": need,
        "recommendations": recommendations,
    }


def churn_report() -> dict:
    report = ChurnModelReport.objects.first()
    importance = []
    if report is not None:
        total = sum(report.importance.values()) or 1
        importance = sorted(
            (
                {"feature": _(FEATURE_LABELS.get(k, k)), "value": v, "share": v / total * 100}
                for k, v in report.importance.items()
            ),
            key=lambda row: -row["value"],
        )
    return {"report": report, "importance": importance,
            "history": ChurnModelReport.objects.all()[:10]}  # fmt: skip


def demand_list(*, user, days: str) -> dict:
    window = int(days) if days in ("30", "60", "90") else 90
    today = timezone.localdate()
    predictions = (
        Prediction.objects.restrict(user, "view")
        .filter(next_need_on__gte=today, next_need_on__lte=today + timedelta(days=window))
        .select_related("customer", "customer__owner")
        .order_by("next_need_on")[:500]
    )
    rows = list(predictions)
    top = {
        r.customer_id: r
        for r in Recommendation.objects.filter(
            customer_id__in=[p.customer_id for p in rows], status=RecommendationStatus.OPEN, rank=1
        ).select_related("product")
    }
    for p in rows:
        p.days_left = (p.next_need_on - today).days
        p.suggested = top.get(p.customer_id)
    return {"rows": rows, "days": window, "windows": (30, 60, 90), **demand_backtest()}


def demand_backtest() -> dict:
    """The latest back-test of the levels the forecast gives: per level, then everyone else
    (the base rate); empty before the first prediction run."""
    tested = list(DemandBacktest.objects.filter(basis__in=("calibrated", "levels")))
    reported = [t for t in tested if t.basis == "calibrated"]
    levels = [t for t in reported if t.confidence]
    others = next((t for t in reported if not t.confidence), None)
    earned = sorted((t for t in tested if t.basis == "levels"), key=lambda t: -t.predictions)
    first = reported[0] if reported else None
    rules = policy_config(policy_active()).prediction
    return {"backtest": levels, "backtest_others": others, "backtest_run": first,
            "backtest_kinds": earned, "high_hit_rate": rules.demand_high_hit_rate,
            "medium_hit_rate": rules.demand_medium_hit_rate,
            "min_predictions": DEMAND_MIN_PREDICTIONS}  # fmt: skip
