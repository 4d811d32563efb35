"""DB ↔ credit-risk analytics: point-in-time features, scorecard training, assessments,
grade → control proposals, periodic review scheduling and early-warning alerts.

Everything here is bulk (one query per table, polars arithmetic, ``bulk_create``); the human
side (approving a proposal, acknowledging an alert, completing a review) is in
:mod:`fincrm.risk.services`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

import numpy as np
import polars as pl
from django.apps import apps
from django.db import transaction
from django.db.models import Count, FloatField, Max, Min, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from fincrm.accounts.choices import Role
from fincrm.accounts.models import User
from fincrm.analytics.early_warning import dedupe, evaluate_rules
from fincrm.analytics.policy import PolicyConfig
from fincrm.analytics.ratios import compute_ratios, latest_ratios, ratio_changes
from fincrm.analytics.scorecard import (
    Scorecard,
    auc,
    build_default_labels,
    expert_score,
    grade_from_pd,
    ks,
    score_distribution,
)
from fincrm.core import partitions
from fincrm.core.bulk import (
    insert_frame,
    insert_rows,
    json_object,
    update_rows_with_history,
    update_with_history,
)
from fincrm.customers.models import Customer
from fincrm.engagement.choices import NotificationKind
from fincrm.engagement.models import Notification
from fincrm.financing.choices import CLOSED_STAGES, FacilityStatus
from fincrm.financing.models import Application, Facility, Installment
from fincrm.risk.choices import (
    CLOSED_ALERT_STATUSES,
    FREQUENCY_DAYS,
    ScoreMethod,
)
from fincrm.risk.models import Alert, ControlProposal, CreditAssessment, Review, ScorecardModel
from fincrm.webhooks import events as webhooks

from .features import BookReads, client_ids, fetch, fetch_for, local_midnight
from .model_validation import holdout_validation
from .tasks import send_alert_emails

#: Characteristics of the scorecard: repayment behaviour, balance sheet, earnings, tenure.
SCORE_FEATURES = (
    "max_dpd_12m",
    "debt_to_asset",
    "current_ratio",
    "interest_coverage",
    "revenue_growth",
    "net_margin",
    "tenure_days",
    "utilisation",
)
#: How the default rate must move across each characteristic's bins, where a lender expects
#: it to (more arrears, leverage or utilisation: riskier; more liquidity, cover, margin or
#: tenure: safer). Revenue growth is left to the data: very fast growth is a risk too.
MONOTONIC = {
    "max_dpd_12m": "ascending",
    "debt_to_asset": "ascending",
    "utilisation": "ascending",
    "current_ratio": "descending",
    "interest_coverage": "descending",
    "net_margin": "descending",
    "tenure_days": "descending",
}
#: Annual statements become known about four months after the period ends: a statement
#: is only used once it would have been on file (no look-ahead in training).
REPORTING_LAG = timedelta(days=120)
HOLDOUT_SHARE = 0.3
#: Quarterly observation dates pooled for training (the latest one horizon before today).
SNAPSHOTS = 4
BATCH = 5_000


def point_in_time_features(
    *, as_of: date, customer_ids: Sequence[int] | None = None, reads: BookReads | None = None
):
    """The scorecard's characteristics as they were known on ``as_of`` (nothing later).

    ``reads`` shares the tables the value features already read for the same date.
    """
    ids = client_ids(customer_ids)
    if reads is None or reads.as_of != as_of:
        reads = BookReads(as_of=as_of, customer_ids=ids)
    customers = reads.get("customers").select("customer_id")
    facilities = reads.get("facility_rows")
    live = facilities.filter(pl.col("maturity_date") > as_of)
    exposure = facilities.group_by("customer_id").agg(first_start=pl.col("start_date").min())
    exposure = exposure.join(
        live.group_by("customer_id").agg(
            limit=pl.col("approved_limit").sum(), drawn=pl.col("drawn_amount").sum()
        ),
        on="customer_id",
        how="left",
    )
    dpd = reads.repayment.select(
        "customer_id", max_dpd_12m="known_max_dpd_12m", current_dpd="known_current_dpd"
    )
    statements = reads.statements.filter(pl.col("period_end") <= as_of - REPORTING_LAG)
    if statements.is_empty():
        ratios = pl.DataFrame(
            schema={
                "customer_id": pl.Int64,
                "debt_to_asset": pl.Float64,
                "current_ratio": pl.Float64,
                "interest_coverage": pl.Float64,
                "revenue_growth": pl.Float64,
                "net_margin": pl.Float64,
            }
        )
        changes = pl.DataFrame(
            schema={"customer_id": pl.Int64, "revenue_change": pl.Float64, "ocf_change": pl.Float64}
        )
    else:
        all_ratios = compute_ratios(statements)
        ratios = latest_ratios(all_ratios).select(
            "customer_id",
            "debt_to_asset",
            "current_ratio",
            "interest_coverage",
            "revenue_growth",
            "net_margin",
        )
        changes = ratio_changes(statements).select("customer_id", "revenue_change", "ocf_change")
    return (
        customers.join(exposure, on="customer_id", how="left")
        .join(dpd, on="customer_id", how="left")
        .join(ratios, on="customer_id", how="left")
        .join(changes, on="customer_id", how="left")
        .with_columns(
            max_dpd_12m=pl.col("max_dpd_12m").fill_null(0).cast(pl.Float64),
            current_dpd=pl.col("current_dpd").fill_null(0),
            tenure_days=(pl.lit(as_of) - pl.col("first_start")).dt.total_days().cast(pl.Float64),
            utilisation=pl.when(pl.col("limit") > 0).then(pl.col("drawn") / pl.col("limit")),
        )
    )


def _training_rows(observation: date, as_of: date, scaling) -> pl.DataFrame:
    """The clients performing on ``observation``: their characteristics as known then and
    whether they defaulted within the horizon after it (outcomes seen up to ``as_of``)."""
    features = point_in_time_features(as_of=observation).filter(
        pl.col("limit").fill_null(0) > 0, pl.col("current_dpd") < scaling.default_dpd
    )
    # Today's drawn amounts are not what was drawn then: utilisation as of the date.
    features = features.drop("utilisation").join(
        utilisation_at(observation), on="customer_id", how="left"
    )
    end = min(as_of, observation + timedelta(days=scaling.horizon_days))
    observed = fetch_for(
        Installment.objects.order_by()
        .filter(due_date__gt=observation, due_date__lte=end)
        .values_list("facility__customer_id", "due_date", "paid_off_on"),
        "facility__customer_id",
        None,
        {"customer_id": pl.Int64, "due_date": pl.Date, "paid_off_on": pl.Date},
    )
    # Each instalment is one observation of days past due, taken when it was settled (or at
    # the end of the window, if it was not by then).
    settled = pl.col("paid_off_on").fill_null(end)
    observations = observed.select(
        "customer_id",
        as_of=pl.min_horizontal(settled, pl.lit(end)),
        dpd=(pl.min_horizontal(settled, pl.lit(end)) - pl.col("due_date")).dt.total_days(),
    )
    labels = build_default_labels(
        observations,
        observation_date=observation,
        horizon_days=scaling.horizon_days,
        default_dpd=scaling.default_dpd,
    )
    return features.join(labels, on="customer_id", how="left").with_columns(
        pl.col("default").fill_null(0), observation=pl.lit(observation)
    )


def utilisation_at(as_of: date) -> pl.DataFrame:
    """customer_id, utilisation: of the facilities live on ``as_of``, the principal not yet
    repaid by then (limit − principal of the instalments settled by then) over the limit."""
    live = Q(facility__start_date__lte=as_of, facility__maturity_date__gt=as_of)
    repaid = fetch_for(
        Installment.objects.order_by()
        .filter(live, paid_off_on__lte=as_of)
        .values("facility__customer_id")
        .annotate(repaid=Sum(Cast("principal_due", FloatField())))
        .values_list("facility__customer_id", "repaid"),
        "facility__customer_id",
        None,
        {"customer_id": pl.Int64, "repaid": pl.Float64},
    )
    limits = fetch_for(
        Facility.objects.order_by()
        .filter(start_date__lte=as_of, maturity_date__gt=as_of)
        .values("customer_id")
        .annotate(limit=Sum(Cast("approved_limit", FloatField())))
        .values_list("customer_id", "limit"),
        "customer_id",
        None,
        {"customer_id": pl.Int64, "limit": pl.Float64},
    )
    return limits.join(repaid, on="customer_id", how="left").select(
        "customer_id",
        utilisation=pl.when(pl.col("limit") > 0).then(
            (1 - pl.col("repaid").fill_null(0) / pl.col("limit")).clip(0, 1)
        ),
    )


def scorecard_train(
    *, policy: PolicyConfig, as_of: date, seed: int = 0, user=None, activate: bool = True
) -> ScorecardModel:
    """Fit a scorecard on the book's own outcomes and make it the active model (``activate``
    False: a challenger, put in use only by an approved switch, ``risk.services``).

    Observation dates = ``as_of`` − horizon and the ``SNAPSHOTS − 1`` quarters before it (a
    small book pools its snapshots: a client is one row per date); the population on each is
    every client performing then (a live facility, less than ``default_dpd`` days past due);
    default = ``default_dpd``+ days past due within the horizon after it. Hold-out AUC and KS on
    a random 30 % of the clients (all their rows) are stored with the model. The expert card
    is the fitted card's prior, weighted by credibility (``policy.scorecard.prior_defaults``).

    Raises
    ------
    InsufficientData
        Too few defaults (or non-defaults) to fit: the expert rule stays in use.
    """
    scaling = policy.scorecard
    observation = as_of - timedelta(days=scaling.horizon_days)
    data = pl.concat(
        [
            _training_rows(observation - timedelta(days=91 * k), as_of, scaling)
            for k in range(SNAPSHOTS)
        ],
        how="vertical_relaxed",
    )
    y = data["default"].to_numpy().astype(int)
    clients = data["customer_id"].unique().sort()
    rng = np.random.default_rng(seed)
    held = clients.filter(pl.Series(rng.random(clients.len()) < HOLDOUT_SHARE))
    holdout = data["customer_id"].is_in(held.implode()).to_numpy()
    X = data.select(SCORE_FEATURES)
    expert = _expert(data, scaling)
    prior = _expert_logit(expert, scaling)
    card = Scorecard(
        features=list(SCORE_FEATURES),
        base_points=scaling.base_points,
        base_odds=scaling.base_odds,
        pdo=scaling.pdo,
        min_defaults=scaling.min_defaults,
        monotonic=MONOTONIC,
        prior_defaults=scaling.prior_defaults,
        random_state=seed,
    )
    train = pl.Series(~holdout)
    card.fit(X.filter(train), y[~holdout], prior=prior[~holdout])
    auc_holdout = ks_holdout = None
    if holdout.any() and 0 < y[holdout].sum() < holdout.sum():
        p = card.predict_proba(X.filter(pl.Series(holdout)), prior=prior[holdout])
        auc_holdout, ks_holdout = float(auc(y[holdout], p)), float(ks(y[holdout], p))
    held_out = pl.Series(holdout)
    validation = holdout_validation(
        card=card,
        X=X.filter(held_out),
        y=y[holdout],
        prior=prior[holdout],
        prior_points=_expert_points(expert.filter(held_out)),
        expert=expert.filter(held_out).select("score", "pd"),
        grades=[(band.grade, band.max_pd) for band in policy.grades],
        champion=ScorecardModel.objects.filter(is_active=True).first(),
    )
    model = ScorecardModel.objects.create(
        observation_date=observation,
        params=card.to_dict(),
        features=list(SCORE_FEATURES),
        bins_table=card.points_table_.to_dicts(),
        score_reference=score_distribution(
            card.score(X.filter(train), _expert_points(expert.filter(train)))
        ),
        n_train=int((~holdout).sum()),
        n_defaults=int(y[~holdout].sum()),
        auc_train=float(card.auc_),
        auc_holdout=auc_holdout,
        ks_holdout=ks_holdout,
        is_active=False,
        trained_by=user,
        validation=validation,
    )
    if activate:
        from fincrm.risk.services import scorecard_put_in_use

        scorecard_put_in_use(model=model, user=user, reason="trained")
    return model


def _expert(features: pl.DataFrame, scaling) -> pl.DataFrame:
    """The policy's expert card on ``features``: score, pd and ``points_<factor>``."""
    return expert_score(
        features,
        scaling.expert,
        base_points=scaling.base_points,
        pdo=scaling.pdo,
        base_odds=scaling.base_odds,
    )


