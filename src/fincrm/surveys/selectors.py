"""Survey results: NPS, CSAT and response rate by dimension and period, drivers, free text."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import polars as pl
from django.utils import timezone
from django.utils.translation import gettext as _

from fincrm.analytics.surveys import driver_analysis, summarise
from fincrm.core.classes import Tier
from fincrm.core.frames import ColumnType, fetch
from fincrm.core.policy import segment_names

from .choices import SCORED_KINDS, QuestionKind, Sentiment
from .models import Answer, Invitation, Response, Survey

DIMENSIONS = {
    "tier": _("Tier"),
    "segment": _("Segment"),
    "product": _("Product"),
    "manager": _("Account manager"),
    "period": _("Month"),
}
SCHEMA: dict[str, ColumnType] = {
    "id": pl.Int64,
    "sent_at": pl.Datetime("us", "UTC"),
    "answered_at": pl.Datetime("us", "UTC"),
    "tier": pl.String,
    "segments": pl.String,
    "product": pl.String,
    "manager_first": pl.String,
    "manager_last": pl.String,
    "manager_user": pl.String,
    "nps_score": pl.Int64,
    "csat_score": pl.Int64,
}


def visible_invitations(*, user, survey: Survey):
    return Invitation.objects.restrict(user, "view").filter(survey=survey)


def _frame(*, user, survey: Survey) -> pl.DataFrame:
    qs = visible_invitations(user=user, survey=survey).values_list(
        "id", "sent_at", "answered_at", "customer__classification__tier",
        "customer__classification__segments", "product__name", "manager__first_name",
        "manager__last_name", "manager__username", "response__nps_score", "response__rating",
    )  # fmt: skip
    frame = fetch(qs.order_by(), {**SCHEMA, "segments": pl.String})
    tiers = dict(Tier.choices)
    names = segment_names()
    return frame.with_columns(
        answered=pl.col("answered_at").is_not_null(),
        tier=pl.col("tier").replace_strict(
            {k: str(v) for k, v in tiers.items()}, default=_("Not evaluated")
        ),
        segment=pl.col("segments")
        .str.extract(r'"([^"]+)"')
        .replace_strict(names, default=None)
        .fill_null(_("No segment")),
        product=pl.col("product").fill_null("—"),
        manager=pl.concat_str(["manager_last", "manager_first"])
        .replace("", None)
        .fill_null(pl.col("manager_user"))
        .fill_null("—"),
        period=pl.col("sent_at")
        .dt.convert_time_zone(str(timezone.get_current_timezone()))
        .dt.strftime("%Y-%m"),
    )


def survey_results(*, user, survey: Survey, by: str = "tier", days: int = 90) -> dict:
    """Results of the last ``days`` by ``by``, each group compared with the ``days`` before;
    ``by="period"`` lists every month instead."""
    by = by if by in DIMENSIONS else "tier"
    frame = _frame(user=user, survey=survey)
    now = timezone.now()
    start, previous_start = now - timedelta(days=days), now - timedelta(days=2 * days)
    if by == "period":
        current, previous = frame, None
    else:
        current = frame.filter(pl.col("sent_at") >= start)
        previous = frame.filter((pl.col("sent_at") >= previous_start) & (pl.col("sent_at") < start))
    rows = summarise(current, [by], previous=previous).to_dicts() if frame.height else []
    overall = summarise(frame.filter(pl.col("sent_at") >= start), []).to_dicts()
    return {
        "by": by,
        "dimensions": DIMENSIONS,
        "rows": rows,
        "overall": overall[0] if overall else None,
        "days": days,
        "drivers": drivers(user=user, survey=survey),
        "text": free_text(user=user, survey=survey),
    }


def drivers(*, user, survey: Survey) -> dict | None:
    """Which scored question explains the overall-satisfaction question most (OLS)."""
    questions = list(survey.questions.filter(kind__in=SCORED_KINDS))
    target = next((q for q in questions if q.is_overall), None)
    # The NPS question is an outcome like the overall one, not a driver of it.
    others = [q for q in questions if q is not target and q.kind == QuestionKind.RATING]
    if target is None or not others:
        return None
    invitations = visible_invitations(user=user, survey=survey).values("pk")
    answers = fetch(
        Answer.objects.filter(response__invitation__in=invitations, question__in=questions)
        .order_by()
        .values_list("response_id", "question_id", "number"),
        {"response_id": pl.Int64, "question_id": pl.Int64, "number": pl.Float64},
    )
    columns = [f"q{q.pk}" for q in questions]
    if answers.height:
        wide = answers.with_columns(q=pl.format("q{}", "question_id")).pivot(
            on="q", index="response_id", values="number"
        )
    else:
        wide = pl.DataFrame(schema={"response_id": pl.Int64})
    for column in columns:
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(column))
    result = driver_analysis(
        wide,
        target=f"q{target.pk}",
        drivers=[f"q{q.pk}" for q in others],
        min_responses=_min_responses(),
    )
    labels = {f"q{q.pk}": q.text for q in questions}
    return {
        "target": target.text,
        "n": result.n,
        "r_squared": result.r_squared,
        "warning": _(result.warning) if result.warning else None,
        "effects": [{**vars(d), "label": labels.get(d.driver, d.driver)} for d in result.drivers],
    }


def _min_responses() -> int:
    from fincrm.core.policy import policy_active, policy_config

    return policy_config(policy_active()).surveys.min_responses


def free_text(*, user, survey: Survey) -> dict:
    invitations = visible_invitations(user=user, survey=survey).values("pk")
    responses = Response.objects.filter(invitation__in=invitations).exclude(sentiment="")
    words: Counter[str] = Counter()
    tones: Counter[str] = Counter()
    for keywords, tone in responses.values_list("keywords", "sentiment").iterator():
        words.update(keywords)
        tones[tone] += 1
    samples = list(
        Answer.objects.filter(response__invitation__in=invitations)
        .exclude(text="")
        .select_related("response")
        .order_by("-response__submitted_at")[:10]
    )
    labelled = [
        {"code": tone, "label": Sentiment(tone).label if tone in Sentiment.values else tone, "n": n}
        for tone, n in tones.most_common()
    ]
    return {"keywords": words.most_common(20), "tones": labelled, "samples": samples}


def active_surveys() -> list[Survey]:
    return list(Survey.objects.filter(is_active=True).order_by("name"))
