"""DB ↔ credit-risk analytics: point-in-time features, scorecard training, assessments,
grade → control proposals, periodic review scheduling and early-warning alerts.

Everything here is bulk (one query per table, polars arithmetic, ``bulk_create``); the human
side (approving a proposal, acknowledging an alert, completing a review) is in
:mod:`fincrm.risk.services`. One module per step: :mod:`.characteristics`, :mod:`.scorecard`,
:mod:`.signals`, :mod:`.controls`, :mod:`.alerts` and :mod:`.assessment`, which runs them;
every name is importable from here.
"""

from .alerts import AlertRouter
from .assessment import Assessed, assess, assess_pending, latest_grades, previous_assessments
from .characteristics import (
    MONOTONIC,
    REPORTING_LAG,
    SCORE_FEATURES,
    point_in_time_features,
    utilisation_at,
)
from .controls import REVIEW_PREPARATION_DAYS
from .scorecard import HOLDOUT_SHARE, SNAPSHOTS, scorecard_train

__all__ = [
    "HOLDOUT_SHARE",
    "MONOTONIC",
    "REPORTING_LAG",
    "REVIEW_PREPARATION_DAYS",
    "SCORE_FEATURES",
    "SNAPSHOTS",
    "AlertRouter",
    "Assessed",
    "assess",
    "assess_pending",
    "latest_grades",
    "point_in_time_features",
    "previous_assessments",
    "scorecard_train",
    "utilisation_at",
]
