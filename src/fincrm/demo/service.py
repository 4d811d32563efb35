"""The demo book's service history: satisfaction surveys with answers, complaints and requests
with their SLA clocks, and loyalty points — drawn per chunk of clients with the rest of the book
(see demo.book), deterministic for a seed.

Answers follow a small latent model so the survey pages have something true to show: overall
satisfaction is driven mostly by approval speed, then staff attitude, then fees (plus noise),
and the recommendation score follows overall satisfaction.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from functools import cache

import numpy as np
import polars as pl

from fincrm.analytics import sla

from . import draws
from .plan import ServicePlan

SURVEY_SHARE = 0.35
ANSWER_RATE = 0.55
TICKET_SHARE = 0.08
SEVERITIES = ("low", "medium", "medium", "high", "critical")
TICKET_CHANNELS = ("phone", "wechat", "visit", "portal")
#: (text, category, root cause, resolution) of typical complaints and requests.
TICKETS = (
    ("放款太慢", "审批进度拖延了两周，一直没有放款，影响采购", "processing_speed", "process",
     "协调审批加急，三日内完成放款"),
    ("手续费太高", "续贷时收取的手续费比同行高，收费不透明", "fees", "policy",
     "解释收费构成，按政策减免部分手续费"),
    ("客户经理态度差", "电话沟通时态度不耐烦，多次催要材料", "service_attitude", "staff",
     "致歉并调整对接人员，加强服务培训"),
    ("重复扣款", "还款日被重复扣款，要求尽快退还", "repayment", "system",
     "核实后退还重复扣款并修复批扣程序"),
    ("合同条款疑问", "合同中提前还款条款不清楚，需要解释", "documents", "communication",
     "客户经理上门解释条款并提供书面说明"),
    ("小程序无法登录", "微信小程序登录一直报错，无法查看还款计划", "system", "system",
     "修复登录问题并告知客户"),
    ("申请提高额度", "业务扩张，希望提高授信额度", "other", "client",
     "已受理，转入授信评审流程"),
    ("发票开具", "需要开具利息发票用于报销", "documents", "process", "已开具并邮寄发票"),
)  # fmt: skip
POSITIVE_TEXTS = ("审批很快，服务专业，感谢客户经理", "流程方便，放款及时，非常满意",
                  "客户经理很专业，沟通顺畅")  # fmt: skip
NEGATIVE_TEXTS = ("放款太慢，材料要求太多，很失望", "收费高，态度不耐烦", "审批拖延，沟通不及时")
NEUTRAL_TEXTS = ("希望能提供线上还款提醒", "建议增加更多产品选择")
SURVEYS = {
    "annual": ("年度客户满意度调查", "annual"),
    "disbursement": ("放款服务满意度调查", "disbursement"),
    "complaint_closed": ("投诉处理满意度回访", "complaint_closed"),
}
QUESTIONS = {
    "nps": ("nps", "您向朋友或合作伙伴推荐我们的可能性有多大？", False),
    "overall": ("rating", "总体来说，您对我们的服务满意吗？", True),
    "speed": ("rating", "审批和放款速度", False),
    "attitude": ("rating", "客户经理的服务态度与专业程度", False),
    "fees": ("rating", "费用与利率的透明合理", False),
    "text": ("text", "您还有什么建议？", False),
}
SCORES = ("nps", "overall", "speed", "attitude", "fees")


def service_plan() -> ServicePlan:
    """Create the surveys and read what the draws need: SLA rules, the categoriser's
    suggestion for each typical ticket, the sentiment and keywords of each survey comment."""
    from fincrm.analytics.text import keywords, sentiment
    from fincrm.core.policy import policy_active, policy_config
    from fincrm.service.services import categoriser
    from fincrm.surveys.models import Question, Survey

    questions = {}
    for key, (name, trigger) in SURVEYS.items():
        survey = Survey.objects.create(name=name, trigger=trigger, channel="portal")
        if key == "annual":
            annual = survey.pk
        for i, (code, (kind, text, overall)) in enumerate(QUESTIONS.items(), start=1):
            question = Question.objects.create(
                survey=survey, position=i, kind=kind, text=text, is_overall=overall,
                required=kind != "text",
            )  # fmt: skip
            if key == "annual":
                questions[code] = question.pk
    rules = policy_config(policy_active()).service.sla
    model = categoriser()
    suggestions = {}
    for subject, text, *_rest in TICKETS:
        found = model.suggest(f"{subject} {text}")
        suggestions[subject] = (found.category, found.source, tuple(found.keywords))
    texts = (*POSITIVE_TEXTS, *NEGATIVE_TEXTS, *NEUTRAL_TEXTS)
    return ServicePlan(
        annual_survey=annual,
        questions=questions,
        sla={s: (r.respond_hours, r.resolve_hours, r.business_days) for s, r in rules.items()},
        suggestions=suggestions,
        tones={t: (sentiment(t).label, tuple(keywords(t))) for t in texts},
    )


def draw_service(
    rng: np.random.Generator,
    plan: ServicePlan,
    as_of: date,
    customers: pl.DataFrame,
    installments: pl.DataFrame,
) -> dict[str, pl.DataFrame]:
    """Survey invitations, responses and answers, tickets and points entries of a chunk."""
    day = np.datetime64(as_of, "D")
    frames = _surveys(rng, plan, day, as_of, customers)
    frames["tickets"] = _tickets(rng, plan, day, customers)
    frames["points"] = _points(rng, as_of, installments, frames["responses"])
    return frames


def _surveys(rng, plan: ServicePlan, day, as_of: date, customers: pl.DataFrame):
    """The annual survey, last year and this year, to about a third of the clients."""
    surveyed = np.flatnonzero(rng.random(customers.height) < SURVEY_SHARE)
    customer, second = draws.spread(np.full(len(surveyed), 2))
    customer = surveyed[customer]
    n = len(customer)
    march = np.datetime64(date(as_of.year - 1, 3, 15), "D")
    sent = np.where(second == 1, day - rng.integers(5, 120, n), march)
    year = np.where(second == 1, as_of.year, as_of.year - 1)
    sent_at = draws.office_time(rng, sent, on_the_hour=True)
    answered = (rng.random(n) < ANSWER_RATE) & (sent + 3 <= day)
    owner = customers["owner_id"].to_numpy()[customer]
    # Answers: overall satisfaction from speed, attitude and fees; NPS from satisfaction.
    rows = np.flatnonzero(answered)
    m = len(rows)
    speed, attitude, fees = (rng.normal(3.9, 0.9, m), rng.normal(4.1, 0.7, m),
                             rng.normal(3.5, 0.9, m))  # fmt: skip
    latent = 0.5 * speed + 0.3 * attitude + 0.2 * fees + rng.normal(0, 0.35, m)
    overall = _clip(latent, 1, 5)
    nps = _clip(2.3 * latent - 1.5 + rng.normal(0, 1.0, m), 0, 10)
    commented = rng.random(m) < 0.4
    pools = [NEGATIVE_TEXTS, NEUTRAL_TEXTS, POSITIVE_TEXTS]
    mood = np.where(overall >= 4, 2, np.where(overall <= 2, 0, 1))
    pick = rng.random(m)
    text = [
        pools[k][int(u * len(pools[k]))] if c else ""
        for k, u, c in zip(mood.tolist(), pick.tolist(), commented.tolist(), strict=True)
    ]
    tone = [plan.tones[t] if t else ("", ()) for t in text]
    submitted = sent_at[rows] + rng.integers(0, 3, m) * 86_400 + 7_200
    answered_at = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    answered_at[rows] = submitted
    invitations = pl.DataFrame(
        {
            "id": np.arange(n),
            "survey_id": np.full(n, plan.annual_survey),
            "customer_id": customer,
            "channel": np.full(n, "portal"),
            "cause": [f"annual:{y}" for y in year.tolist()],
            "_year": year,
            "manager_id": owner,
            "sent_at": draws.times(sent_at),
            "expires_at": draws.times(draws.office_time(rng, sent + 30, on_the_hour=True)),
            "answered_at": draws.times(answered_at),
        }
    )
    responses = pl.DataFrame(
        {
            "id": np.arange(m),
            "invitation_id": rows,
            "customer_id": customer[rows],
            "submitted_at": draws.times(submitted),
            "nps_score": nps,
            "rating": overall,
            "sentiment": [label for label, _words in tone],
            "keywords": [json.dumps(list(words)) for _label, words in tone],
        }
    )
    scores = np.stack([nps, overall, _clip(speed, 1, 5), _clip(attitude, 1, 5),
                       _clip(fees, 1, 5)], axis=1)  # fmt: skip
    numbers = pl.DataFrame(
        {
            "response_id": np.repeat(np.arange(m), len(SCORES)),
            "question_id": np.tile([plan.questions[c] for c in SCORES], m),
            "number": scores.reshape(-1),
            "text": np.full(m * len(SCORES), ""),
        }
    )
    comments = np.flatnonzero(commented)
    texts = pl.DataFrame(
        {
            "response_id": comments,
            "question_id": np.full(len(comments), plan.questions["text"]),
            "number": pl.Series([None] * len(comments), dtype=pl.Int64),
            "text": pl.Series([text[i] for i in comments], dtype=pl.String),
        }
    )
    answers = pl.concat([numbers, texts]).sort("response_id", maintain_order=True)
    return {"invitations": invitations, "responses": responses, "answers": answers}


def _clip(values: np.ndarray, low: int, high: int) -> np.ndarray:
    return np.clip(np.round(values), low, high).astype(np.int64)


@cache
def _deadlines(opened: datetime, severity: str, rules: tuple) -> tuple[datetime, datetime]:
    respond_hours, resolve_hours, business_days = dict(rules)[severity]
    return (
        sla.add_business_hours(opened, respond_hours, business_days=business_days),
        sla.add_business_hours(opened, resolve_hours, business_days=business_days),
    )


def _tickets(rng, plan: ServicePlan, day, customers: pl.DataFrame) -> pl.DataFrame:
    """One or two complaints or requests for one client in twelve, most of them handled."""
    filed = np.flatnonzero(rng.random(customers.height) < TICKET_SHARE)
    customer, _k = draws.spread(rng.integers(1, 3, len(filed)))
    customer = filed[customer]
    n = len(customer)
    opened_on = day - rng.integers(0, 700, n)
    kind = rng.integers(0, len(TICKETS), n)
    severity = np.array(SEVERITIES)[rng.integers(0, len(SEVERITIES), n)]
    opened = draws.office_time(rng, opened_on, on_the_hour=True)
    rules = tuple(sorted(plan.sla.items()))
    respond_by, resolve_by = np.empty(n, "datetime64[s]"), np.empty(n, "datetime64[s]")
    for i, (when, level) in enumerate(zip(opened.tolist(), severity.tolist(), strict=True)):
        local = (when + timedelta(hours=8)).replace(tzinfo=sla.SHANGHAI)
        respond, resolve = _deadlines(local, level, rules)
        respond_by[i] = np.datetime64(respond.replace(tzinfo=None) - timedelta(hours=8), "s")
        resolve_by[i] = np.datetime64(resolve.replace(tzinfo=None) - timedelta(hours=8), "s")
    channel = np.array(TICKET_CHANNELS)[rng.integers(0, len(TICKET_CHANNELS), n)]
    # Handled: responded (sometimes late), resolved, closed, often rated.
    handled = (opened_on < day - 10) | (rng.random(n) < 0.3)
    late = rng.random(n) < 0.12
    to_respond = (respond_by - opened).astype(np.int64)
    to_resolve = (resolve_by - opened).astype(np.int64)
    responded = np.where(
        late,
        respond_by + np.timedelta64(3, "h"),
        opened + (to_respond * rng.uniform(0.1, 0.9, n)).astype("timedelta64[s]"),
    )
    resolved = responded + (to_resolve * rng.uniform(0.2, np.where(late, 1.2, 0.9))).astype(
        "timedelta64[s]"
    )
    rated = rng.random(n) < 0.6
    satisfaction = _clip(rng.normal(np.where(late, 3.3, 4.2), 0.8), 1, 5)
    started = ~handled & (rng.random(n) < 0.5)
    nat = np.datetime64("NaT", "s")
    subject, text, category, cause, resolution = (np.array(c) for c in zip(*TICKETS, strict=True))
    suggestion = [plan.suggestions[s] for s in subject[kind]]
    return pl.DataFrame(
        {
            "customer_id": customer,
            "kind": np.where(category[kind] == "other", "request", "complaint"),
            "channel": channel,
            "subject": subject[kind],
            "description": text[kind],
            "category": category[kind],
            "suggested_category": [s[0] for s in suggestion],
            "suggestion_source": [s[1] for s in suggestion],
            "keywords": [json.dumps(list(s[2])) for s in suggestion],
            "severity": severity,
            "status": np.where(handled, "closed", np.where(started, "in_progress", "open")),
            "assignee_id": customers["owner_id"].to_numpy()[customer],
            "opened_at": draws.times(opened),
            "respond_by": draws.times(respond_by),
            "resolve_by": draws.times(resolve_by),
            "responded_at": draws.times(
                np.where(handled, responded, np.where(started, opened + 3_600, nat))
            ),
            "resolved_at": draws.times(np.where(handled, resolved, nat)),
            "closed_at": draws.times(np.where(handled, resolved + 86_400, nat)),
            "resolution": np.where(handled, resolution[kind], ""),
            "root_cause": np.where(handled, cause[kind], ""),
            "satisfaction": pl.Series(satisfaction).zip_with(
                pl.Series(handled & rated), pl.Series([None] * n, dtype=pl.Int64)
            ),
        }
    )


def _points(rng, as_of: date, installments: pl.DataFrame, responses: pl.DataFrame):
    """Loyalty points: on-time instalments of the last two years, answered surveys."""
    since = as_of - timedelta(days=730)
    on_time = installments.filter(
        pl.col("paid_off_on").is_between(since, as_of)
        & (pl.col("paid_off_on") <= pl.col("due_date"))
    )
    paid_on = on_time["paid_off_on"].to_numpy().astype("datetime64[D]")
    repaid = pl.DataFrame(
        {
            "_customer": on_time["_customer"],
            "reason": np.full(on_time.height, "on_time_repayment"),
            "points": np.full(on_time.height, 10),
            "occurred_at": draws.times(draws.office_time(rng, paid_on, on_the_hour=True)),
            "expires_on": draws.dates(paid_on + 730),
            "_installment": on_time["id"],
            "_invitation": pl.Series([None] * on_time.height, dtype=pl.Int64),
        }
    )
    submitted = responses["submitted_at"].to_numpy().astype("datetime64[s]")
    answered = pl.DataFrame(
        {
            "_customer": responses["customer_id"],
            "reason": np.full(responses.height, "survey_answered"),
            "points": np.full(responses.height, 50),
            "occurred_at": responses["submitted_at"],
            "expires_on": draws.dates((submitted + draws.UTC_OFFSET).astype("datetime64[D]") + 730),
            "_installment": pl.Series([None] * responses.height, dtype=pl.Int64),
            "_invitation": responses["invitation_id"],
        }
    )
    return pl.concat([repaid, answered], how="vertical_relaxed").with_columns(
        pl.col("_customer").alias("customer_id"), kind=pl.lit("earn")
    )
