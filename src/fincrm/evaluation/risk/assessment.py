"""Assessing clients: score, grade, signals, loan classes; the assessment rows a run writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

import polars as pl
from django.db.models import FloatField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from fincrm.analytics.policy import PolicyConfig
from fincrm.analytics.scorecard import grade_from_pd
from fincrm.core import partitions
from fincrm.core.bulk import insert_frame, json_object, update_rows_with_history
from fincrm.financing.choices import FacilityStatus
from fincrm.financing.models import Facility
from fincrm.risk.models import CreditAssessment

from ..features import BookReads, client_ids, fetch_for
from .alerts import _raise_alerts
from .characteristics import point_in_time_features
from .controls import _propose_controls, _schedule_reviews
from .scorecard import _scores
from .signals import _signals


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
    from ..choices import RunKind, RunStatus
    from ..models import EvaluationRun

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
