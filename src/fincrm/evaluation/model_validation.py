"""A newly trained scorecard measured on its hold-out, for the model governance page.

Everything the risk officer compares when deciding whether a challenger replaces the champion:
discrimination, calibration by grade (an exact binomial test per grade), Hosmer–Lemeshow,
agreement with the expert card, and the champion of the day measured on the same clients.
Stored on the model (``ScorecardModel.validation``) when it is trained.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from fincrm.analytics.scorecard import Scorecard, grade_from_pd
from fincrm.analytics.validation import (
    calibration_by_band,
    discrimination,
    grade_agreement,
    hosmer_lemeshow,
)


def _fit(pd: np.ndarray, y: np.ndarray, grades: Sequence[tuple[str, float]]) -> dict:
    """Discrimination, calibration by grade and Hosmer–Lemeshow of PDs ``pd``."""
    order = [g for g, _p in grades]
    return {
        **discrimination(y, pd),
        "calibration": calibration_by_band(pd, y, grade_from_pd(pd, grades), order).to_dicts(),
        "hosmer_lemeshow": hosmer_lemeshow(pd, y) if len(y) >= 3 else None,
    }


def holdout_validation(
    *,
    card: Scorecard,
    X: pl.DataFrame,
    y: np.ndarray,
    prior: np.ndarray,
    prior_points: pl.DataFrame,
    expert: pl.DataFrame,
    grades: Sequence[tuple[str, float]],
    champion=None,
) -> dict:
    """The validation of ``card`` on its hold-out (``X``, outcomes ``y``); empty without one.

    Parameters
    ----------
    prior, prior_points
        The expert card's log-odds and points on the same rows (used when ``card`` is
        blended with it).
    expert
        The expert card's own score and pd on the same rows, for the agreement.
    grades
        (grade, max_pd), best first: the bands of the calibration and of the agreement.
    champion
        The ``ScorecardModel`` in use, measured on the same clients (it may have trained on
        some of them: its figures flatter it).
    """
    y = np.asarray(y, dtype=int)
    if X.height == 0:
        return {}
    blended = card.prior_weight_ > 0
    pd = card.predict_proba(X, prior if blended else None)
    score = card.score(X, prior_points if blended else None)
    order = [g for g, _p in grades]
    result = {
        "sample": "holdout",
        "n": len(y),
        "defaults": int(y.sum()),
        **_fit(pd, y, grades),
        "agreement": grade_agreement(
            grade_from_pd(expert["pd"].to_numpy(), grades),
            grade_from_pd(pd, grades),
            expert["score"].to_numpy(),
            score,
            order,
        ),
        "champion": None,
    }
    if champion is not None and set(champion.features) <= set(X.columns):
        old = Scorecard.from_dict(champion.params)
        old_pd = old.predict_proba(X, prior if old.prior_weight_ > 0 else None)
        result["champion"] = {"model": champion.pk, **_fit(old_pd, y, grades)}
    return result
