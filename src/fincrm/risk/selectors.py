"""Reads of credit-risk data for pages, restricted to what the user may see."""

from __future__ import annotations

from datetime import date
from typing import cast

import numpy as np
import polars as pl
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from fincrm.analytics.delinquency import BUCKETS, LOAN_CLASSES, bucket, bucket_expr, roll_rates
from fincrm.analytics.ratios import RATIOS, compute_ratios, industry_medians
from fincrm.analytics.scorecard import band_shares, population_stability
from fincrm.analytics.validation import characteristic_stability, stability_verdict
from fincrm.core.frames import fetch
from fincrm.customers.frames import STATEMENT_SCHEMA, statement_rows
from fincrm.customers.models import Customer, FinancialStatement
from fincrm.financing.choices import FacilityStatus, LoanClass
from fincrm.financing.models import Facility, Installment

from .choices import (
    CLOSED_ALERT_STATUSES,
    PERCENT_RATIOS,
    SEVERITY_RANK,
    ProposalStatus,
    ReviewStatus,
    ScoreMethod,
)
from .models import Alert, ControlProposal, CreditAssessment, Review, ScorecardModel


def _statement_frame(qs) -> pl.DataFrame:
    return fetch(statement_rows(qs), STATEMENT_SCHEMA)


#: How long an industry's ratio medians are reused (they are also recomputed as soon as a
#: statement is added or a new evaluation run succeeds).
INDUSTRY_MEDIANS_SECONDS = 3600


def industry_ratio_medians(industry: str) -> dict:
    """Each ratio's median over the industry's clients (latest period of each peer).

    Reads every statement of the industry (tens of thousands of rows in a large book), so the
    result is cached: keyed by the newest statement and the latest evaluation run, and kept
    an hour at most (an edited old statement moves one peer among thousands).
    """
    from django.core.cache import cache

    from .hooks import latest_run_id

    newest = FinancialStatement.objects.order_by("-pk").values_list("pk", flat=True).first()
    run = latest_run_id()
    key = f"risk:industry-medians:{industry}:{newest}:{run}"
    # get_or_set stores and returns the callable's result on a miss: never None here.
    return cast(
        dict,
        cache.get_or_set(key, lambda: _industry_ratio_medians(industry), INDUSTRY_MEDIANS_SECONDS),
    )


def _industry_ratio_medians(industry: str) -> dict:
    peers = FinancialStatement.objects.filter(customer__industry=industry)
    peer_ratios = compute_ratios(_statement_frame(peers))
    if peer_ratios.is_empty():
        return {}
    frame = pl.DataFrame(
        {"customer_id": peer_ratios["customer_id"].unique()}, schema={"customer_id": pl.Int64}
    ).with_columns(industry=pl.lit(industry))
    medians = industry_medians(peer_ratios, frame)
    return medians.row(0, named=True) if medians.height else {}


def customer_ratios(*, customer: Customer) -> dict:
    """Each ratio per period with the industry's median (latest period of each peer)."""
    own = _statement_frame(FinancialStatement.objects.filter(customer=customer))
    if own.is_empty():
        return {"periods": [], "rows": []}
    ratios = compute_ratios(own).sort("period_end")
    median_row = industry_ratio_medians(customer.industry)
    return {
        "periods": [p.isoformat() for p in ratios["period_end"]],
        "rows": [
            {
                "code": name,
                "percent": name in PERCENT_RATIOS,
                "values": ratios[name].to_list(),
                "median": median_row.get(name),
            }
            for name in RATIOS
        ],
    }


def latest_assessment(*, customer: Customer) -> CreditAssessment | None:
    return customer.credit_assessments.select_related("model").first()


def alert_list(*, user) -> QuerySet[Alert]:
    return (
        Alert.objects.restrict(user, "view")
        .exclude(status__in=CLOSED_ALERT_STATUSES)
        .select_related("customer", "assigned_to")
    )


#: An alert's severity as a number, for sorting worst first in the database.
SEVERITY_ORDER = Case(
    *(When(severity=code, then=Value(rank)) for code, rank in SEVERITY_RANK.items()),
    default=Value(0),
    output_field=IntegerField(),
)


def alert_queue(*, user) -> QuerySet[Alert]:
    """Open alerts the user must act on (own clients; risk officers: all), worst first."""
    qs = alert_list(user=user).annotate(severity_rank=SEVERITY_ORDER)
    if not user.sees_whole_portfolio:
        qs = qs.filter(Q(assigned_to=user) | Q(customer__owner=user))
    return qs.order_by("-severity_rank", "-raised_at", "-id")