def _expert_logit(expert: pl.DataFrame, scaling) -> np.ndarray:
    """The expert card's log-odds of default (the prior of a blended scorecard)."""
    factor = scaling.pdo / np.log(2)
    offset = scaling.base_points - factor * np.log(scaling.base_odds)
    return ((offset - expert["score"].to_numpy()) / factor).astype(float)


def _expert_points(expert: pl.DataFrame) -> pl.DataFrame:
    """The expert card's points, named ``expert_<factor>`` beside the scorecard's."""
    points = expert.select(pl.selectors.starts_with("points_"))
    return points.rename({c: c.replace("points_", "expert_", 1) for c in points.columns})


def _scorable(features: pl.DataFrame) -> pl.Series:
    """Clients the statistical scorecard can score: it learnt from borrowers, so a client
    with a credit history with us (a facility) or a financial statement on file. A prospect
    with neither would only land in its missing bins: the expert rule grades it."""
    return features.select(
        pl.col("first_start").is_not_null() | pl.col("debt_to_asset").is_not_null()
    ).to_series()


def _scores(features: pl.DataFrame, policy: PolicyConfig):
    """Score with the active scorecard where it can (:func:`_scorable`), else the expert
    rule; returns (score, pd, method, model per client; points per client).

    A scorecard blended with the expert card (fitted on few defaults) scores with it: its
    points then hold the expert card's factors too (``points_expert_<factor>``), weighted.
    """
    model = ScorecardModel.objects.filter(is_active=True).first()
    scaling = policy.scorecard
    expert = _expert(features, scaling)
    expert_points = expert.select(pl.selectors.starts_with("points_"))
    fallback = expert.select(
        "score", "pd", method=pl.lit(str(ScoreMethod.EXPERT)), model=pl.lit(None, pl.Int64)
    )
    if model is None:
        return fallback, expert_points
    card = Scorecard.from_dict(model.params)
    X = features.select(model.features)
    blended = card.prior_weight_ > 0
    points = card.explain(X, _expert_points(expert) if blended else None)
    pd_ = card.predict_proba(X, _expert_logit(expert, scaling) if blended else None)
    points = points.rename({f: f"points_{f}" for f in points.columns})
    scored = pl.DataFrame(
        {
            "score": points.sum_horizontal(),
            "pd": pd_,
            "method": str(ScoreMethod.SCORECARD),
            "model": pl.Series([model.pk] * X.height, dtype=pl.Int64),
        }
    )
    use = _scorable(features)
    if use.all():
        return scored, points
    pick = lambda a, b: pl.select(  # noqa: E731
        pl.when(use).then(a).otherwise(b)
    ).to_series()
    scores = pl.DataFrame({c: pick(scored[c], fallback[c]) for c in scored.columns})
    # Each client's points are its method's (the other method's come out null: left out).
    return scores, pl.concat(
        [
            points.select(pl.when(use).then(pl.col(c)).alias(c) for c in points.columns),
            expert_points.select(
                pl.when(~use).then(pl.col(c)).alias(c) for c in expert_points.columns
            ),
        ],
        how="horizontal",
    )


