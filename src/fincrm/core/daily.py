"""The daily jobs' registry (``fincrm daily``): each app registers its own steps.

The daily run calls the service jobs of many apps (care tasks, follow-ups, escalations,
points, collections, renewals, checks, campaigns …). ``core`` knows none of them: each app
registers its step(s) in its ``AppConfig.ready`` with :func:`register`, and :func:`run_daily`
calls them in their ``order`` (ascending), each with the day, each in its own transaction as
the step itself decides: one failing does not undo the ones before it (its error is raised to
the caller, the steps after it do not run).

A step is ``func(as_of: date) -> int`` (how many things it did); the run returns the counts
by step name, in the order of the run (the lines ``fincrm daily`` prints).

The order, as the apps register it (``order``: name, app):

- 10 ``care_tasks`` engagement · 20 ``care_messages`` messaging
- 30 ``maturity_follow_ups`` financing · 40 ``escalated_tickets`` service
- 50 ``expired_points_entries`` loyalty · 60 ``annual_survey_invitations`` surveys
- 70 ``collection_actions`` · 80 ``renewal_applications`` · 90 ``green_channel_routes``
  financing
- 100 ``client_reports`` reports · 110 ``external_checks`` checks
- 120 ``scheduled_campaigns`` campaigns
- 130 ``use_of_funds_checklists`` · 140 ``cover_expiry_reminders`` postloan
- 150 ``programme_tasks`` · 160 ``programme_tasks_withdrawn`` evaluation
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

StepFunc = Callable[[date], int]


@dataclass(frozen=True)
class Step:
    name: str
    func: StepFunc
    order: int


_steps: dict[str, Step] = {}


def register(name: str, func: StepFunc, order: int) -> None:
    """Add (or replace: ``ready`` may run twice) the daily step ``name``."""
    if any(s.order == order and s.name != name for s in _steps.values()):
        raise ValueError(f"daily step order {order} is taken")
    _steps[name] = Step(name, func, order)


def unregister(name: str) -> None:
    _steps.pop(name, None)


def steps() -> list[Step]:
    """The registered steps in the order they run."""
    return sorted(_steps.values(), key=lambda s: s.order)


def run_daily(*, as_of: date | None = None) -> dict[str, int]:
    """Every daily job, each in its own transaction: one failing does not undo the others."""
    as_of = as_of or timezone.localdate()
    return {step.name: step.func(as_of) for step in steps()}