def proposal_list(*, user) -> QuerySet[ControlProposal]:
    return (
        ControlProposal.objects.restrict(user, "view")
        .filter(status=ProposalStatus.PENDING)
        .select_related("customer")
    )


def review_list(*, user) -> QuerySet[Review]:
    return (
        Review.objects.restrict(user, "view")
        .filter(status=ReviewStatus.SCHEDULED)
        .select_related("customer", "customer__owner")
        .order_by("due_on", "id")
    )


def overdue_reviews(*, user) -> QuerySet[Review]:
    return review_list(user=user).filter(due_on__lt=timezone.localdate())


#: The portfolio figures are recomputed when a facility or an evaluation run changes them,
#: and at least this often.
PORTFOLIO_CACHE_SECONDS = 3600


def portfolio_delinquency(*, user, as_of: date | None = None) -> dict:
    """Buckets and five-tier classes of live facilities, and the month-over-month roll rates.

    Cached per scope (the whole portfolio, or the user's own) and keyed by the latest facility
    change and evaluation run: the roll rates read months of instalments (about a second at
    100k clients), the figures change only when those do. Key and figures are both read on
    the reporting database (the read replica when there is one): a key taken from the primary
    could file a lagging replica's figures under the newer state for an hour.
    """
    from django.core.cache import cache
    from django.db.models import Max

    from fincrm.core.db import reporting

    from .hooks import latest_run_id

    db = reporting()
    as_of = as_of or timezone.localdate()
    scope = "all" if user.sees_whole_portfolio else f"user{user.pk}"
    changed = Facility.objects.using(db).aggregate(m=Max("updated_at"))["m"]
    run = latest_run_id(using=db)
    key = f"risk:portfolio:{scope}:{as_of}:{changed and changed.timestamp()}:{run}"
    return cast(  # get_or_set stores and returns the callable's result: never None here
        dict,
        cache.get_or_set(
            key,
            lambda: _portfolio_delinquency(user=user, as_of=as_of, db=db),
            PORTFOLIO_CACHE_SECONDS,
        ),
    )


#: The cure and promise-kept rates count the arrears episodes and promises of this many days.
COLLECTION_WINDOW_DAYS = 365


def portfolio_collections(*, user, as_of: date | None = None) -> dict:
    """Cure and promise-kept rates of the last ``COLLECTION_WINDOW_DAYS`` in the user's scope
    (``financing.collections.collection_rates``), read on the reporting database and cached
    like the delinquency figures: keyed by the latest collection action, decided promise and
    payment there."""
    from datetime import timedelta

    from django.core.cache import cache
    from django.db.models import Max

    from fincrm.core.db import reporting
    from fincrm.financing.collections import collection_rates
    from fincrm.financing.models import CollectionAction, Payment

    db = reporting()
    as_of = as_of or timezone.localdate()
    scope = "all" if user.sees_whole_portfolio else f"user{user.pk}"
    actions = CollectionAction.objects.using(db).aggregate(
        last=Max("pk"), decided=Count("pk", filter=~Q(promise_status__in=["", "pending"]))
    )
    paid = Payment.objects.using(db).aggregate(last=Max("pk"))["last"]
    key = f"risk:collections:{scope}:{as_of}:{actions['last']}:{actions['decided']}:{paid}"
    since = as_of - timedelta(days=COLLECTION_WINDOW_DAYS)
    return cast(  # get_or_set stores and returns the callable's result: never None here
        dict,
        cache.get_or_set(
            key,
            lambda: collection_rates(since=since, user=user, today=as_of, using=db),
            PORTFOLIO_CACHE_SECONDS,
        ),
    )


def _portfolio_delinquency(*, user, as_of: date, db: str) -> dict:
    facilities = (
        Facility.objects.using(db).restrict(user, "view").filter(status=FacilityStatus.ACTIVE)
    )
    by_class = {
        row[0]: row[1:]
        for row in facilities.values("loan_class")
        .annotate(
            n=Count("pk"),
            balance=Sum("drawn_amount"),
            overridden=Count("pk", filter=~Q(loan_class_override="")),
        )
        .values_list("loan_class", "n", "balance", "overridden")
    }
    dpd = list(facilities.values_list("days_past_due", flat=True).iterator(chunk_size=20_000))
    buckets = dict.fromkeys(BUCKETS, 0)
    for days in dpd:
        buckets[bucket(days)] += 1
    return {
        "as_of": as_of,
        "classes": [
            dict(
                zip(
                    ("code", "label", "n", "balance", "overridden"),
                    (c, LoanClass(c).label, *by_class.get(c, (0, 0, 0))),
                    strict=True,
                )
            )
            for c in LOAN_CLASSES
        ],
        "buckets": list(buckets.items()),
        "roll": _roll_rates(facilities, as_of),
    }