def assess(
    *,
    features: pl.DataFrame,
    policy: PolicyConfig,
    as_of: date,
    run_started,
    customer_ids: Sequence[int] | None = None,
    reads: BookReads | None = None,
) -> pl.DataFrame:
    """Score every client of ``features``, write assessments, proposals, reviews and alerts.

    ``customer_ids`` are the clients of ``features`` (None: the whole book, read without
    ``IN`` lists). Returns a frame (customer_id, credit_grade, open_warnings) for the tiering.
    """
    assessed = assess_pending(
        features=features,
        policy=policy,
        as_of=as_of,
        run_started=run_started,
        customer_ids=customer_ids,
        reads=reads,
    )
    assessed.write()()
    return assessed.frame


@dataclass(frozen=True)
class Assessed:
    """The outcome of :func:`assess_pending`: ``frame`` for the tiering, and the assessment
    rows that ``write()`` inserts."""

    frame: pl.DataFrame
    rows: pl.DataFrame
    constants: dict
    #: The run assessing the whole book, whose rows get a partition of their own where the
    #: table is partitioned (PostgreSQL; ``core.partitions``); None: into the table.
    run_id: int | None = None

    def write(self) -> Callable[[], None]:
        """Write the rows; returns what completes the write: attaching their partition when
        they have one of their own (``core.partitions.load_or_insert``; its locks last to the
        commit: call it with the run's last writes), else nothing."""
        write = partial(
            insert_frame,
            CreditAssessment,
            self.rows,
            constants=self.constants,
            json_text=["points", "signals"],
        )
        return partitions.load_or_insert(
            CreditAssessment,
            self.run_id,
            write,
            bounds=partitions.instant(self.constants["assessed_at"]),
        )


