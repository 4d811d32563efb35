"""The demo book's lending, drawn for a chunk of clients: applications at every stage with
their history and documents checklist, the approval votes, each client's risk, and the
facilities with schedules, payments and arrears (good, late and defaulting payers). Pure: no
database (see ``demo.book``)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import polars as pl

from fincrm.analytics.delinquency import classify_many
from fincrm.financing.choices import GuaranteeType, Stage

from . import draws, names
from .plan import Plan

#: Target stage of applications (shares); disbursed ones become facilities.
STAGE_SHARES = {
    Stage.LEAD: 0.07, Stage.SUBMITTED: 0.05, Stage.DOCUMENTS: 0.06, Stage.DUE_DILIGENCE: 0.05,
    Stage.CREDIT_REVIEW: 0.05, Stage.APPROVED: 0.03, Stage.CONTRACT: 0.03, Stage.REJECTED: 0.08,
    Stage.WITHDRAWN: 0.04, Stage.DISBURSED: 0.54,
}  # fmt: skip
#: Repayment behaviour of facilities (drawn from the client's risk: ``client_risk``).
BEHAVIOURS = ("good", "late", "default")
PIPELINE = (Stage.LEAD, Stage.SUBMITTED, Stage.DOCUMENTS, Stage.DUE_DILIGENCE,
            Stage.CREDIT_REVIEW, Stage.APPROVED, Stage.CONTRACT, Stage.DISBURSED)  # fmt: skip
#: Every stage path an application can take: along the pipeline up to its stage, rejected
#: after the credit review, or withdrawn after one to three early stages.
PATHS = (
    *(PIPELINE[: i + 1] for i in range(len(PIPELINE))),
    (*PIPELINE[:5], Stage.REJECTED),
    *((*PIPELINE[:stop], Stage.WITHDRAWN) for stop in (1, 2, 3)),
)
REJECTED_PATH = len(PIPELINE)
WITHDRAWN_PATHS = REJECTED_PATH + 1
APPROVAL_NOTE = "审批意见：同意"
REJECTION_NOTE = "审批意见：负债率偏高，暂不受理"


def draw_applications(rng, plan: Plan, customers: pl.DataFrame, revenue: np.ndarray):
    """Applications (0–3 a client), their stage history and documents checklists."""
    n_customers = customers.height
    person = customers["kind"].to_numpy() == "person"
    customer, _k = draws.spread(rng.choice(4, n_customers, p=[0.12, 0.55, 0.23, 0.10]))
    n = len(customer)
    products = plan.products
    product = np.where(person[customer], len(products) - 1, rng.integers(0, len(products) - 1, n))
    spec = {
        attr: np.array([getattr(p, attr) for p in products])[product]
        for attr in ("min_amount", "max_amount", "min_tenor", "max_tenor", "min_rate", "max_rate")
    }
    stages, shares = zip(*STAGE_SHARES.items(), strict=True)
    target = rng.choice(len(stages), n, p=np.array(shares))
    target_stage = np.array([s.value for s in stages])[target]
    amount = np.clip(
        revenue[customer] * rng.uniform(0.05, 0.3, n), spec["min_amount"], spec["max_amount"]
    )
    amount = np.round(amount / 10_000) * 10_000
    tenor = rng.integers(spec["min_tenor"], spec["max_tenor"] + 1)
    disbursed = target_stage == Stage.DISBURSED
    closed = disbursed | (target_stage == Stage.REJECTED) | (target_stage == Stage.WITHDRAWN)
    running = disbursed & (rng.random(n) < 0.75)
    age = np.where(
        running,
        rng.integers(20, np.maximum(40, tenor * 30)),
        np.where(closed, rng.integers(20, 1000, n), rng.integers(2, 90, n)),
    )
    age = _renewal_chains(rng, customer, disbursed, tenor, age)
    as_of = np.datetime64(plan.as_of, "D")
    created = draws.office_time(rng, as_of - age)
    industry = customers["industry"].to_numpy()[customer]
    purpose = [names.INDUSTRY_WORDS[i][1] for i in industry]
    owner = customers["owner_id"].to_numpy()[customer]
    changes, path, finished, stage_changed_at = _stage_history(
        rng, plan, created, target_stage, owner
    )
    documents = _documents(rng, products, product, path, created)
    applications = pl.DataFrame(
        {
            "id": np.arange(n),
            "customer_id": customer,
            "product_id": np.array([p.id for p in products])[product],
            "amount": amount,
            "tenor_months": tenor,
            "purpose": purpose,
            "stage": target_stage,
            "created_at": draws.times(created),
            "stage_changed_at": draws.times(stage_changed_at),
            "_start": draws.dates((finished + draws.UTC_OFFSET).astype("datetime64[D]")),
            "_min_rate": spec["min_rate"],
            "_max_rate": spec["max_rate"],
        }
    )
    return applications, {"stage_changes": changes, "documents": documents}


def _stage_history(rng, plan: Plan, created, target_stage, owner):
    """Each application's stage changes along the path to its target stage, a few days per
    step, decisions by the risk officer and the rest by the client's manager (``owner``, per
    application); with the path taken, when it finished and the stage's date."""
    n = len(target_stage)
    as_of = np.datetime64(plan.as_of, "D")
    path = np.where(
        target_stage == Stage.REJECTED,
        REJECTED_PATH,
        np.where(
            target_stage == Stage.WITHDRAWN,
            WITHDRAWN_PATHS + rng.integers(0, 3, n),
            np.array([PIPELINE.index(s) if s in PIPELINE else 0 for s in target_stage]),
        ),
    )
    lengths = np.array([len(p) for p in PATHS])[path]
    app, step = draws.spread(lengths)
    m = len(app)
    table = np.full((len(PATHS), len(PIPELINE)), "", dtype=object)
    for i, p in enumerate(PATHS):
        table[i, : len(p)] = [s.value for s in p]
    to_stage = table[path[app], step]
    from_stage = np.where(step > 0, table[path[app], np.maximum(step - 1, 0)], "")
    delay = np.where(
        step > 0, rng.integers(1, 9, m) * 86_400 + rng.integers(0, 8, m) * 3_600, 0
    ).astype("timedelta64[s]")
    offsets = _cumsum_within(delay, app).astype(np.int64)
    last = np.cumsum(lengths) - 1
    # A path that would run past the book's day is walked faster: every step before the
    # as-of day began (nothing in the book happens after today).
    cutoff = as_of.astype("datetime64[s]") - draws.UTC_OFFSET
    room = (cutoff - created).astype(np.int64)
    scale = np.minimum(1.0, room / np.maximum(offsets[last], 1))
    changed_at = created[app] + (offsets * scale[app]).astype("timedelta64[s]")
    finished = changed_at[last]
    late = (finished + draws.UTC_OFFSET).astype("datetime64[D]") > as_of
    stage_changed_at = np.where(late, draws.office_time(rng, np.full(n, as_of)), finished)
    decided = (to_stage == Stage.APPROVED) | (to_stage == Stage.REJECTED)
    changes = pl.DataFrame(
        {
            "application_id": app,
            "from_stage": from_stage,
            "to_stage": to_stage,
            "changed_at": draws.times(changed_at),
            "changed_by_id": np.where(decided, plan.risk, owner[app]),
            "note": np.where(
                to_stage == Stage.APPROVED,
                APPROVAL_NOTE,
                np.where(to_stage == Stage.REJECTED, REJECTION_NOTE, ""),
            ),
        }
    )
    return changes, path, finished, stage_changed_at


