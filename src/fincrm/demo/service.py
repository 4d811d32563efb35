"""The demo book's service history: satisfaction surveys with answers, complaints and requests
with their SLA clocks, and loyalty points — deterministic for a seed, written in bulk.

Answers follow a small latent model so the survey pages have something true to show: overall
satisfaction is driven mostly by approval speed, then staff attitude, then fees (plus noise),
and the recommendation score follows overall satisfaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from fincrm.analytics.text import keywords, sentiment
from fincrm.customers.models import Customer
from fincrm.financing.models import Installment
from fincrm.loyalty.models import PointsEntry
from fincrm.service.models import Ticket
from fincrm.service.services import categoriser, deadlines
from fincrm.surveys.models import Answer, Invitation, Question, Response, Survey, token_digest

SURVEY_SHARE = 0.35
ANSWER_RATE = 0.55
TICKET_SHARE = 0.08
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


@dataclass
class ServiceStats:
    invitations: int = 0
    responses: int = 0
    tickets: int = 0
    points_entries: int = 0


def _surveys() -> dict[str, tuple[Survey, dict[str, Question]]]:
    specs = {
        "annual": ("年度客户满意度调查", "annual"),
        "disbursement": ("放款服务满意度调查", "disbursement"),
        "complaint_closed": ("投诉处理满意度回访", "complaint_closed"),
    }
    out = {}
    for key, (name, trigger) in specs.items():
        survey = Survey.objects.create(name=name, trigger=trigger, channel="portal")
        questions = {
            "nps": ("nps", "您向朋友或合作伙伴推荐我们的可能性有多大？", False),
            "overall": ("rating", "总体来说，您对我们的服务满意吗？", True),
            "speed": ("rating", "审批和放款速度", False),
            "attitude": ("rating", "客户经理的服务态度与专业程度", False),
            "fees": ("rating", "费用与利率的透明合理", False),
            "text": ("text", "您还有什么建议？", False),
        }
        out[key] = (
            survey,
            {
                code: Question.objects.create(
                    survey=survey,
                    position=i,
                    kind=kind,
                    text=text,
                    is_overall=overall,
                    required=kind != "text",
                )
                for i, (code, (kind, text, overall)) in enumerate(questions.items(), start=1)
            },
        )
    return out


def _at(day: date, rng: np.random.Generator) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(int(rng.integers(9, 18)))))


def _clip(value: float, low: int, high: int) -> int:
    return int(min(high, max(low, round(value))))


@transaction.atomic
def build_service_history(
    *, seed: int, as_of: date, progress: Callable[[int], None] | None = None
) -> ServiceStats:
    rng = np.random.default_rng(seed + 1)
    stats = ServiceStats()
    surveys = _surveys()
    text_cache: dict[str, tuple[str, list[str]]] = {}
    categories = categoriser()
    customers = list(Customer.objects.order_by("pk").values_list("pk", "owner_id"))
    annual, questions = surveys["annual"]
    invitations, answered, tickets = [], [], []
    for pk, owner in customers:
        if rng.random() < SURVEY_SHARE:
            for year in (as_of.year - 1, as_of.year):
                sent = (
                    as_of.replace(year=year, month=3, day=15)
                    if year < as_of.year
                    else (as_of - timedelta(days=int(rng.integers(5, 120))))
                )
                invitation = Invitation(
                    survey=annual, customer_id=pk, channel="portal", cause=f"annual:{year}",
                    manager_id=owner, sent_at=_at(sent, rng),
                    expires_at=_at(sent + timedelta(days=30), rng),
                    token_hash=token_digest(f"demo-{seed}-{pk}-{year}"),
                )  # fmt: skip
                invitations.append(invitation)
                if rng.random() < ANSWER_RATE and sent + timedelta(days=3) <= as_of:
                    answered.append(invitation)
        if rng.random() < TICKET_SHARE:
            for _ in range(int(rng.integers(1, 3))):
                tickets.append((pk, owner, as_of - timedelta(days=int(rng.integers(0, 700)))))
        if progress:
            progress(1)
    Invitation.objects.bulk_create(invitations, batch_size=2_000)
    responses, answers = [], []
    for invitation in answered:
        speed, attitude, fees = (rng.normal(3.9, 0.9), rng.normal(4.1, 0.7), rng.normal(3.5, 0.9))
        latent = 0.5 * speed + 0.3 * attitude + 0.2 * fees + rng.normal(0, 0.35)
        overall = _clip(latent, 1, 5)
        nps = _clip(2.3 * latent - 1.5 + rng.normal(0, 1.0), 0, 10)
        text = ""
        if rng.random() < 0.4:
            pool = (
                POSITIVE_TEXTS
                if overall >= 4
                else NEGATIVE_TEXTS
                if overall <= 2
                else NEUTRAL_TEXTS
            )
            text = pool[int(rng.integers(0, len(pool)))]
            if text not in text_cache:
                text_cache[text] = (sentiment(text).label, keywords(text))
        tone, words = text_cache.get(text, ("", []))
        submitted = invitation.sent_at + timedelta(days=int(rng.integers(0, 3)), hours=2)
        invitation.answered_at = submitted
        response = Response(
            invitation=invitation, customer_id=invitation.customer_id, submitted_at=submitted,
            nps_score=nps, rating=overall, sentiment=tone, keywords=words,
        )  # fmt: skip
        responses.append(response)
        scores = {"nps": nps, "overall": overall, "speed": _clip(speed, 1, 5),
                  "attitude": _clip(attitude, 1, 5), "fees": _clip(fees, 1, 5)}  # fmt: skip
        for code, value in scores.items():
            answers.append(Answer(response=response, question=questions[code], number=value))
        if text:
            answers.append(Answer(response=response, question=questions["text"], text=text))
    Invitation.objects.bulk_update(answered, ["answered_at"], batch_size=2_000)
    Response.objects.bulk_create(responses, batch_size=2_000)
    Answer.objects.bulk_create(answers, batch_size=5_000)
    stats.invitations, stats.responses = len(invitations), len(responses)

    rows = []
    for pk, owner, day in tickets:
        subject, text, category, cause, resolution = TICKETS[int(rng.integers(0, len(TICKETS)))]
        severity = str(rng.choice(["low", "medium", "medium", "high", "critical"]))
        opened = _at(day, rng)
        respond_by, resolve_by = deadlines(opened, severity)
        suggestion = categories.suggest(f"{subject} {text}")
        ticket = Ticket(
            customer_id=pk, kind="request" if category == "other" else "complaint",
            channel=str(rng.choice(["phone", "wechat", "visit", "portal"])), subject=subject,
            description=text, category=category, suggested_category=suggestion.category,
            suggestion_source=suggestion.source, keywords=list(suggestion.keywords),
            severity=severity, assignee_id=owner, opened_at=opened, respond_by=respond_by,
            resolve_by=resolve_by,
        )  # fmt: skip
        if day < as_of - timedelta(days=10) or rng.random() < 0.3:
            # Handled: responded (sometimes late), resolved, closed, often rated.
            late = rng.random() < 0.12
            ticket.responded_at = (
                (respond_by + timedelta(hours=3))
                if late
                else (opened + (respond_by - opened) * float(rng.uniform(0.1, 0.9)))
            )
            ticket.resolved_at = ticket.responded_at + (resolve_by - opened) * float(
                rng.uniform(0.2, 1.2 if late else 0.9)
            )
            ticket.closed_at = ticket.resolved_at + timedelta(days=1)
            ticket.status, ticket.resolution, ticket.root_cause = "closed", resolution, cause
            if rng.random() < 0.6:
                ticket.satisfaction = _clip(rng.normal(3.3 if late else 4.2, 0.8), 1, 5)
        elif rng.random() < 0.5:
            ticket.status, ticket.responded_at = "in_progress", opened + timedelta(hours=1)
        rows.append(ticket)
    Ticket.objects.bulk_create(rows, batch_size=2_000)
    stats.tickets = len(rows)

    # Points: on-time instalments of the last two years, answered surveys.
    since = as_of - timedelta(days=730)
    paid = (
        Installment.objects.filter(paid_off_on__gte=since, paid_off_on__lte=as_of)
        .select_related(None)
        .values_list("pk", "facility__customer_id", "paid_off_on", "due_date")
        .iterator(chunk_size=10_000)
    )
    entries = [
        PointsEntry(
            customer_id=customer_id,
            kind="earn",
            reason="on_time_repayment",
            points=10,
            occurred_at=_at(paid_on, rng),
            expires_on=paid_on + timedelta(days=730),
            key=f"installment:{pk}",
        )
        for pk, customer_id, paid_on, due in paid
        if paid_on <= due
    ]
    entries += [
        PointsEntry(
            customer_id=r.customer_id,
            kind="earn",
            reason="survey_answered",
            points=50,
            occurred_at=r.submitted_at,
            expires_on=timezone.localdate(r.submitted_at) + timedelta(days=730),
            key=f"survey:{r.invitation.pk}",
        )
        for r in responses
    ]
    PointsEntry.objects.bulk_create(entries, batch_size=5_000)
    stats.points_entries = len(entries)
    return stats