def assess_pending(
    *,
    features: pl.DataFrame,
    policy: PolicyConfig,
    as_of: date,
    run_started,
    customer_ids: Sequence[int] | None = None,
    reads: BookReads | None = None,
    run_id: int | None = None,
) -> Assessed:
    """:func:`assess` with the assessment rows (a book's worth) left for the caller to
    write, e.g. while it computes something else: everything else is written. ``run_id``:
    the run assessing the whole book (``customer_ids`` None), whose rows get a partition of
    their own (``Assessed.run_id``)."""
    ids = client_ids(customer_ids)
    if reads is None or reads.as_of != as_of:
        reads = BookReads(as_of=as_of, customer_ids=ids)
    reads.add("previous_assessments", lambda: previous_assessments(ids))
    pit = point_in_time_features(as_of=as_of, customer_ids=ids, reads=reads)
    scores, points = _scores(pit, policy)
    bands = [(band.grade, band.max_pd) for band in policy.grades]
    grades = grade_from_pd(scores["pd"].to_numpy(), bands)
    result = pit.select("customer_id").with_columns(
        score=scores["score"],
        pd=scores["pd"],
        credit_grade=pl.Series(grades, dtype=pl.String),
        method=scores["method"],
        model=scores["model"],
    )
    previous = reads.get("previous_assessments")
    signals = _signals(pit, features, result, previous, as_of, ids, policy)
    rows = _assessment_rows(result, points, signals)
    _propose_controls(result, previous, policy)
    _schedule_reviews(result, policy, as_of, ids)
    _raise_alerts(signals, policy, as_of, ids)
    from fincrm.risk.selectors import open_alert_severities

    # Open alerts after this run raised its own: read once, for the loan classes and the count.
    open_alerts = open_alert_severities(ids)
    _classify_facilities(result, open_alerts, ids, as_of)
    frame = (
        result.select("customer_id", "credit_grade", grade_method="method")
        .join(open_alerts, on="customer_id", how="left")
        .with_columns(open_warnings=pl.col("alert_severities").list.len().fill_null(0))
        .drop("alert_severities")
    )
    constants = {"assessed_at": run_started}
    whole_book = run_id if customer_ids is None else None
    return Assessed(frame=frame, rows=rows, constants=constants, run_id=whole_book)