def _documents(rng, products, product, path, created) -> pl.DataFrame:
    """Documents checklists: accepted once due diligence began, partly received while
    collecting them."""
    docs = [p.documents for p in products]
    app_of_doc, doc = draws.spread(np.array([len(docs[p]) for p in product]))
    kind = [docs[p][i] for p, i in zip(product[app_of_doc], doc, strict=True)]
    reached = np.array([Stage.DUE_DILIGENCE in p for p in PATHS])[path[app_of_doc]]
    collecting = np.array([Stage.DOCUMENTS in p for p in PATHS])[path[app_of_doc]]
    status = np.where(
        reached,
        "accepted",
        np.where(collecting & (rng.random(len(kind)) < 0.6), "received", "missing"),
    )
    received = created[app_of_doc] + np.timedelta64(3, "D")
    return pl.DataFrame(
        {
            "application_id": app_of_doc,
            "kind": kind,
            "status": status,
            "received_at": draws.times(received),
        }
    ).with_columns(
        pl.when(pl.col("status") != "missing").then(pl.col("received_at")).alias("received_at")
    )


#: Above this amount the demo policy's risk officer needs the executive too.
RISK_OFFICER_AUTHORITY = 10_000_000


def draw_decisions(
    plan: Plan, applications: pl.DataFrame, facilities: pl.DataFrame, changes: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The terms of each application (the booked ones' rate and method, proposed ones'
    method) and the approval votes behind each decision, as the approval service records
    them: the risk officer, and the executive above the officer's authority."""
    booked = facilities.select(
        id=pl.col("application_id"), rate=pl.col("rate"), _approved=pl.col("approved_limit")
    )
    owner = applications.join(
        changes.filter(pl.col("to_stage") == Stage.CREDIT_REVIEW).select(
            id=pl.col("application_id"),
            submitted_by_id=pl.col("changed_by_id"),
            submitted_at=pl.col("changed_at"),
        ),
        on="id",
        how="left",
    ).select("id", "submitted_by_id", "submitted_at")
    decided = changes.filter(pl.col("to_stage").is_in([Stage.APPROVED, Stage.REJECTED])).select(
        application_id=pl.col("application_id"),
        decided_at=pl.col("changed_at"),
        vote=pl.when(pl.col("to_stage") == Stage.APPROVED)
        .then(pl.lit("approve"))
        .otherwise(pl.lit("reject")),
        note=pl.col("note"),
    )
    applications = (
        applications.join(booked, on="id", how="left")
        .join(owner, on="id", how="left")
        .join(decided.select(id="application_id", decided_at="decided_at"), on="id", how="left")
        .with_columns(
            amount=pl.coalesce("_approved", "amount"),
            repayment_method=pl.lit("equal_principal"),
            frequency=pl.lit("monthly"),
        )
    )
    amounts = applications.select(application_id="id", amount="amount")
    votes = decided.join(amounts, on="application_id").with_columns(
        user_id=pl.lit(plan.risk), role=pl.lit("risk"), created_at=pl.col("decided_at")
    )
    if plan.executive is not None:
        committee = votes.filter(
            (pl.col("vote") == "approve") & (pl.col("amount") > RISK_OFFICER_AUTHORITY)
        ).with_columns(user_id=pl.lit(plan.executive), role=pl.lit("exec"))
        votes = pl.concat([votes, committee])
    votes = votes.select(
        "application_id", "user_id", "role", "vote", "note", "created_at", policy_version=pl.lit(1)
    )
    return applications, votes


def _renewal_chains(rng, customer, disbursed, tenor, age) -> np.ndarray:
    """Ages (days before the book's date) with each client's disbursed applications in a
    chain: every earlier facility matures within about 40 days of the next one's start (the
    next one renews it). A client with one facility renews nothing: when it matures, it
    leaves, unless a later application comes."""
    age = age.copy()
    rows = np.flatnonzero(disbursed)
    rows = rows[np.lexsort((age[rows], customer[rows]))]  # per client, newest first
    for newer, older in pairwise(rows):
        if customer[newer] == customer[older]:
            age[older] = age[newer] + round(tenor[older] * 30.4) + rng.integers(-40, 41)
    return age


def _cumsum_within(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Running sum of ``values`` restarting at each new ``group`` (groups contiguous)."""
    total = np.cumsum(values.astype(np.int64))
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    before = np.repeat(total[starts] - values.astype(np.int64)[starts], np.diff(np.r_[starts,
                       len(group)]))  # fmt: skip
    return (total - before).astype("timedelta64[s]")


#: Industry risk (log-odds of default): building, property and hospitality are cyclical;
#: technology, utilities and the public sector steadier. Others: 0.
INDUSTRY_RISK = {"E": 0.6, "K": 0.8, "H": 0.5, "F": 0.2, "C": 0.1, "A": 0.3,
                 "I": -0.3, "D": -0.4, "M": -0.3, "P": -0.5, "Q": -0.4}  # fmt: skip
#: Log-odds of a facility defaulting for a client of no particular risk.
BASE_DEFAULT_LOGIT = -2.2


def client_risk(rng, customers: pl.DataFrame, statements: pl.DataFrame) -> np.ndarray:
    """Each client's log-odds of default: what a lender expects to drive it, plus noise.

    Leverage (debt to assets), interest cover and the cash-flow trend from the client's own
    statements (their average over the years on file: a firm's habits), the industry, and an
    unobserved part (N(0, 0.4): no scorecard sees everything). A person (no statements) is
    the base plus industry and noise. Tenure and the payment history act on each facility
    (``_facilities``).
    """
    n = customers.height
    firms = statements.with_columns(
        leverage=pl.col("total_liabilities") / pl.col("total_assets"),
        cover=(pl.col("net_profit") / 0.75 + pl.col("interest_expense"))
        / pl.col("interest_expense"),
    ).group_by("customer_id").agg(
        leverage=pl.col("leverage").mean(),
        cover=pl.col("cover").mean(),
        # The cash-flow trend: operating cash flow of the last year against the first.
        trend=(pl.col("operating_cash_flow").sort_by("period_end").last()
               - pl.col("operating_cash_flow").sort_by("period_end").first())
        / pl.col("revenue").mean(),
    )  # fmt: skip
    joined = pl.DataFrame({"customer_id": np.arange(n)}).join(firms, on="customer_id", how="left")
    leverage = joined["leverage"].fill_null(0.55).to_numpy()
    cover = np.log(np.clip(joined["cover"].fill_null(3.0).to_numpy(), 0.3, 30))
    trend = np.clip(joined["trend"].fill_null(0.0).to_numpy(), -0.3, 0.3)
    industry = np.array([INDUSTRY_RISK.get(i, 0.0) for i in customers["industry"].to_list()])
    return (
        BASE_DEFAULT_LOGIT
        + 8.0 * (leverage - 0.55)
        - 1.0 * (cover - np.log(3.0))
        - 5.0 * trend
        + industry
        + rng.normal(0, 0.4, n)
    )


def draw_facilities(
    rng, plan: Plan, applications: pl.DataFrame, as_of: np.datetime64, risk: np.ndarray
):
    """A facility per disbursed application, its schedule, payments and arrears.

    Whether a facility is repaid well, late or not at all follows its client's ``risk``
    (:func:`client_risk`), lower the longer the client has borrowed from us; late payers are
    the riskier clients, and a facility pays late for a few months before it stops paying.
    """
    frame = applications.filter(pl.col("stage") == Stage.DISBURSED)
    n = frame.height
    rate = np.round(rng.uniform(frame["_min_rate"].to_numpy(), frame["_max_rate"].to_numpy()), 2)
    # Approved at the amount asked or less; the application records what was approved (the
    # booking service books an application's amount whole: ``_decisions``).
    limit = frame["amount"].to_numpy() * rng.choice([1.0, 0.8, 0.6], n, p=[0.6, 0.3, 0.1])
    limit = draws.money(limit)
    start = np.minimum(frame["_start"].to_numpy().astype("datetime64[D]"), as_of)
    start = draws.add_months(start, np.zeros(n, dtype=np.int64))  # the day capped at 28
    months = frame["tenor_months"].to_numpy()
    maturity = draws.add_months(start, months)
    guarantee = draws.pick(rng, GuaranteeType.values, n, p=[0.3, 0.25, 0.25, 0.1, 0.1])
    secured = (guarantee == "mortgage") | (guarantee == "pledge")
    collateral = np.where(secured, draws.money(limit * rng.uniform(0.8, 1.6, n)), 0.0)
    client = frame["customer_id"].to_numpy()
    behaviour, stop_after = _behaviours(rng, client, start, risk, months)
    schedule = _schedule(
        rng, as_of, client, start, months, limit, rate,
        late=behaviour == 1, default=behaviour == 2, stop_after=stop_after,
    )  # fmt: skip
    dpd = schedule["dpd"]
    drawn = draws.money(limit - schedule["paid_total"])
    closed = (maturity < as_of) & (dpd == 0)
    facilities = pl.DataFrame(
        {
            "id": np.arange(n),
            "application_id": frame["id"].to_numpy(),
            "customer_id": frame["customer_id"].to_numpy(),
            "product_id": frame["product_id"].to_numpy(),
            "approved_limit": limit,
            "drawn_amount": np.where(closed, 0.0, drawn),
            "rate": rate,
            "tenor_months": months,
            "start_date": draws.dates(start),
            "maturity_date": draws.dates(maturity),
            "guarantee_type": guarantee,
            "collateral_value": collateral,
            "status": np.where(closed, "closed", "active"),
            "repayment_method": "equal_principal",
            "frequency": "monthly",
            "day_count": "30/360",
            "penalty_rate": np.round(rate * 1.5, 3),
            "days_past_due": dpd,
            "loan_class": classify_many(dpd).astype(str),
            "_behaviour": np.array(BEHAVIOURS)[behaviour],
        }
    )
    return facilities, {"installments": schedule["installments"], "payments": schedule["payments"]}


def _behaviours(rng, client, start, risk, months):
    """Each facility's repayment behaviour (0 good, 1 late, 2 default) from its client's risk,
    lower the longer the client has borrowed from us, and the instalment after which a
    defaulting facility stops paying."""
    n = len(client)
    # Tenure: years since the client's first facility, at this one's start.
    earliest = pl.DataFrame({"c": client, "s": start}).group_by("c").agg(pl.col("s").min())
    first_start = dict(zip(earliest["c"].to_list(), earliest["s"].to_numpy(), strict=True))
    tenure = (start - np.array([first_start[c] for c in client], dtype=start.dtype)).astype(
        np.int64
    ) / 365.0
    logit = risk[client] - 0.5 * np.minimum(tenure, 4)
    p_default = 1 / (1 + np.exp(-logit))
    p_late = (1 - p_default) * np.minimum(0.7, 1 / (1 + np.exp(-(logit + 1.0))))
    u = rng.random(n)
    behaviour = np.where(u < p_default, 2, np.where(u < p_default + p_late, 1, 0))
    # Loans season: a facility that defaults mostly does so in its first year or so.
    stops = np.minimum(2 + rng.exponential(7, n).astype(np.int64), np.maximum(2, months - 1))
    stop_after = np.where(behaviour == 2, stops, np.iinfo(np.int64).max)
    return behaviour, stop_after


def _schedule(rng, as_of, client, start, months, limit, rate, *, late, default, stop_after):
    """Instalments and payments of the facilities up to ``as_of``; with each facility's days
    past due and the principal paid."""
    # Schedule: equal principal, interest on what is still outstanding, as the booking
    # service builds it (``financing.schedule``: 30/360, the last instalment clears the cents).
    facility, k = draws.spread(months)
    number = k + 1
    m = len(facility)
    due = draws.add_months(start[facility], number)
    each = draws.half_up(limit / months)[facility]
    last = number == months[facility]
    principal_due = np.where(last, np.round(limit[facility] - k * each, 2), each)
    interest_due = draws.half_up((limit[facility] - k * each) * rate[facility] / 1200)
    owed = np.round(principal_due + interest_due, 2)
    first, second = rng.random(m), rng.random(m)
    # A defaulting facility pays late in the months before it stops paying.
    slipping = default[facility] & (number > stop_after[facility] - 4) & (first < 0.6)
    delay = np.where(
        (late[facility] & (first < 0.35)) | slipping,
        rng.integers(3, 50, m),
        np.where(second < 0.03, rng.integers(1, 6, m), 0),
    )
    paid_on = due + delay - rng.integers(0, 3, m)
    paid = (due <= as_of) & (number <= stop_after[facility]) & (paid_on <= as_of)
    unpaid_due = np.where(~paid & (due < as_of), due, np.datetime64("NaT"))
    oldest = _group_min(unpaid_due, facility, len(start))
    dpd = np.where(np.isnat(oldest), 0, (as_of - oldest).astype(np.int64))
    paid_total = np.bincount(
        facility, weights=np.where(paid, principal_due, 0.0), minlength=len(start)
    )
    installments = pl.DataFrame(
        {
            "id": np.arange(m),
            "facility_id": facility,
            "_customer": client[facility],
            "number": number,
            "due_date": draws.dates(due),
            "principal_due": principal_due,
            "interest_due": interest_due,
            "amount_paid": np.where(paid, owed, 0.0),
            "principal_paid": np.where(paid, principal_due, 0.0),
            "interest_paid": np.where(paid, interest_due, 0.0),
            "paid_off_on": draws.dates(paid_on),
        }
    ).with_columns(pl.when(pl.Series(paid)).then(pl.col("paid_off_on")).alias("paid_off_on"))
    rows = np.flatnonzero(paid)
    payments = pl.DataFrame(
        {
            "facility_id": facility[rows],
            "_number": number[rows],
            "paid_on": draws.dates(paid_on[rows]),
            "amount": owed[rows],
            "recorded_at": draws.times(draws.office_time(rng, paid_on[rows])),
        }
    )
    return {"installments": installments, "payments": payments, "dpd": dpd,
            "paid_total": paid_total}  # fmt: skip


def _group_min(values: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Earliest non-NaT date per group 0…n−1 (NaT when none)."""
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    present = ~np.isnat(values)
    order = np.lexsort((values[present], group[present]))
    groups, values = group[present][order], values[present][order]
    firsts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]) if len(groups) else []
    out[groups[firsts]] = values[firsts]
    return out
