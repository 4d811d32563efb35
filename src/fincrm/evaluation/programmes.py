"""Strategies at work: programme tasks for the nightly run, a client's strategy explained.

The strategies themselves (per segment and lifecycle stage: contact cadence, product
priorities, programmes) are policy (``fincrm.analytics.strategy``); the evaluation writes each
client's segments and stage (``Classification``). Here they meet: ``fincrm daily`` gives each
client of a programme its task of the period (once per client, programme and period, through
the engagement app's task service), and the 360° page says in words which strategy applies,
which programme the client is in and what its next task is.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from fincrm.analytics.policy import PolicyConfig
from fincrm.analytics.strategy import (
    KEY_PREFIX,
    StrategyRules,
    cautious_appetite,
    cautious_appetite_expr,
    client_product_priorities,
    client_programmes,
    max_risk_expr,
    product_priorities,
    programme_key,
    propose_profile,
    strategies_for,
)
from fincrm.core.policy import policy_active, policy_config

from .features import fetch
from .models import Classification

PRIORITY = {"review": "high"}


def _chinese(language: str | None) -> bool:
    return (language or "").startswith("zh")


def programme_names(rules: StrategyRules, language: str | None = None) -> dict[str, str]:
    """Programme code → name in ``language`` (default: the reader's)."""
    chinese = _chinese(language or get_language())
    return {code: p.name_zh if chinese else p.name_en for code, p in rules.programmes.items()}


def _members(rules: StrategyRules, customer_ids=None) -> pl.DataFrame:
    """customer_id, owner_id, programme, source of every client with an account manager."""
    rows = Classification.objects.order_by().filter(customer__owner__isnull=False)
    if customer_ids is not None:
        rows = rows.filter(customer_id__in=customer_ids)
    frame = fetch(
        rows.values_list("customer_id", "customer__owner_id", "lifecycle", "segments"),
        {"customer_id": pl.Int64, "owner_id": pl.Int64, "lifecycle": pl.String,
         "segments": pl.String},
    ).with_columns(pl.col("segments").str.json_decode(pl.List(pl.String)))  # fmt: skip
    return client_programmes(frame, rules).join(
        frame.select("customer_id", "owner_id"), on="customer_id"
    )


def programme_tasks_plan(*, as_of: date | None = None, customer_ids=None) -> dict[str, int]:
    """Give each client of each programme (by its segments and stage, as the last evaluation
    classified it) its task of the programme's current period, unless it already has one (done
    or not): a second run in the same period creates nothing. Tasks are written in the
    language of the site (``LANGUAGE_CODE``). Returns the tasks created per programme."""
    from fincrm.engagement.services import tasks_schedule_many

    as_of = as_of or timezone.localdate()
    policy = policy_config(policy_active())
    rules = policy.strategies
    members = _members(rules, customer_ids)
    chinese = _chinese(settings.LANGUAGE_CODE)
    sources = _source_names(policy, chinese)
    created: dict[str, int] = {}
    for code, programme in rules.programmes.items():
        clients = members.filter(pl.col("programme") == code)
        name = programme.name_zh if chinese else programme.name_en
        task = programme.task_zh if chinese else programme.task_en
        title = f"{name}：{task}" if chinese else f"{name}: {task}"
        key = programme_key(code, programme.period, as_of)
        due = as_of + timedelta(days=programme.due_in_days)
        priority = PRIORITY.get(programme.task_kind, "normal")
        rows = (
            (c, owner, programme.task_kind, title, sources.get(source, ""), programme.channel,
             priority, due, key)
            for c, owner, source in clients.select("customer_id", "owner_id", "source").iter_rows()
        )  # fmt: skip
        created[code] = tasks_schedule_many(rows=rows)
    return created


def programme_tasks_withdraw(*, customer_ids=None) -> int:
    """Cancel the open programme tasks of clients no longer in that programme: their stage or
    segments moved on (a new client became active, a dormant one came back), they lost their
    account manager, or the policy dropped the programme. Done tasks stay as they are. Returns
    how many were cancelled."""
    from fincrm.analytics.strategy import KEY_PREFIX
    from fincrm.engagement.choices import TaskStatus
    from fincrm.engagement.models import Task
    from fincrm.engagement.services import tasks_cancel_many

    rules = policy_config(policy_active()).strategies
    members = _members(rules, customer_ids)
    enrolled = set(members.select("customer_id", "programme").iter_rows())
    tasks = Task.objects.filter(source_key__startswith=KEY_PREFIX, status=TaskStatus.OPEN)
    if customer_ids is not None:
        tasks = tasks.filter(customer_id__in=customer_ids)
    left = [
        pk
        for pk, customer_id, key in tasks.values_list("pk", "customer_id", "source_key").iterator()
        if (customer_id, key[len(KEY_PREFIX) :].split(":", 1)[0]) not in enrolled
    ]
    return tasks_cancel_many(ids=left)


def _source_names(policy: PolicyConfig, chinese: bool) -> dict[str, str]:
    """``segment:<code>`` / ``lifecycle:<stage>`` → why a client is in a programme, in words
    ("成长型企业：推出中长期贷款产品，支持业务扩张")."""
    from .choices import Lifecycle

    rules = policy.strategies
    segments = {r.code: r.name_zh if chinese else r.name_en for r in policy.segments}
    names = {f"segment:{code}": segments.get(code, code) for code in rules.segments}
    stages = dict(Lifecycle.choices)
    with translation.override("zh-hans" if chinese else "en"):
        names |= {f"lifecycle:{s}": str(stages[s]) for s in rules.lifecycle}
    advice = {f"segment:{k}": s for k, s in rules.segments.items()}
    advice |= {f"lifecycle:{k}": s for k, s in rules.lifecycle.items()}
    sep = "：" if chinese else ": "
    return {
        source: name + sep + (advice[source].advice_zh if chinese else advice[source].advice_en)
        for source, name in names.items()
    }


# --- the 360° page ----------------------------------------------------------------------------


def customer_profile(*, customer, rules: StrategyRules) -> dict:
    """The needs level and risk appetite proposed for one client from what it holds and
    answered, beside the ones on file, and the appetite its recommendations follow."""
    from fincrm.financing.models import Facility
    from fincrm.surveys.models import Answer

    holdings = pl.DataFrame(
        list(Facility.objects.filter(customer=customer).values_list(
            "customer_id", "product__product_type")),
        schema={"customer_id": pl.Int64, "product_type": pl.String},
        orient="row",
    )  # fmt: skip
    answers = [
        (customer.pk, option, at)
        for chosen, at in Answer.objects.filter(response__customer=customer).values_list(
            "choices", "response__submitted_at"
        )
        for option in chosen or ()
        if isinstance(option, str)
    ]
    proposed = propose_profile(
        holdings,
        pl.DataFrame(
            answers,
            schema={
                "customer_id": pl.Int64,
                "option": pl.String,
                "answered_at": pl.Datetime("us", "UTC"),
            },
            orient="row",
        ),
        rules,
    )
    row = proposed.row(0, named=True) if proposed.height else {}
    return {
        "needs_level": row.get("needs_level"),
        "needs_reason": row.get("needs_reason"),
        "answer_needs": row.get("answer_needs"),
        "product_types": row.get("product_types") or 0,
        "risk_appetite": row.get("risk_appetite"),
        "appetite_reason": row.get("appetite_reason"),
        "answer_appetite": row.get("answer_appetite"),
        "followed_appetite": cautious_appetite(customer.risk_appetite, row.get("risk_appetite")),
    }


def _strategy_lines(
    rules: StrategyRules, *, lifecycle: str | None, segments, products: dict
) -> list[dict]:
    """One line per strategy that applies (each segment's, the stage's), in the reader's
    language: who it is for, the product types it puts first and its advice."""
    from fincrm.core.policy import segment_names

    from .choices import Lifecycle

    chinese = _chinese(get_language())
    sep = "、" if chinese else ", "
    segment_label = segment_names()
    stage_label = dict(Lifecycle.choices)
    lines = []
    for source, strategy in strategies_for(rules, lifecycle=lifecycle, segments=segments):
        kind, code = source.split(":", 1)
        who = str(segment_label.get(code, code) if kind == "segment" else stage_label[code])
        first = [str(products[t]) for t in strategy.product_priorities]
        text = (
            _("%(who)s: recommend %(products)s first.") % {"who": who, "products": sep.join(first)}
            if first
            else _("%(who)s:") % {"who": who}
        )
        advice = strategy.advice_zh if chinese else strategy.advice_en
        lines.append({"text": (text + ("" if chinese else " ") + advice).strip(), "source": source})
    return lines


def _programmes_with_next_task(
    rules: StrategyRules, *, customer, lifecycle: str | None, segments
) -> list[dict]:
    """The programmes the client is in (code and name), each with its next open task."""
    from fincrm.engagement.choices import TaskStatus
    from fincrm.engagement.models import Task

    members = client_programmes(
        pl.DataFrame(
            {"customer_id": [customer.pk], "lifecycle": [lifecycle], "segments": [list(segments)]},
            schema={
                "customer_id": pl.Int64,
                "lifecycle": pl.String,
                "segments": pl.List(pl.String),
            },
        ),
        rules,
    )
    open_tasks = {}
    for task in Task.objects.filter(
        customer=customer, status=TaskStatus.OPEN, source_key__startswith=KEY_PREFIX
    ).order_by("due_on", "pk"):
        open_tasks.setdefault(task.source_key.split(":")[1], task)
    names = programme_names(rules)
    return [
        {"code": code, "name": names[code], "next_task": open_tasks.get(code)}
        for code in members["programme"].to_list()
    ]


def customer_strategy(
    *, customer, lifecycle: str | None, segments, tier: str | None = None
) -> dict:
    """What the strategies say for one client, in the reader's language: one line per
    segment and for its stage ("成长型企业：优先推荐设备融资租赁、流动资金贷款。推出中长期贷款
    产品，支持业务扩张"), its programmes with their next open task, the contact cadence they
    ask for, and the proposed needs level and risk appetite."""
    from fincrm.customers.choices import NeedsLevel, RiskAppetite
    from fincrm.financing.choices import ProductType

    policy = policy_config(policy_active())
    rules = policy.strategies
    products = dict(ProductType.choices)
    lines = _strategy_lines(rules, lifecycle=lifecycle, segments=segments, products=products)
    programmes = _programmes_with_next_task(
        rules, customer=customer, lifecycle=lifecycle, segments=segments
    )
    cadences = [s.contact_every_days for _src, s in strategies_for(
        rules, lifecycle=lifecycle, segments=segments) if s.contact_every_days]  # fmt: skip
    profile = customer_profile(customer=customer, rules=rules)
    needs, appetite = dict(NeedsLevel.choices), dict(RiskAppetite.choices)
    return {
        "lines": lines,
        "programmes": programmes,
        # The tier's plan, tightened by the strategies (as the nightly run plans contacts).
        "contact_every_days": min(
            [*cadences, policy.service_plans[tier].contact_every_days]
            if tier in policy.service_plans
            else cadences,
            default=None,
        ),
        "priorities": [
            str(products[t])
            for t in product_priorities(rules, lifecycle=lifecycle, segments=segments)
        ],
        "profile": {
            **profile,
            "needs_label": needs.get(profile["needs_level"]),
            "appetite_label": appetite.get(profile["risk_appetite"]),
            "followed_label": appetite.get(profile["followed_appetite"]),
            "recorded_needs_label": customer.get_needs_level_display(),
            "recorded_appetite_label": customer.get_risk_appetite_display(),
        },
    }


def book_profiles(policy: PolicyConfig) -> pl.DataFrame:
    """What the recommendations need of the strategies, for the whole book: ``customer_id``,
    ``risk_appetite`` (the more cautious of the one on file and the one proposed from holdings
    and answers), ``max_product_risk`` (the riskiest level offered first) and
    ``preferred_types`` (product types its segments and stage put first; null: none)."""
    from fincrm.customers.models import Customer
    from fincrm.financing.models import Facility
    from fincrm.surveys.models import Answer

    rules = policy.strategies
    recorded = fetch(
        Customer.objects.order_by().values_list("pk", "risk_appetite"),
        {"customer_id": pl.Int64, "recorded": pl.String},
    )
    holdings = fetch(
        Facility.objects.order_by().values_list("customer_id", "product__product_type"),
        {"customer_id": pl.Int64, "product_type": pl.String},
    )
    answers = (
        fetch(
            Answer.objects.order_by()
            .exclude(choices=[])
            .values_list("response__customer_id", "choices", "response__submitted_at"),
            {"customer_id": pl.Int64, "option": pl.String, "answered_at": pl.Datetime("us", "UTC")},
        )
        .with_columns(pl.col("option").str.json_decode(pl.List(pl.String)))
        .explode("option")
        .drop_nulls("option")
    )
    proposed = propose_profile(holdings, answers, rules).select("customer_id", "risk_appetite")
    classes = fetch(
        Classification.objects.order_by().values_list("customer_id", "lifecycle", "segments"),
        {"customer_id": pl.Int64, "lifecycle": pl.String, "segments": pl.String},
    ).with_columns(pl.col("segments").str.json_decode(pl.List(pl.String)))
    followed = cautious_appetite_expr(pl.col("recorded"), pl.col("risk_appetite"))
    return (
        recorded.join(proposed, on="customer_id", how="left")
        .join(client_product_priorities(classes, rules), on="customer_id", how="left")
        .select(
            "customer_id",
            followed.alias("risk_appetite"),
            max_risk_expr(followed, rules).alias("max_product_risk"),
            "preferred_types",
        )
    )


# --- the policy page --------------------------------------------------------------------------

PERIOD_LABELS = {
    "once": gettext_lazy("Once"),
    "year": gettext_lazy("Every year"),
    "half": gettext_lazy("Every half-year"),
    "quarter": gettext_lazy("Every quarter"),
    "month": gettext_lazy("Every month"),
}


def strategy_table(policy: PolicyConfig) -> dict:
    """The strategies of ``policy`` as the policy page lists them, in the reader's language:
    one row per segment and stage, one per programme."""
    from fincrm.engagement.choices import InteractionChannel, TaskKind
    from fincrm.financing.choices import ProductType

    from .choices import Lifecycle

    rules = policy.strategies
    chinese = _chinese(get_language())
    sep = "、" if chinese else ", "
    names = programme_names(rules)
    segments = {r.code: r.name_zh if chinese else r.name_en for r in policy.segments}
    stages = dict(Lifecycle.choices)
    products = dict(ProductType.choices)
    rows = [(_("Segment"), segments.get(code, code), s) for code, s in rules.segments.items()] + [
        (_("Lifecycle stage"), str(stages[code]), s) for code, s in rules.lifecycle.items()
    ]
    channels, kinds = dict(InteractionChannel.choices), dict(TaskKind.choices)
    return {
        "rows": [
            {
                "kind": kind,
                "who": who,
                "contact_every_days": s.contact_every_days,
                "products": sep.join(str(products[t]) for t in s.product_priorities),
                "programmes": sep.join(names.get(code, code) for code in s.programmes),
                "advice": s.advice_zh if chinese else s.advice_en,
            }
            for kind, who, s in rows
        ],
        "programmes": [
            {
                "name": names[code],
                "task": p.task_zh if chinese else p.task_en,
                "kind": kinds[p.task_kind],
                "channel": channels[p.channel],
                "period": PERIOD_LABELS[p.period],
                "due_in_days": p.due_in_days,
            }
            for code, p in rules.programmes.items()
        ],
        "product_risk": [
            (str(products[t]), level)
            for t, level in sorted(rules.product_risk.items(), key=lambda item: (item[1], item[0]))
        ],
    }