def _classify_facilities(
    result: pl.DataFrame, open_alerts: pl.DataFrame, ids: Sequence[int] | None, as_of: date
) -> int:
    """Five-tier class of every live facility from its arrears, the run's grade, the open
    alerts (``open_alert_severities``, after this run raised its own) and a restructuring's
    observation period; only changed facilities are written, with history. Returns how many
    changed."""
    from fincrm.analytics.delinquency import loan_classes
    from fincrm.risk.selectors import loan_class_rules

    facilities = fetch_for(
        Facility.objects.order_by()
        .filter(status=FacilityStatus.ACTIVE)
        .values_list(
            "pk", "customer_id", "days_past_due", "loan_class", "loan_class_auto",
            "loan_class_override", "restructured_until",
        ),
        "customer_id",
        ids,
        {
            "facility_id": pl.Int64, "customer_id": pl.Int64, "days_past_due": pl.Int64,
            "old_class": pl.String, "old_auto": pl.String, "override": pl.String,
            "restructured_until": pl.Date,
        },
    )  # fmt: skip
    if facilities.is_empty():
        return 0
    frame = (
        facilities.with_columns(
            pl.col("override").replace("", None),
            restructured=pl.col("restructured_until") >= as_of,
        )
        .join(result.select("customer_id", grade="credit_grade"), on="customer_id", how="left")
        .join(open_alerts, on="customer_id", how="left")
    )
    frame = pl.concat([frame, loan_classes(frame, **loan_class_rules())], how="horizontal")
    changed = frame.filter(
        (pl.col("loan_class") != pl.col("old_class")) | (pl.col("auto_class") != pl.col("old_auto"))
    ).select("facility_id", "loan_class", "auto_class")
    if changed.is_empty():
        return 0
    return update_rows_with_history(
        Facility,
        ["loan_class", "loan_class_auto"],
        changed.rows(),
        reason="evaluation run: five-tier classification",
    )


