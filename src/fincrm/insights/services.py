"""The prediction run: lifetime value, churn risk, next financing need and recommendations for
every client, read and written in bulk (``fincrm predict``; nightly after the evaluation).

Each model lives in ``fincrm.analytics``; this module only moves frames. The churn model is
trained on clients at several past cut-offs whose outcomes were all known by ``as_of −
horizon``, validated out of time at ``as_of − horizon`` (outcomes known today), then scores
every active client as of today.
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import cast

import numpy as np
import polars as pl
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from fincrm.analytics import calibration
from fincrm.analytics import clv as clv_model
from fincrm.analytics.churn import ChurnModel, assert_no_leakage, retention_candidates
from fincrm.analytics.demand import (
    apply_confidence,
    backtest_demand,
    calibrate_confidence,
    due_within,
    hit_rates,
    predict_demand,
)
from fincrm.analytics.recommend import recommend_products
from fincrm.analytics.running_book import running_book_value
from fincrm.core.bulk import insert_frame, insert_rows
from fincrm.core.frames import fetch
from fincrm.core.policy import policy_active, policy_config
from fincrm.engagement.choices import Priority, TaskKind
from fincrm.engagement.services import tasks_schedule_many
from fincrm.evaluation.models import Classification
from fincrm.financing.models import Application, Product

from .features import Book, churn_columns, latest_pds
from .models import (
    DEMAND_MIN_PREDICTIONS,
    ChurnModelReport,
    DemandBacktest,
    Prediction,
    Recommendation,
    RecommendationStatus,
)

log = logging.getLogger(__name__)
WEEK = 7
#: Fewest clients (and churners) a churn model is trained on; below, no churn risk is given.
MIN_TRAIN, MIN_CHURNERS = 100, 10
#: Training pools the clients of several cut-offs, each ``ROLL_DAYS`` earlier than the last.
TRAIN_CUTOFFS, ROLL_DAYS = 10, 60
#: The newest training cut-offs calibrate the probabilities: a model trained on the cut-offs
#: whose outcomes were known by then scores them, and the calibrator learns from that later
#: period how far its probabilities are off (the book's churn rate moves with time).
CALIBRATION_CUTOFFS = 2
#: Fewest rows (and churners, and stayers) a calibrator is fitted on; fewer: not calibrated.
MIN_CALIBRATION, MIN_CALIBRATION_EVENTS = 20, 3
#: Clients per range of the streamed run (``predictions_run``): the row sets of this many
#: clients are in memory at once (about 1 GiB at 100,000 clients of the demo book).
PREDICT_CHUNK_CLIENTS = 100_000
#: The demand back-test: this many past cut-offs, one window apart (the latest window ends
#: today). The latest is reported; the earlier ones calibrate its levels (out of time).
DEMAND_CUTOFFS = 4
#: The back-test predicts for at most about this many clients (every k-th id beyond): hit
#: rates need thousands, not a million, and each cut-off is a whole prediction.
DEMAND_BACKTEST_CLIENTS = 20_000


@contextmanager
def _stage(name: str) -> Iterator[None]:
    """Log a stage of the run: its wall time, the resident memory after it and the peak so far
    (``FINCRM_LOG_LEVEL=INFO fincrm predict`` prints them; the 1M figures come from these)."""
    started = time.perf_counter()
    yield
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    log.info("predict %s: %.1f s, rss %.0f MiB, peak %.0f MiB",
             name, time.perf_counter() - started, _rss_mib(), peak)  # fmt: skip


def _rss_mib() -> float:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:  # not Linux
        return float("nan")


@dataclass
class PredictionResult:
    clients: int = 0
    with_clv: int = 0
    with_running_value: int = 0
    churn_report: ChurnModelReport | None = None
    with_need: int = 0
    recommendations: int = 0
    retention_tasks: int = 0
    notes: list[str] = field(default_factory=list)


def lifetime_values(drawdowns: pl.DataFrame, *, as_of: date, horizon_weeks: int,
                    annual_rate: float, penalizer: float) -> pl.DataFrame:  # fmt: skip
    """BG/NBD + Gamma-Gamma on drawdowns (weeks): expected drawdowns in the horizon,
    probability still active and discounted value per client with at least one drawdown."""
    summary = (
        drawdowns.sort("drawn_on")
        .group_by("customer_id")
        .agg(
            first=pl.col("drawn_on").first(),
            last=pl.col("drawn_on").last(),
            n=pl.len(),
            repeat_value=pl.col("value").slice(1).mean(),
            mean_value=pl.col("value").mean(),
        )
        .with_columns(
            frequency=(pl.col("n") - 1).cast(pl.Float64),
            recency=(pl.col("last") - pl.col("first")).dt.total_days() / WEEK,
            T=(pl.lit(as_of) - pl.col("first")).dt.total_days() / WEEK,
        )
        .filter(pl.col("T") > 0)
        .sort("customer_id")
    )
    x, t_x, age = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    bg = clv_model.fit_bgnbd(x, t_x, age, penalizer=penalizer)
    repeaters = summary.filter(pl.col("frequency") > 0)
    monetary = summary["repeat_value"].fill_null(0).to_numpy()
    weekly = (1 + annual_rate) ** (1 / 52) - 1
    discounted = np.asarray(
        clv_model.discounted_purchases(bg, x, t_x, age, horizon=horizon_weeks,
                                       discount_rate=weekly, step=4)
    )  # fmt: skip
    try:
        gg = clv_model.fit_gamma_gamma(
            repeaters["frequency"].to_numpy(), repeaters["repeat_value"].to_numpy()
        )
        value = np.asarray(clv_model.expected_average_value(gg, x, monetary))
    except (ValueError, RuntimeError):
        # Gamma-Gamma needs q > 1 (a finite mean value); loan books whose sizes span four
        # orders of magnitude often fit q <= 1. Then each client's own mean drawdown value.
        value = summary["mean_value"].to_numpy()
    finite = [pl.col(c).fill_nan(None) for c in ("expected_transactions", "prob_alive", "clv")]
    return (
        summary.select("customer_id")
        .with_columns(
            expected_transactions=pl.Series(
                np.asarray(clv_model.expected_purchases(bg, horizon_weeks, x, t_x, age))
            ),
            prob_alive=pl.Series(np.asarray(clv_model.prob_alive(bg, x, t_x, age))),
            clv=pl.Series(discounted * value),
        )
        .with_columns(finite)
    )


def _churn_model(train: pl.DataFrame, columns: list[str]) -> ChurnModel:
    model = ChurnModel(n_estimators=150, min_child_samples=min(20, max(5, train.height // 50)))
    return model.fit(train.select(columns), train["churned"].to_numpy())


def _calibrator(scores: np.ndarray, y: np.ndarray) -> calibration.Calibrator | None:
    """A calibrator of ``scores`` (a model's probabilities on rows it never saw) to the
    outcomes ``y``; None when there are too few rows, churners or stayers to learn from."""
    events = int(y.sum())
    if y.size < MIN_CALIBRATION or min(events, y.size - events) < MIN_CALIBRATION_EVENTS:
        return None
    return calibration.calibrator_for(y.size).fit(scores, y)


def _basis(calibrator: calibration.Calibrator, y: np.ndarray, **where) -> dict:
    basis = {**where, "n": int(y.size), "churn_rate": float(y.mean())}
    if isinstance(calibrator, calibration.PlattCalibrator):
        basis |= {"slope": calibrator.slope_, "intercept": calibrator.intercept_}
    return basis


def _validated_calibrator(
    labelled: Mapping[date, pl.DataFrame],
    train_cuts: list[date],
    *,
    horizon: int,
    columns: list[str],
) -> tuple[calibration.Calibrator, dict] | None:
    """The calibration the test judges, learnt out of time before it: the newest
    ``CALIBRATION_CUTOFFS`` training cut-offs scored by a model trained on the cut-offs whose
    outcomes were all known by the earliest of them. None when either is too small."""
    newest = train_cuts[:CALIBRATION_CUTOFFS]
    known_by = newest[-1] - timedelta(days=horizon)
    older = [cut for cut in train_cuts if cut <= known_by]
    if not older:
        return None
    base = pl.concat([labelled[cut] for cut in older])
    base_events = int(base["churned"].sum())
    if base.height < MIN_TRAIN // 2 or min(base_events, base.height - base_events) < 1:
        return None
    fold = pl.concat([labelled[cut] for cut in newest])
    y = fold["churned"].to_numpy()
    calibrator = _calibrator(_churn_model(base, columns).predict_proba(fold.select(columns)), y)
    if calibrator is None:
        return None
    basis = _basis(calibrator, y, fitted_on=[cut.isoformat() for cut in newest],
                   scored_by_model_up_to=older[0].isoformat())  # fmt: skip
    return calibrator, basis


def _reliability(y: np.ndarray, calibrated: np.ndarray, raw: np.ndarray) -> list[dict]:
    """The reliability table of the calibrated probabilities, with the raw mean per band."""
    table = calibration.reliability_table(y, calibrated)
    bands = calibration.band_index(calibrated)
    raw_means = {int(b): float(raw[bands == b].mean()) for b in np.unique(bands)}
    return [
        row | {"mean_raw": raw_means[int(b)]}
        for row, b in zip(table.to_dicts(), np.unique(bands), strict=True)
    ]


def churn_cutoffs(*, as_of: date, horizon: int) -> tuple[list[date], date]:
    """The training cut-offs (newest first) and the test cut-off (``as_of − horizon``): every
    training label was known before the test cut-off."""
    test_cut = as_of - timedelta(days=horizon)
    last_train = test_cut - timedelta(days=horizon)
    return [last_train - timedelta(days=ROLL_DAYS * k) for k in range(TRAIN_CUTOFFS)], test_cut


def labelled_clients(book: Book, cutoffs: list[date], *, horizon: int) -> dict[date, pl.DataFrame]:
    """At each cut-off, the churn features of the clients at risk then, with their label,
    sorted by client (a book cut into ranges gives the same rows, range after range)."""
    labelled = {}
    for cut in cutoffs:
        features = book.churn_features(cut)
        assert_no_leakage(features, as_of_col="observed_to", cutoff=cut)
        labelled[cut] = features.join(book.churn_labels(cut, horizon), on="customer_id").sort(
            "customer_id"
        )
    return labelled


def train_churn(
    labelled: Mapping[date, pl.DataFrame], *, as_of: date, horizon: int
) -> tuple[ChurnModel, calibration.Calibrator | None, dict] | None:
    """Train on rolling cut-offs whose labels were all known before the test cut-off
    (``as_of − horizon``), calibrate on the newest of them (``_validated_calibrator``), test
    there; the calibrator returned for scoring today is refitted on the test clients (the
    newest outcomes). ``labelled``: :func:`labelled_clients` at every cut-off of
    :func:`churn_cutoffs`. None when there are too few data to learn from."""
    columns = churn_columns()
    train_cuts, test_cut = churn_cutoffs(as_of=as_of, horizon=horizon)
    train = pl.concat([labelled[cut] for cut in train_cuts])
    test = labelled[test_cut]
    churners = int(train["churned"].sum())
    if train.height < MIN_TRAIN or churners < MIN_CHURNERS or train.height == churners:
        return None
    model = _churn_model(train, columns)
    validated = _validated_calibrator(labelled, train_cuts, horizon=horizon, columns=columns)
    calibrator, basis = validated if validated else (None, {})
    quality: dict = {}
    y_test = test["churned"].to_numpy()
    if test.height and 0 < y_test.sum() < test.height:
        quality = model.evaluate(test.select(columns), y_test)
    if test.height:
        raw = model.predict_proba(test.select(columns))
        final = calibrator.predict(raw) if calibrator else raw
        quality |= {
            "brier_raw": calibration.brier_score(y_test, raw),
            "brier": calibration.brier_score(y_test, final),
            "reliability": _reliability(y_test, final, raw),
        }
        # Today's clients: the same calibration one period later — the model's own
        # probabilities on the test clients, the newest outcomes known.
        refitted = _calibrator(raw, y_test) if calibrator else None
        if refitted is not None:
            calibrator = refitted
            basis["scoring"] = _basis(refitted, y_test, fitted_on=[test_cut.isoformat()])
    importance = {}
    if test.height:
        contributions = model.contributions(test.select(columns))
        # polars types mean() as any Python literal; of these Float64 columns it is a float.
        importance = {
            c: float(cast(float, contributions[c].abs().mean()))
            for c in columns
            if c in contributions.columns
        }
    report = {
        "train_cutoff": train_cuts[0],
        "test_cutoff": test_cut,
        "horizon_days": horizon,
        "n_train": train.height,
        "n_test": test.height,
        "train_churn_rate": churners / train.height,
        "auc": quality.get("auc"),
        "lift_top_decile": quality.get("lift_top_decile"),
        "top_decile_rate": quality.get("top_decile_rate"),
        "base_rate": quality.get("base_rate"),
        "brier_raw": quality.get("brier_raw"),
        "brier": quality.get("brier"),
        "reliability": quality.get("reliability", []),
        "calibration": _calibration_name(calibrator),
        "calibration_basis": basis,
        "importance": importance,
        "note": f"{TRAIN_CUTOFFS} training cut-offs every {ROLL_DAYS} days up to {train_cuts[0]}",
    }
    return model, calibrator, report


def _calibration_name(calibrator) -> str:
    if isinstance(calibrator, calibration.PlattCalibrator):
        return "platt"
    if isinstance(calibrator, calibration.IsotonicCalibrator):
        return "isotonic"
    return ""


def _strategy_columns(policy, products: pl.DataFrame) -> pl.DataFrame:
    """customer_id, max_product_risk, preferred_products (codes of the product types its
    strategies put first, in their order)."""
    from fincrm.evaluation.programmes import book_profiles

    profiles = book_profiles(policy)
    by_type = products.select("code", "product_type").sort("code")
    preferred = (
        profiles.select("customer_id", "preferred_types")
        .explode("preferred_types")
        .drop_nulls("preferred_types")
        .with_columns(_order=pl.int_range(pl.len()).over("customer_id"))
        .join(by_type, left_on="preferred_types", right_on="product_type")
        .sort("customer_id", "_order", "code")
        .group_by("customer_id", maintain_order=True)
        .agg(preferred_products=pl.col("code"))
    )
    return profiles.select("customer_id", "max_product_risk").join(
        preferred, on="customer_id", how="left"
    )


def _recommendations(book: Book, policy, as_of: date) -> pl.DataFrame:
    rules = policy.prediction
    classes = fetch(
        Classification.objects.order_by().values_list("customer_id", "grade", "tier", "segments"),
        {"customer_id": pl.Int64, "grade": pl.String, "tier": pl.String, "segments": pl.String},
    ).with_columns(
        segment=pl.col("segments").str.extract(r'"([^"]+)"').fill_null("none"),
    )
    controls = {g: c.limit_revenue_multiple for g, c in policy.grade_controls.items()}
    exposure = (
        book.facilities.filter(pl.col("status") == "active")
        .group_by("customer_id")
        .agg(pl.col("drawn").sum().alias("exposure"))
    )
    clients = (
        classes.join(book.customers.select("customer_id", "industry", "revenue"), on="customer_id")
        .join(exposure, on="customer_id", how="left")
        .with_columns(
            available_limit=(
                pl.col("grade").replace_strict(controls, default=0.0, return_dtype=pl.Float64)
                * pl.col("revenue").fill_null(0)
                - pl.col("exposure").fill_null(0)
            ).clip(0)
        )
    )
    products = pl.DataFrame(
        [
            {"code": code, "name": name, "max_amount": float(amount),
             "min_grade": rules.product_min_grade.get(kind, policy.grades[-1].grade),
             "product_type": kind, "risk_level": policy.strategies.product_risk.get(kind)}
            for code, name, amount, kind in Product.objects.filter(is_active=True).values_list(
                "code", "name", "max_amount", "product_type"
            )
        ],
        schema={"code": pl.String, "name": pl.String, "max_amount": pl.Float64,
                "min_grade": pl.String, "product_type": pl.String, "risk_level": pl.Int64},
    ).with_columns(
        eligible_tiers=pl.lit(None, pl.List(pl.String)),
        segments=pl.lit(None, pl.List(pl.String)),
    )  # fmt: skip
    uptake = book.facilities.select("customer_id", product_code=pl.col("product")).unique()
    if clients.is_empty() or products.is_empty():
        return pl.DataFrame()
    # Strategies (issue 24, point 1): the segment's and stage's product types first, nothing
    # above the client's risk appetite first.
    clients = clients.join(_strategy_columns(policy, products), on="customer_id", how="left")
    return recommend_products(
        clients,
        products,
        uptake,
        k=rules.recommendations_per_client,
        min_peers=rules.min_peers,
        grade_order=[band.grade for band in policy.grades],
    )


@dataclass
class _Streamed:
    """What the ranges of clients leave behind: small per-client frames."""

    labelled: dict[date, list[pl.DataFrame]] = field(default_factory=dict)
    current: list[pl.DataFrame] = field(default_factory=list)
    running: list[pl.DataFrame] = field(default_factory=list)

    def add(self, labelled: dict[date, pl.DataFrame], current: pl.DataFrame,
            running: pl.DataFrame) -> None:  # fmt: skip
        for cut, rows in labelled.items():
            self.labelled.setdefault(cut, []).append(rows)
        self.current.append(current)
        self.running.append(running)


def client_ranges(customer_ids: pl.Series, size: int) -> list[range]:
    """``customer_ids`` cut into ranges of ids holding ``size`` clients each (the last fewer)."""
    ids = customer_ids.sort()
    if ids.is_empty():
        return []
    starts = ids.gather_every(size).to_list()
    stops = [*starts[1:], int(ids[-1]) + 1]
    return [range(a, b) for a, b in zip(starts, stops, strict=True)]


@transaction.atomic
def predictions_run(*, as_of: date | None = None) -> PredictionResult:
    """Every prediction for every client; rewrites ``Prediction`` rows and open
    recommendations, adds retention tasks (once per client and quarter).

    Streamed: the per-client tables (customers, facilities, applications) are read whole;
    the row sets (instalments, interactions, tickets, responses, alerts) a range of
    ``PREDICT_CHUNK_CLIENTS`` clients at a time, each range's churn features at every cut-off
    and running-book value computed before the next range is read. Every feature is one
    client's, so the ranges give the rows one read of the whole book would."""
    as_of = as_of or timezone.localdate()
    result = PredictionResult()
    _predict_and_save(policy_config(policy_active()), as_of=as_of, result=result)
    from .cube import cube_rebuild

    with _stage("KPI cube"):
        built = cube_rebuild(built_on=as_of)  # the facts as at the predictions' day
        result.notes.append(", ".join(f"{k}: {v:,}" for k, v in built.items()))
    return result


def _predict_and_save(policy, *, as_of: date, result: PredictionResult) -> None:
    """The predictions and recommendations written, their counts in ``result``; the frames
    are let go on return, before the KPI cube is rebuilt."""
    rules = policy.prediction
    funding_rate = funding_rate_annual(policy)
    with _stage("read clients"):
        book = Book.read_clients()
        pds = latest_pds(as_of)
    labelled, current, running = _streamed(book, pds, rules, as_of=as_of,
                                           funding_rate=funding_rate)  # fmt: skip

    frame = book.customers.select("customer_id")
    drawdowns = book.drawdowns(as_of, funding_rate=funding_rate)
    with _stage("lifetime value"):
        frame = _with_lifetime_values(frame, drawdowns, rules, as_of=as_of, result=result)
    frame = _with_running_book(frame, running)
    result.with_clv = int(frame["clv"].is_not_null().sum())
    result.with_running_value = int(frame["clv_running"].is_not_null().sum())

    with _stage("churn"):
        frame, reasons = _with_churn(frame, labelled, current, rules, as_of=as_of, result=result)
    with _stage("next need"):
        frame = _with_need(frame, book, drawdowns, rules, as_of=as_of)
    frame = frame.join(reasons, on="customer_id", how="left")
    result.with_need = int(frame["next_need_on"].is_not_null().sum())

    now = timezone.now()
    with _stage("save predictions"):
        result.clients = _save_predictions(frame, computed_at=now)
    with _stage("recommendations"):
        recommended = _recommendations(book, policy, as_of)
    with _stage("save recommendations"):
        result.recommendations = _save_recommendations(recommended, created_at=now)


def _streamed(
    book: Book, pds: pl.DataFrame, rules, *, as_of: date, funding_rate: float
) -> tuple[dict[date, pl.DataFrame], pl.DataFrame, pl.DataFrame]:
    """Range after range of clients: the labelled churn features at every cut-off
    (:func:`labelled_clients`), today's features of the clients who could leave, and the
    running-book values (:func:`_running_values`), each by client."""
    horizon = rules.churn_horizon_days
    train_cuts, test_cut = churn_cutoffs(as_of=as_of, horizon=horizon)
    due_since = min(train_cuts) - timedelta(days=365)
    streamed = _Streamed()
    # An empty book: one empty range, for frames of the right columns.
    ranges = client_ranges(book.customers["customer_id"], PREDICT_CHUNK_CLIENTS) or [range(0)]
    for ids in ranges:
        with _stage(f"clients {ids.start:,}–{ids.stop - 1:,}"):
            part = book.with_rows(ids, competitor_words=rules.competitor_words,
                                  due_since=due_since)  # fmt: skip
            current = part.churn_features(as_of).join(
                part.churn_population(as_of, horizon), on="customer_id", how="semi"
            )
            running = _running_values(
                part.running, pds, as_of=as_of,
                funding_rate=funding_rate, discount_rate=rules.clv_discount_rate_annual,
            )  # fmt: skip
            streamed.add(labelled_clients(part, [*train_cuts, test_cut], horizon=horizon),
                         current, running)  # fmt: skip
            del part
    labelled = {cut: _concat(parts) for cut, parts in streamed.labelled.items()}
    return labelled, _concat(streamed.current), _concat(streamed.running)


def _concat(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The ranges' frames as one, by client (ranges may come back in any order)."""
    return pl.concat(parts).sort("customer_id")


def _with_lifetime_values(
    frame: pl.DataFrame, drawdowns: pl.DataFrame, rules, *, as_of: date, result: PredictionResult
) -> pl.DataFrame:
    """``frame`` with ``expected_transactions``, ``prob_alive`` and ``clv`` (future
    drawdowns); all null, with a note in ``result``, when the models cannot be fitted."""
    try:
        values = lifetime_values(
            drawdowns, as_of=as_of, horizon_weeks=rules.clv_horizon_weeks,
            annual_rate=rules.clv_discount_rate_annual, penalizer=rules.clv_penalizer,
        )  # fmt: skip
        return frame.join(values, on="customer_id", how="left")
    except (ValueError, RuntimeError) as exc:  # too little history to fit, or no optimum
        result.notes.append(f"lifetime value: {exc}")
        return frame.with_columns(
            expected_transactions=pl.lit(None, pl.Float64),
            prob_alive=pl.lit(None, pl.Float64),
            clv=pl.lit(None, pl.Float64),
        )


def _with_churn(
    frame: pl.DataFrame, labelled: Mapping[date, pl.DataFrame], current: pl.DataFrame, rules,
    *, as_of: date, result: PredictionResult,
) -> tuple[pl.DataFrame, pl.DataFrame]:  # fmt: skip
    """Train the churn model (on ``labelled``, see :func:`train_churn`) and score the clients
    who could leave (``current``: the features today of the clients with a facility to renew
    in the horizon): ``frame`` with ``churn_probability``, and the reasons (``customer_id``,
    ``churn_reasons``). Stores the model's report and the retention tasks in ``result`` (a
    note when there is no model)."""
    trained = train_churn(labelled, as_of=as_of, horizon=rules.churn_horizon_days)
    reasons = pl.DataFrame(schema={"customer_id": pl.Int64, "churn_reasons": pl.String})
    if trained is None:
        result.notes.append("churn: too few clients or churners to train on")
        return frame.with_columns(churn_probability=pl.lit(None, pl.Float64)), reasons
    model, calibrator, report = trained
    result.churn_report = ChurnModelReport.objects.create(**report)
    columns = churn_columns()
    probability = model.predict_proba(current.select(columns))
    scored = current.select(
        "customer_id",
        churn_probability=pl.Series(
            calibrator.predict(probability) if calibrator else probability, dtype=pl.Float64
        ),
    )
    reasons = _churn_reasons(model, current.select(columns), current.select("customer_id"))
    frame = frame.join(scored, on="customer_id", how="left")
    result.retention_tasks = _retention_tasks(scored, rules, as_of)
    return frame, reasons


def _churn_reasons(model: ChurnModel, features: pl.DataFrame, ids: pl.DataFrame) -> pl.DataFrame:
    """``customer_id``, ``churn_reasons``: the model's top three contributions per scored
    client (``features``, in the order of ``ids``), as JSON."""
    explained = model.explain(features, top=3)
    rows_to_ids = ids.with_row_index("row")
    return (
        explained.join(rows_to_ids.with_columns(pl.col("row").cast(explained["row"].dtype)),
                       on="row")
        .group_by("customer_id")
        .agg(
            pl.struct(
                feature="feature", label="label", value="value", contribution="contribution"
            )
            .sort_by("rank")
            .alias("reasons")
        )
        .with_columns(churn_reasons=pl.struct(v=pl.col("reasons")).struct.json_encode()
                      .str.slice(5).str.strip_suffix("}"))
        .select("customer_id", "churn_reasons")
    )  # fmt: skip


def _with_need(
    frame: pl.DataFrame, book: Book, drawdowns: pl.DataFrame, rules, *, as_of: date
) -> pl.DataFrame:
    """``frame`` with the next financing need: ``next_need_on`` (active clients only),
    ``next_need_amount``, ``need_confidence`` and ``need_reason`` (JSON)."""
    need = _demand(book, drawdowns.select("customer_id", "drawn_on", "amount"), rules,
                   as_of=as_of, computed_at=timezone.now())  # fmt: skip
    need = due_within(need, as_of=as_of)
    return frame.join(
        need.select(
            "customer_id",
            next_need_on=pl.when(pl.col("active")).then(pl.col("expected_next_date")),
            next_need_amount="expected_amount",
            need_confidence="confidence",
            need_reason=pl.struct(
                code="reason", cycle_days="cycle_days", due_within="due_within",
                seasonal_month="seasonal_month", seasonal_years="seasonal_years",
                days_since_last="days_since_last",
            ).struct.json_encode(),
        ),
        on="customer_id",
        how="left",
    )  # fmt: skip


def _save_predictions(frame: pl.DataFrame, *, computed_at) -> int:
    """Replace every ``Prediction`` row by ``frame``'s; returns how many."""
    rows = frame.select(
        "customer_id", "expected_transactions", "prob_alive", "clv", "clv_running",
        "clv_drawdowns", pl.col("clv_basis").fill_null("{}"), "churn_probability",
        pl.col("churn_reasons").fill_null("[]"), "next_need_on", "next_need_amount",
        pl.col("need_confidence").fill_null(""), pl.col("need_reason").fill_null("{}"),
    )  # fmt: skip
    Prediction.objects.all().delete()
    insert_frame(
        Prediction, rows, constants={"computed_at": computed_at},
        json_text=("clv_basis", "churn_reasons", "need_reason"),
    )  # fmt: skip
    return rows.height


def _save_recommendations(recommended: pl.DataFrame, *, created_at) -> int:
    """Replace the open recommendations by ``recommended``, leaving out a product accepted or
    dismissed for the client in the last 90 days; returns how many were created."""
    Recommendation.objects.filter(status=RecommendationStatus.OPEN).delete()
    if not recommended.height:
        return 0
    ids = {"customer_id": pl.Int64, "product_id": pl.Int64}
    products = pl.DataFrame(
        list(Product.objects.values_list("code", "pk")),
        schema={"product_code": pl.String, "product_id": pl.Int64},
        orient="row",
    )
    decided = pl.DataFrame(
        list(
            Recommendation.objects.exclude(status=RecommendationStatus.OPEN)
            .filter(created_at__gte=created_at - timedelta(days=90))
            .values_list("customer_id", "product_id")
        ),
        schema=ids,
        orient="row",
    )
    rows = (
        recommended.join(products, on="product_code", how="left", maintain_order="left")
        .cast({"customer_id": pl.Int64})
        .join(decided, on=list(ids), how="anti", maintain_order="left")
        .select(
            "customer_id", "product_id", "rank", "score", "reason_code",
            reason_value=pl.col("reason_value").struct.json_encode(),
            suggested_amount="suggested_amount",
        )
    )  # fmt: skip
    return insert_frame(
        Recommendation, rows, json_text=("reason_value",),
        constants={"created_at": created_at, "status": RecommendationStatus.OPEN},
    )  # fmt: skip


def funding_rate_annual(policy) -> float:
    """The cost of funds a year (0.03 = 3 %): the prediction rules' own, else the reference
    rate of the lending rules (the one-year LPR)."""
    percent = policy.prediction.clv_funding_cost_percent
    return (percent if percent is not None else policy.lending.base_rate_percent) / 100


def _running_values(instalments: pl.DataFrame, pds: pl.DataFrame, *, as_of: date,
                    funding_rate: float, discount_rate: float) -> pl.DataFrame:  # fmt: skip
    """customer_id, clv_running, clv_basis: the margin still to come on the running
    facilities of the clients of ``instalments`` (``analytics.running_book``) and its basis."""
    running = running_book_value(
        instalments, pds, discount_rate=discount_rate, funding_rate=funding_rate, as_of=as_of
    ).join(pds, on="customer_id", how="left")
    return running.select(
        "customer_id",
        clv_running="value",
        clv_basis=pl.struct(
            pd="pd",
            funding_rate=pl.lit(funding_rate),
            discount_rate=pl.lit(discount_rate),
            margin="margin",
            instalments="instalments",
        ).struct.json_encode(),
    )


def _with_running_book(frame: pl.DataFrame, running: pl.DataFrame) -> pl.DataFrame:
    """Lifetime value of the whole relationship: the future drawdowns' value (``clv`` so
    far) becomes ``clv_drawdowns``, the margin still to come on the running facilities
    ``clv_running`` (:func:`_running_values`), and ``clv`` their sum over the known parts."""
    both = frame.rename({"clv": "clv_drawdowns"}).join(running, on="customer_id", how="left")
    parts = pl.col("clv_drawdowns"), pl.col("clv_running")
    return both.with_columns(
        clv=pl.when(parts[0].is_not_null() | parts[1].is_not_null()).then(
            parts[0].fill_null(0) + parts[1].fill_null(0)
        )
    )


def _demand(book: Book, drawdowns: pl.DataFrame, rules, *, as_of: date,
            computed_at) -> pl.DataFrame:  # fmt: skip
    """The next need of every client, its confidence earned in a back-test on the book; the
    back-test's hit rates stored for the demand page (``DemandBacktest``)."""
    window = rules.demand_window_days
    inputs = {
        "facilities": book.facilities.select("customer_id", "start_date", "maturity_date"),
        "industries": book.customers.select("customer_id", "industry"),
        "default_cycle_days": rules.default_cycle_days,
    }
    thresholds = {"high_hit_rate": rules.demand_high_hit_rate,
                  "medium_hit_rate": rules.demand_medium_hit_rate,
                  "min_predictions": DEMAND_MIN_PREDICTIONS}  # fmt: skip
    cutoffs = [as_of - timedelta(days=window * k) for k in range(1, DEMAND_CUTOFFS + 1)]
    clients = drawdowns["customer_id"].n_unique()
    step = max(1, -(-clients // DEMAND_BACKTEST_CLIENTS))  # ceiling division
    sample = drawdowns.filter(pl.col("customer_id") % step == 0) if step > 1 else drawdowns
    tested = backtest_demand(sample, cutoffs=cutoffs, window_days=window, **inputs)
    latest = tested.filter(pl.col("cutoff") == cutoffs[0])
    # The reported cut-off's levels come from the earlier cut-offs only: out of time.
    earlier = calibrate_confidence(tested.filter(pl.col("cutoff") < cutoffs[0]), **thresholds)
    reported = apply_confidence(latest, earlier, column="rule_confidence")
    rows = []
    for basis, backtest in (("calibrated", reported), ("rule", latest)):
        for r in hit_rates(backtest).iter_rows(named=True):
            rows.append((cutoffs[0], window, basis, "", "", r["confidence"] or "",
                         r["predictions"], r["came_true"]))  # fmt: skip
    # What each kind of forecast earned over every cut-off: the levels given today.
    levels = calibrate_confidence(tested, **thresholds)
    for r in levels.iter_rows(named=True):
        rows.append((cutoffs[-1], window, "levels", r["reason"], r["rule_confidence"],
                     r["confidence"], r["predictions"], r["came_true"]))  # fmt: skip
    DemandBacktest.objects.all().delete()
    insert_rows(
        DemandBacktest,
        (
            "cutoff",
            "window_days",
            "basis",
            "reason",
            "rule_confidence",
            "confidence",
            "predictions",
            "came_true",
        ),
        rows,
        constants={"computed_at": computed_at},
    )
    need = predict_demand(drawdowns, as_of=as_of, **inputs)
    return apply_confidence(need, levels)


def _retention_tasks(scored: pl.DataFrame, rules, as_of: date) -> int:
    """A retention visit for valuable clients at risk, once per client and quarter."""
    tiers = fetch(
        Classification.objects.order_by().values_list("customer_id", "tier", "customer__owner_id"),
        {"customer_id": pl.Int64, "tier": pl.String, "owner_id": pl.Int64},
    )
    at_risk = retention_candidates(
        scored.join(tiers, on="customer_id"),
        min_prob=rules.retention_min_probability,
        min_tier=rules.retention_min_tier,
    ).filter(pl.col("owner_id").is_not_null())
    quarter = f"{as_of.year}Q{(as_of.month - 1) // 3 + 1}"
    key = f"retention:{quarter}"
    title = gettext("Retention visit: high churn risk")
    # engagement's bulk scheduling: none for a client that had this quarter's (in any status)
    return tasks_schedule_many(
        rows=(
            (r["customer_id"], r["owner_id"], TaskKind.VISIT, title,
             f"{r['churn_probability']:.0%}", "", Priority.HIGH, as_of + timedelta(days=7), key)
            for r in at_risk.iter_rows(named=True)
        )
    )  # fmt: skip


@transaction.atomic
def recommendation_accept(*, recommendation: Recommendation, user) -> Application:
    """Turn a recommendation into an application draft (stage: lead) for the client."""
    from fincrm.financing.services import application_create

    recommendation = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
    product = recommendation.product
    amount = recommendation.suggested_amount or float(product.min_amount)
    amount = min(max(amount, float(product.min_amount)), float(product.max_amount))
    application = application_create(
        customer=recommendation.customer,
        product=product,
        amount=Decimal(str(round(amount, -3))).max(product.min_amount),
        tenor_months=product.min_tenor_months,
        purpose=gettext("From a recommendation"),
        created_by=user,
    )
    recommendation.status = RecommendationStatus.ACCEPTED
    recommendation.decided_at, recommendation.decided_by = timezone.now(), user
    recommendation.application = application
    recommendation.save(update_fields=["status", "decided_at", "decided_by", "application"])
    return application


def recommendation_dismiss(*, recommendation: Recommendation, user) -> None:
    recommendation.status = RecommendationStatus.DISMISSED
    recommendation.decided_at, recommendation.decided_by = timezone.now(), user
    recommendation.save(update_fields=["status", "decided_at", "decided_by"])
