"""Training the scorecard on the book's own outcomes, and scoring with it or the expert card."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from fincrm.analytics.policy import PolicyConfig
from fincrm.analytics.scorecard import (
    Scorecard,
    auc,
    build_default_labels,
    expert_score,
    ks,
    score_distribution,
)
from fincrm.financing.models import Installment
from fincrm.risk.choices import ScoreMethod
from fincrm.risk.models import ScorecardModel

from ..features import fetch_for
from ..model_validation import holdout_validation
from .characteristics import MONOTONIC, SCORE_FEATURES, point_in_time_features, utilisation_at

HOLDOUT_SHARE = 0.3
#: Quarterly observation dates pooled for training (the latest one horizon before today).
SNAPSHOTS = 4


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
    data = _training_data(observation, as_of, scaling)
    y = data["default"].to_numpy().astype(int)
    holdout = _holdout_mask(data, seed)
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
        calibrate=scaling.calibrate_in_the_large,
    )
    train = pl.Series(~holdout)
    card.fit(X.filter(train), y[~holdout], prior=prior[~holdout])
    auc_holdout, ks_holdout = _holdout_discrimination(card, X, y, prior, holdout)
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


def _training_data(observation: date, as_of: date, scaling) -> pl.DataFrame:
    """The training rows of ``observation`` and the ``SNAPSHOTS − 1`` quarters before it,
    pooled (a client is one row per date)."""
    return pl.concat(
        [
            _training_rows(observation - timedelta(days=91 * k), as_of, scaling)
            for k in range(SNAPSHOTS)
        ],
        how="vertical_relaxed",
    )


def _holdout_mask(data: pl.DataFrame, seed: int) -> np.ndarray:
    """Per row, whether it is held out: all the rows of a random ``HOLDOUT_SHARE`` of the
    clients, so no client is on both sides."""
    clients = data["customer_id"].unique().sort()
    rng = np.random.default_rng(seed)
    held = clients.filter(pl.Series(rng.random(clients.len()) < HOLDOUT_SHARE))
    return data["customer_id"].is_in(held.implode()).to_numpy()


def _holdout_discrimination(
    card: Scorecard, X: pl.DataFrame, y: np.ndarray, prior: np.ndarray, holdout: np.ndarray
) -> tuple[float | None, float | None]:
    """AUC and KS of the fitted ``card`` on the hold-out; None when the hold-out has no
    defaults or nothing but defaults (neither is defined then)."""
    if not (holdout.any() and 0 < y[holdout].sum() < holdout.sum()):
        return None, None
    p = card.predict_proba(X.filter(pl.Series(holdout)), prior=prior[holdout])
    return float(auc(y[holdout], p)), float(ks(y[holdout], p))


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