def previous_assessments(ids: Sequence[int] | None) -> pl.DataFrame:
    """The latest assessment of each client before this run (grade, score, utilisation).

    Every client was assessed by the last successful full run, so only assessments since it
    started are read: the table grows by a book's worth each night, this read does not.
    """
    from .choices import RunKind, RunStatus
    from .models import EvaluationRun

    recent = CreditAssessment.objects.order_by()
    last_full = (
        EvaluationRun.objects.filter(status=RunStatus.SUCCEEDED, kind=RunKind.FULL)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    if last_full is not None:
        recent = recent.filter(assessed_at__gte=last_full)
    qs = recent.annotate(utilisation=Cast(KT("signals__utilisation"), FloatField())).values_list(
        "pk", "customer_id", "grade", "score", "utilisation"
    )
    schema = {
        "pk": pl.Int64,
        "customer_id": pl.Int64,
        "previous_grade": pl.String,
        "previous_score": pl.Float64,
        "previous_utilisation": pl.Float64,
    }
    # The last of each client's (a full run's, then any event run's since), picked here
    # rather than by a GROUP BY and an IN (subquery) in the database.
    rows = fetch_for(qs, "customer_id", ids, schema)
    return rows.sort("pk").unique("customer_id", keep="last").drop("pk").sort("customer_id")


def latest_grades(ids: Sequence[int] | None) -> pl.DataFrame:
    """customer_id, credit_grade of each client's latest assessment."""
    return previous_assessments(ids).select("customer_id", credit_grade="previous_grade")


def _signals(pit, features, result, previous, as_of, ids, policy: PolicyConfig) -> pl.DataFrame:
    """Every early-warning signal per client (null where it cannot be measured)."""
    complaints = _complaints_90d(ids, as_of)
    maturity = _maturity_without_renewal(ids, as_of)
    external = _external_findings(ids, as_of, policy.checks)
    funds = _use_of_funds(ids, as_of)
    return (
        result.join(pit, on="customer_id", how="left")
        .join(previous, on="customer_id", how="left")
        .join(
            features.select("customer_id", "days_since_successful_contact", "owner_id"),
            on="customer_id",
            how="left",
        )
        .join(complaints, on="customer_id", how="left")
        .join(maturity, on="customer_id", how="left")
        .join(external, on="customer_id", how="left")
        .join(funds, on="customer_id", how="left")
        # Early warning watches borrowers: clients with a live facility.
        .filter(pl.col("limit").fill_null(0) > 0)
        .select(
            "customer_id",
            "owner_id",
            "current_dpd",
            "utilisation",
            "revenue_change",
            "ocf_change",
            "current_ratio",
            "debt_to_asset",
            "days_since_successful_contact",
            "maturity_without_renewal_days",
            utilisation_change=pl.col("utilisation") - pl.col("previous_utilisation"),
            score_change=pl.col("score") - pl.col("previous_score"),
            complaints_90d=pl.col("complaints_90d").fill_null(0),
            external_findings=pl.col("external_findings").fill_null(0),
            funds_evidence_overdue=pl.col("funds_evidence_overdue").fill_null(0),
            funds_payee_mismatch=pl.col("funds_payee_mismatch").fill_null(0),
        )
    )


def _use_of_funds(ids: Sequence[int] | None, as_of: date) -> pl.DataFrame:
    """Evidence of the use of funds unproven after its deadline, and evidence whose payee does
    not fit the loan, per client (``postloan.selectors.use_of_funds_counts``)."""
    from fincrm.postloan.selectors import use_of_funds_counts

    overdue, mismatch = use_of_funds_counts(as_of)
    frames = [
        fetch_for(qs, "facility__customer_id", ids, {"customer_id": pl.Int64, name: pl.Int64})
        for qs, name in ((overdue, "funds_evidence_overdue"), (mismatch, "funds_payee_mismatch"))
    ]
    return frames[0].join(frames[1], on="customer_id", how="full", coalesce=True)


def _external_findings(ids: Sequence[int] | None, as_of: date, rules) -> pl.DataFrame:
    """Open legal and reputation findings first reported lately, per client (the signal
    ``external_findings``; ``checks.selectors.external_findings_counts``), by the run's own
    policy (``policy.checks``)."""
    from fincrm.checks.selectors import external_findings_counts

    counts = external_findings_counts(
        as_of, days=rules.signal_days, categories=rules.signal_categories
    )
    schema = {"customer_id": pl.Int64, "external_findings": pl.Int64}
    return fetch_for(counts, "customer_id", ids, schema)


def _complaints_90d(ids: Sequence[int] | None, as_of: date) -> pl.DataFrame:
    """Complaints in the 90 days up to ``as_of``: contacts logged with the outcome "issue
    raised" (any channel), plus complaint tickets once the service desk app exists."""
    from fincrm.engagement.choices import Outcome
    from fincrm.engagement.models import Interaction

    schema = {"customer_id": pl.Int64, "complaints_90d": pl.Int64}
    since = local_midnight(as_of - timedelta(days=89))
    until = local_midnight(as_of + timedelta(days=1))

    def per_client(qs) -> pl.DataFrame:
        counted = qs.order_by().values("customer_id").annotate(n=Count("pk"))
        return fetch_for(counted.values_list("customer_id", "n"), "customer_id", ids, schema)

    counts = [
        per_client(
            Interaction.objects.filter(
                outcome=Outcome.ISSUE_RAISED, occurred_at__gte=since, occurred_at__lt=until
            )
        )
    ]
    if apps.is_installed("fincrm.service"):
        ticket = apps.get_model("service", "Ticket")
        counts.append(
            per_client(
                ticket.objects.filter(kind="complaint", opened_at__gte=since, opened_at__lt=until)
            )
        )
    return pl.concat(counts).group_by("customer_id").agg(pl.col("complaints_90d").sum())


def _maturity_without_renewal(ids: Sequence[int] | None, as_of: date) -> pl.DataFrame:
    """Days to the nearest maturity of a live facility, for clients with no open application."""
    schema = {"customer_id": pl.Int64, "next_maturity": pl.Date}
    maturities = fetch_for(
        Facility.objects.order_by()
        .filter(status="active", maturity_date__gte=as_of)
        .values("customer_id")
        .annotate(next_maturity=Min("maturity_date"))
        .values_list("customer_id", "next_maturity"),
        "customer_id",
        ids,
        schema,
    )
    renewing = fetch_for(
        Application.objects.order_by().exclude(stage__in=CLOSED_STAGES).values_list("customer_id"),
        "customer_id",
        ids,
        {"customer_id": pl.Int64},
    )
    return maturities.join(renewing.unique(), on="customer_id", how="anti").select(
        "customer_id",
        maturity_without_renewal_days=(pl.col("next_maturity") - pl.lit(as_of)).dt.total_days(),
    )


def _assessment_rows(result, points, signals) -> pl.DataFrame:
    """One ``CreditAssessment`` row per client (points and signals as JSON text)."""
    signal_cols = ["utilisation", "current_dpd", "revenue_change", "ocf_change", "current_ratio"]
    frame = result.join(signals.select("customer_id", *signal_cols), on="customer_id", how="left")
    if points is not None:
        frame = pl.concat([frame, points], how="horizontal")
    point_cols = [c for c in frame.columns if c.startswith("points_")]
    return frame.select(
        "customer_id",
        pl.col("score").round(1),
        "pd",
        pl.col("credit_grade").alias("grade"),
        "method",
        "model",
        json_object(**{c[7:]: pl.col(c).round(1) for c in point_cols}).alias("points")
        if point_cols
        else pl.lit("{}").alias("points"),
        json_object(**{c: pl.col(c) for c in signal_cols}).alias("signals"),
    )


def _propose_controls(result, previous, policy: PolicyConfig) -> None:
    """A pending proposal of the new grade's controls for each client whose grade moved."""
    moved = result.join(previous, on="customer_id", how="inner").filter(
        pl.col("previous_grade") != pl.col("credit_grade")
    )
    if moved.is_empty():
        return
    ids = moved["customer_id"].to_list()
    pending = {
        p.customer_id: p
        for p in ControlProposal.objects.filter(customer_id__in=ids, status="pending")
    }
    new, updated = [], []
    for row in moved.iter_rows(named=True):
        controls = policy.grade_controls[row["credit_grade"]].model_dump(mode="json")
        proposal = pending.get(row["customer_id"])
        if proposal is None:
            new.append(
                ControlProposal(
                    customer_id=row["customer_id"],
                    from_grade=row["previous_grade"],
                    to_grade=row["credit_grade"],
                    controls=controls,
                )
            )
        else:
            proposal.to_grade, proposal.controls = row["credit_grade"], controls
            updated.append(proposal)
    # Proposals are credit-relevant: write their audit history too.
    bulk_create_with_history(new, ControlProposal, batch_size=BATCH)
    update_with_history(updated, ControlProposal, ["to_grade", "controls"])


def _schedule_reviews(result, policy: PolicyConfig, as_of: date, ids=None) -> None:
    """Each client with a grade gets one scheduled review at its grade's frequency."""
    scheduled = set(
        fetch_for(
            Review.objects.order_by().filter(status="scheduled").values_list("customer_id"),
            "customer_id",
            ids,
            {"customer_id": pl.Int64},
        )["customer_id"].to_list()
    )
    last_done = dict(
        fetch_for(
            Review.objects.order_by()
            .filter(status="done")
            .values("customer_id")
            .annotate(last=Max("completed_at"))
            .values_list("customer_id", "last"),
            "customer_id",
            ids,
            {"customer_id": pl.Int64, "last": pl.Datetime("us", "UTC")},
        ).iter_rows()
    )
    reviews = []
    for customer_id, grade in result.select("customer_id", "credit_grade").iter_rows():
        if customer_id in scheduled:
            continue
        frequency = policy.grade_controls[grade].review_frequency
        done = last_done.get(customer_id)
        start = timezone.localtime(done).date() if done else as_of
        reviews.append(
            (customer_id, start + timedelta(days=FREQUENCY_DAYS[frequency]), frequency, grade)
        )
    insert_rows(
        Review, ["customer_id", "due_on", "frequency", "grade"], reviews, ignore_conflicts=True
    )
    _review_preparation_tasks(result, as_of)


#: The owner is asked for updated statements this many days before a review falls due.
REVIEW_PREPARATION_DAYS = 30


def _review_preparation_tasks(result: pl.DataFrame, as_of: date) -> int:
    """A task for the owner to collect updated financial statements before each review that
    falls due within ``REVIEW_PREPARATION_DAYS`` (one open task per client)."""
    from django.conf import settings
    from django.utils import translation
    from django.utils.translation import gettext

    from fincrm.engagement.choices import Priority, TaskKind
    from fincrm.engagement.models import Task

    horizon = as_of + timedelta(days=REVIEW_PREPARATION_DAYS)
    due = fetch(
        Review.objects.order_by()
        .filter(status="scheduled", due_on__lte=horizon, customer__owner__isnull=False)
        .values_list("customer_id", "customer__owner_id", "due_on"),
        {"customer_id": pl.Int64, "owner_id": pl.Int64, "review_due": pl.Date},
    ).join(result.select("customer_id"), on="customer_id", how="semi")
    rows = due.select(
        "customer_id",
        "owner_id",
        due_on=pl.max_horizontal(pl.col("review_due") - pl.duration(days=7), pl.lit(as_of)),
    )
    with translation.override(settings.LANGUAGE_CODE):
        title = gettext("Periodic review: collect the latest financial statements")
    return insert_rows(
        Task,
        ["customer_id", "owner_id", "due_on"],
        rows.iter_rows(),
        constants={
            "kind": TaskKind.REVIEW,
            "title": title,
            "channel": "visit",
            "priority": Priority.NORMAL,
            "source_key": "review:statements",
        },
        ignore_conflicts=True,
    )


def _raise_alerts(
    signals: pl.DataFrame, policy: PolicyConfig, as_of: date, ids: Sequence[int] | None
) -> None:
    """Fire the policy's early-warning rules; each new alert is assigned by the policy's
    routing (:class:`AlertRouter`), notified in-app to the assignee and the owner and e-mailed
    after commit; never twice for the same open alert."""
    rules = policy.early_warning
    fired = evaluate_rules(signals.drop("owner_id"), rules)
    if fired.is_empty():
        return
    horizon = as_of - timedelta(days=max(r.cooldown_days for r in rules))
    # Open alerts and recently closed ones (cool-down) of the run's clients (None: all).
    existing = fetch_for(
        Alert.objects.order_by()
        .filter(~Q(status__in=CLOSED_ALERT_STATUSES) | Q(raised_on__gt=horizon))
        .values_list("customer_id", "rule_code", "signal", "raised_on", "severity", "status"),
        "customer_id",
        ids,
        {
            "customer_id": pl.Int64,
            "rule_code": pl.String,
            "signal": pl.String,
            "raised_on": pl.Date,
            "severity": pl.String,
            "status": pl.String,
        },
    )
    cooldowns = {r.code: r.cooldown_days for r in rules}
    new = dedupe(fired, existing, as_of, cooldowns)
    now = timezone.now()
    route = AlertRouter(policy, new["customer_id"].unique().to_list())
    rows = [
        (
            row["customer_id"],
            row["rule_code"],
            row["signal"],
            float(row["value"]),
            float(row["threshold"]),
            row["severity"],
            route(row["customer_id"], row["severity"]),
        )
        for row in new.iter_rows(named=True)
    ]
    fields = ["customer_id", "rule_code", "signal", "value", "threshold", "severity"]
    fields += ["assigned_to_id", "raised_on", "raised_at"]
    # The new alerts are read back by id above the last one (raised_at has no index, and
    # the alerts table keeps every alert ever raised); raised_at keeps out the alerts any other
    # transaction inserted meanwhile.
    last_pk = Alert.objects.aggregate(last=Max("pk"))["last"] or 0
    insert_rows(Alert, fields, ((*row, as_of, now) for row in rows))
    notes = []
    for customer_id, rule_code, signal, value, _threshold, severity, assignee in rows:
        data = {"rule": rule_code, "signal": signal, "severity": severity, "value": value}
        recipients = {assignee, route.owners.get(customer_id)} - {None}
        notes.extend(
            (user_id, customer_id, NotificationKind.ALERT, data, now) for user_id in recipients
        )
    insert_rows(Notification, ["recipient_id", "customer_id", "kind", "data", "created_at"], notes)
    raised = list(
        Alert.objects.filter(pk__gt=last_pk, raised_at=now).values(
            "pk", "customer_id", "rule_code", "signal", "value", "threshold", "severity",
            "assigned_to_id", "raised_on",
        )
    )  # fmt: skip
    ids = [a["pk"] for a in raised]
    transaction.on_commit(lambda: send_alert_emails.enqueue(ids))
    webhooks.emit(
        webhooks.Event.ALERT_RAISED,
        [{"alert": a.pop("pk"), "customer": a.pop("customer_id"), **a} for a in raised],
    )


class AlertRouter:
    """Who must act on a new alert: the policy's ``alert_routing`` per severity.

    ``owner``: the client's account manager; ``team_lead``: a lead of the client's team, else
    of the nearest parent team; ``risk_officer``: the active risk officer with the fewest
    open alerts (counting the ones assigned in this run). Anyone missing falls back to the
    owner.
    """

    def __init__(self, policy: PolicyConfig, customer_ids: list[int]):
        from fincrm.accounts.models import Team

        self.routing = policy.alert_routing
        clients = Customer.objects.filter(pk__in=customer_ids).values_list(
            "pk", "owner_id", "team_id"
        )
        self.owners = {pk: owner for pk, owner, _team in clients}
        self.teams = {pk: team for pk, _owner, team in clients}
        self.parents = dict(Team.objects.values_list("pk", "parent_id"))
        self.leads: dict[int, int] = {}
        for user_id, team_id in (
            User.objects.filter(role=Role.TEAM_LEAD, is_active=True)
            .order_by("pk")
            .values_list("pk", "team_id")
        ):
            self.leads.setdefault(team_id, user_id)
        officers = User.objects.filter(role=Role.RISK_OFFICER, is_active=True)
        load = dict(
            Alert.objects.filter(assigned_to__in=officers)
            .exclude(status__in=CLOSED_ALERT_STATUSES)
            .values("assigned_to")
            .annotate(n=Count("pk"))
            .values_list("assigned_to", "n")
        )
        self.officer_load = {pk: load.get(pk, 0) for pk in officers.values_list("pk", flat=True)}

    def __call__(self, customer_id: int, severity: str) -> int | None:
        owner = self.owners.get(customer_id)
        target = self.routing.get(severity, "owner")
        if target == "team_lead":
            team = self.teams.get(customer_id)
            while team is not None:
                if team in self.leads:
                    return self.leads[team]
                team = self.parents.get(team)
        elif target == "risk_officer" and self.officer_load:
            officer = min(self.officer_load, key=lambda pk: (self.officer_load[pk], pk))
            self.officer_load[officer] += 1
            return officer
        return owner