def _month_starts(as_of: date, months: int) -> list[date]:
    ends, year, month = [], as_of.year, as_of.month
    for _ in range(months):
        first = date(year, month, 1)
        ends.append(first)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sorted(ends)


def _roll_rates(facilities, as_of: date, months: int = 7) -> dict:
    """DPD of each facility on the first day of each of the last months, then roll rates."""
    points = _month_starts(as_of, months)
    window = (
        Installment.objects.using(facilities.db)
        .order_by()
        .filter(
            facility__in=facilities,
            due_date__lt=points[-1],
            due_date__gte=date(points[0].year - 1, points[0].month, 1),
        )
    )
    # Only instalments still unpaid on the first observation date can be late on any of them.
    frame = fetch(
        window.filter(Q(paid_off_on__isnull=True) | Q(paid_off_on__gte=points[0])).values_list(
            "facility_id", "due_date", "paid_off_on"
        ),
        {"facility_id": pl.Int64, "due_date": pl.Date, "paid_off_on": pl.Date},
    )
    observed = fetch(window.values_list("facility_id").distinct(), {"facility_id": pl.Int64})
    observations = []
    for point in points:
        unpaid = frame.filter(
            (pl.col("due_date") < point)
            & (pl.col("paid_off_on").is_null() | (pl.col("paid_off_on") >= point))
        )
        oldest = unpaid.group_by("facility_id").agg(oldest=pl.col("due_date").min())
        dpd = oldest.select("facility_id", dpd=(pl.lit(point) - pl.col("oldest")).dt.total_days())
        everyone = observed.join(dpd, on="facility_id", how="left")
        observations.append(
            everyone.with_columns(
                month=pl.lit(point),
                bucket=bucket_expr(pl.col("dpd").fill_null(0)),
            ).select("facility_id", "month", "bucket")
        )
    if not observations or observed.is_empty():
        return {"buckets": list(BUCKETS), "rows": []}
    matrix = roll_rates(pl.concat(observations))
    return {
        "buckets": list(BUCKETS),
        "rows": [
            {"from": r["from"], "n": r["n"], "rates": [r[b] for b in BUCKETS]}
            for r in matrix.iter_rows(named=True)
        ],
    }


def active_scorecard() -> ScorecardModel | None:
    return ScorecardModel.objects.filter(is_active=True).first()


def next_retraining(*, policy) -> date | None:
    """The day the nightly run trains a challenger: ``policy.scorecard.retrain_months`` after
    the latest scorecard was trained (None: retraining off, or no scorecard in use yet)."""
    from fincrm.financing.schedule import add_months

    months = policy.scorecard.retrain_months
    if not months or not ScorecardModel.objects.filter(is_active=True).exists():
        return None
    latest = ScorecardModel.objects.order_by("-created_at").values_list("created_at", flat=True)
    return add_months(timezone.localdate(latest[0]), months)


def customer_risk(*, customer: Customer) -> dict:
    """What the 360° page shows about a client's credit risk."""
    return {
        "assessment": latest_assessment(customer=customer),
        "open_alerts": list(customer.alerts.exclude(status__in=CLOSED_ALERT_STATUSES)[:20]),
        "ratios": customer_ratios(customer=customer),
    }


#: Population stability: below WATCH stable, below SHIFTED worth watching, above it shifted.
def _latest_scoring(model: ScorecardModel):
    """When ``model`` last scored the book (None: never)."""
    return (
        CreditAssessment.objects.filter(model=model)
        .order_by("-assessed_at")
        .values_list("assessed_at", flat=True)
        .first()
    )


def score_stability(*, model: ScorecardModel) -> dict | None:
    """PSI of the scores ``model`` gave at its latest run against its training population,
    band by band (None: it has not scored yet, or has no reference)."""
    latest = _latest_scoring(model)
    reference = model.score_reference or {}
    if latest is None or not reference.get("shares"):
        return None
    current = fetch(
        CreditAssessment.objects.order_by()
        .filter(model=model, assessed_at=latest)
        .values_list("score"),
        {"score": pl.Float64},
    )["score"].to_numpy()
    shares = band_shares(current, reference["edges"])
    psi = population_stability(reference["shares"], shares)
    edges = [None, *reference["edges"], None]
    return {
        "psi": psi,
        "verdict": stability_verdict(psi),
        "scored_at": latest,
        "n": len(current),
        "bands": [
            {"low": lo, "high": hi, "expected": e, "actual": float(a)}
            for lo, hi, e, a in zip(edges[:-1], edges[1:], reference["shares"], shares, strict=True)
        ],
    }


