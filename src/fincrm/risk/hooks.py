"""What risk asks of the evaluation without importing it (the evaluation sits above risk).

Risk's pages key their caches by the latest successful evaluation run, the loan class reads
each client's current grade, and a risk officer's retraining (the page and ``fincrm
train-scorecard``) fits the scorecard on the point-in-time characteristics that the
evaluation reads from the book (``evaluation.risk``: they share the nightly run's reads of
every table, engagement and events included, which sit above risk). The evaluation fills
these hooks in its ``AppConfig.ready``; risk imports no app above it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

#: ``(using) -> pk | None``: the latest successful evaluation run on database ``using``
#: (None: the default).
LatestRun = Callable[[str | None], int | None]

#: ``() -> QuerySet``: ``(customer_id, grade)`` rows of the clients' current classification.
ClientGrades = Callable[[], QuerySet]

#: ``(*, policy, as_of, seed=0, user=None, activate=False) -> ScorecardModel``: train a
#: scorecard on the book's outcomes (``InsufficientData`` with too little history).
ScorecardTrain = Callable[..., Any]

_latest_run: list[LatestRun] = []
_client_grades: list[ClientGrades] = []
_scorecard_train: list[ScorecardTrain] = []


def provide(
    *, latest_run: LatestRun, client_grades: ClientGrades, scorecard_train: ScorecardTrain
) -> None:
    """The evaluation says how to read its runs and grades and how to train a scorecard (a
    second call replaces)."""
    _latest_run[:] = [latest_run]
    _client_grades[:] = [client_grades]
    _scorecard_train[:] = [scorecard_train]


def _provided(slot: list, what: str):
    if not slot:
        raise ImproperlyConfigured(f"no app provides {what} (fincrm.evaluation)")
    return slot[0]


def latest_run_id(using: str | None = None) -> int | None:
    """The pk of the latest successful evaluation run (None: there is none)."""
    return _provided(_latest_run, "the latest evaluation run")(using)


def client_grades() -> QuerySet:
    """``(customer_id, grade)`` rows of the clients' current classification (unordered)."""
    return _provided(_client_grades, "the clients' grades")()


def scorecard_train(**kwargs: Any) -> Any:
    """Train a scorecard (``evaluation.risk.scorecard_train``; keyword arguments as there)."""
    return _provided(_scorecard_train, "the scorecard training")(**kwargs)