#: Characteristic stability is measured on at most this many of the latest assessments (a
#: systematic sample by id beyond it: the points of a million clients are not read for a page).
CSI_SAMPLE = 20_000


def characteristic_stability_today(*, model: ScorecardModel) -> dict | None:
    """CSI of each characteristic ``model`` uses: its clients per bin in training against the
    clients it scored at its latest run, read from their points (each bin gives its own
    points, so the points say the bin; bins giving the same points count as one).

    Returns None when the model has not scored yet; else scored_at, n (assessments read) and
    per characteristic: feature, csi, verdict and its bins (label, expected, actual share).
    """
    from django.db.models.functions import Mod

    latest = _latest_scoring(model)
    if latest is None:
        return None
    weight = 1 - float((model.params or {}).get("prior_weight", 0.0))
    scored = CreditAssessment.objects.order_by().filter(
        model=model, assessed_at=latest, method=ScoreMethod.SCORECARD
    )
    step = max(1, -(-scored.count() // CSI_SAMPLE))
    if step > 1:
        scored = scored.alias(slot=Mod("id", step)).filter(slot=0)
    points = list(scored.values_list("points", flat=True))
    features = (model.params or {}).get("selected") or model.features
    result = []
    for feature in features:
        # Training: clients per bin, bins keyed by the points they give (as stored: 0.1).
        keys: dict[float, tuple[list, int]] = {}  # points → (bin labels, clients)
        for b in model.bins_table:
            if b["feature"] == feature:
                key = round(weight * b["points"], 1)
                bins, count = keys.get(key, ([], 0))
                keys[key] = ([*bins, b["bin"]], count + b["count"])
        if not keys:
            continue
        grid = np.array(sorted(keys))
        today: dict[str, float] = {}
        for row in points:
            value = (row or {}).get(feature)
            if value is None:
                continue
            key = grid[np.abs(grid - float(value)).argmin()]
            label = str(key) if abs(key - float(value)) <= 0.11 else "other"
            today[label] = today.get(label, 0) + 1
        if not today:
            continue
        expected = {str(k): keys[k][1] for k in grid}
        index, table = characteristic_stability(expected, today)
        labels = {str(k): keys[k][0] for k in grid}
        result.append(
            {
                "feature": feature,
                "csi": index,
                "verdict": stability_verdict(index),
                "bins": [
                    {"labels": labels.get(r["bin"], []), "expected": r["expected"],
                     "actual": r["actual"]}
                    for r in table.to_dicts()
                ],
            }
        )  # fmt: skip
    return {"scored_at": latest, "n": len(points), "sampled": step > 1, "features": result}


def _model_card(model: ScorecardModel | None, role: str) -> dict | None:
    """What the governance page shows of one scorecard (``role``: champion or challenger),
    side by side with the other."""
    if model is None:
        return None
    params = model.params or {}
    validation = model.validation or {}
    agreement = validation.get("agreement") or {}
    return {
        "model": model,
        "role": role,
        "agreement_rows": list(
            zip(agreement.get("grades", []), agreement.get("confusion", []), strict=True)
        ),
        "gini": validation.get("gini")
        if validation
        else (2 * model.auc_holdout - 1 if model.auc_holdout is not None else None),
        "auc": validation.get("auc", model.auc_holdout),
        "ks": validation.get("ks", model.ks_holdout),
        "validation": validation,
        "prior_weight": params.get("prior_weight", 0.0),
        "characteristics": params.get("selected") or model.features,
        # Calibration in the large (policy scorecard.calibrate_in_the_large): applied or not,
        # the mean PD the card gave its training rows against their default rate.
        "calibrated": bool(params.get("calibration_shift")),
        "train_mean_pd": params.get("train_mean_pd"),
        "train_default_rate": params.get("train_default_rate"),
    }


def model_governance(*, policy) -> dict:
    """The model governance page: the champion (the scorecard in use) and the challenger (the
    latest one trained after it, not in use) side by side, the champion's stability today, the
    switches asked for and decided, and the next scheduled retraining."""
    from .models import ModelSwitch

    champion = active_scorecard()
    challengers = ScorecardModel.objects.filter(is_active=False)
    if champion is not None:
        challengers = challengers.filter(created_at__gt=champion.created_at)
    challenger = challengers.order_by("-created_at", "-id").first()
    switches = ModelSwitch.objects.select_related(
        "challenger", "champion", "requested_by", "decided_by"
    )
    cards = [_model_card(champion, "champion"), _model_card(challenger, "challenger")]
    return {
        "champion": cards[0],
        "challenger": cards[1],
        "cards": [card for card in cards if card],
        "stability": score_stability(model=champion) if champion else None,
        "characteristics": characteristic_stability_today(model=champion) if champion else None,
        "pending": list(switches.filter(status="pending")),
        "decided": list(switches.exclude(status="pending")[:20]),
        "retrain_months": policy.scorecard.retrain_months,
        "next_retraining": next_retraining(policy=policy),
    }


def scorecard_report() -> dict:
    """The model page: the active scorecard's quality and stability, or why the expert
    scorecard of the policy is in use."""
    from fincrm.core.policy import policy_active, policy_config

    policy = policy_config(policy_active()).scorecard
    model = active_scorecard()
    if model is None:
        return {"model": None, "policy": policy, "expert": policy.expert.model_dump()}
    stability = score_stability(model=model)
    gini = 2 * model.auc_holdout - 1 if model.auc_holdout is not None else None
    params = model.params or {}
    iv = params.get("iv", {})
    # How each candidate characteristic fared (cards trained before the selection: none).
    selection = [
        {
            "feature": feature,
            "iv": iv.get(feature),
            "fate": fate.split(":")[0],
            "twin": fate.split(":")[1] if ":" in fate else None,
        }
        for feature, fate in sorted(params.get("selection", {}).items(), key=lambda i: -iv[i[0]])
    ]
    return {
        "model": model,
        "policy": policy,
        "gini_holdout": gini,
        "bins": model.bins_table,
        "stability": stability,
        "selection": selection,
        "regularisation": params.get("C"),
        "prior_weight": params.get("prior_weight", 0.0),
    }


def loan_class_rules() -> dict:
    """Keyword arguments of ``analytics.delinquency.loan_classes`` from the active policy."""
    from fincrm.analytics.delinquency import ClassificationThresholds
    from fincrm.core.policy import policy_active, policy_config

    rules = policy_config(policy_active()).loan_classification
    return {
        "thresholds": ClassificationThresholds(
            special_mention=rules.special_mention_days,
            substandard=rules.substandard_days,
            doubtful=rules.doubtful_days,
            loss=rules.loss_days,
        ),
        "watch_grades": rules.watch_grades,
        "substandard_grades": rules.substandard_grades,
        "watch_alert_severities": rules.watch_alert_severities,
        "restructured_floor": rules.restructured_floor,
        "restructured_arrears_floor": rules.restructured_arrears_floor,
    }


def client_signals(customer_ids) -> pl.DataFrame:
    """customer_id, grade (current classification) and the severities of its open alerts,
    for the given clients (None: all)."""
    from fincrm.core.frames import fetch_for

    from .hooks import client_grades

    grades = fetch_for(
        client_grades(),
        "customer_id",
        customer_ids,
        {"customer_id": pl.Int64, "grade": pl.String},
    )
    alerts = open_alert_severities(customer_ids)
    return grades.join(alerts, on="customer_id", how="full", coalesce=True)


def open_alert_severities(customer_ids) -> pl.DataFrame:
    """customer_id, alert_severities (list) of the clients' open alerts (None: all)."""
    from fincrm.core.frames import fetch_for

    return (
        fetch_for(
            Alert.objects.order_by()
            .exclude(status__in=CLOSED_ALERT_STATUSES)
            .values_list("customer_id", "severity"),
            "customer_id",
            customer_ids,
            {"customer_id": pl.Int64, "severity": pl.String},
        )
        .group_by("customer_id")
        .agg(alert_severities=pl.col("severity"))
    )


def facility_class_inputs(*, facilities) -> tuple[dict, pl.DataFrame]:
    """The policy's rules and the input frame of ``loan_classes`` for some facilities."""
    from django.utils import timezone

    today = timezone.localdate()
    frame = pl.DataFrame(
        {
            "customer_id": [f.customer_id for f in facilities],
            "days_past_due": [f.days_past_due for f in facilities],
            "override": [f.loan_class_override or None for f in facilities],
            "restructured": [
                f.restructured_until is not None and f.restructured_until >= today
                for f in facilities
            ],
        },
        schema={
            "customer_id": pl.Int64,
            "days_past_due": pl.Int64,
            "override": pl.String,
            "restructured": pl.Boolean,
        },
    )
    signals = client_signals(sorted({f.customer_id for f in facilities}))
    return loan_class_rules(), frame.join(signals, on="customer_id", how="left")
