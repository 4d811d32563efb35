"""Staff incentives and training."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import _Config


class IncentiveMeasure(_Config):
    """One measure of the staff incentive scheme: its weight, the month's target and which way
    is better. Attainment is value / target (higher is better) or 2 − value / target (lower is
    better: on target 1, none at all 2), floored at 0 and capped by the scheme's ``cap``."""

    weight: float = Field(ge=0)
    target: float = Field(gt=0)
    lower_is_better: bool = False


MEASURE = Literal[
    "contacts", "nps", "csat", "new_facilities", "new_amount", "dpd30_share", "complaints"
]


def _incentive_measures() -> dict[MEASURE, IncentiveMeasure]:
    rows: dict[
        MEASURE, tuple[float, float, bool]
    ] = {  # measure: (weight, monthly target, lower is better)
        "contacts": (0.20, 40, False),  # contacts made
        "nps": (0.10, 40, False),  # NPS of the manager's clients (points, −100..100)
        "csat": (0.10, 85, False),  # CSAT of the manager's clients (% satisfied)
        "new_facilities": (0.15, 2, False),  # facilities booked
        "new_amount": (0.15, 5_000_000, False),  # their approved limits (CNY)
        "dpd30_share": (0.20, 0.03, True),  # share of the book's balance 30+ days past due
        "complaints": (0.10, 1, True),  # complaints from the manager's clients
    }
    return {k: IncentiveMeasure(weight=w, target=t, lower_is_better=b)
            for k, (w, t, b) in rows.items()}  # fmt: skip


class StaffIncentive(_Config):
    """The monthly scorecard of account managers and leads (员工考核, issue 24 point 7): each
    measure against its target, capped at ``cap`` times, weighted; a measure without data for
    someone (no survey answered, no book) is left out and its weight shared among the rest."""

    measures: dict[MEASURE, IncentiveMeasure] = Field(default_factory=_incentive_measures)
    cap: float = Field(1.2, ge=1, le=5)
    #: Days past due from which an instalment counts against asset quality.
    dpd_threshold_days: int = Field(30, ge=1)

    @model_validator(mode="after")
    def _some_weight(self) -> StaffIncentive:
        if not any(m.weight > 0 for m in self.measures.values()):
            raise ValueError("staff_incentive: at least one measure needs a weight above 0")
        return self


class StaffTraining(_Config):
    """Required courses: a certificate expiring within ``expiring_within_days`` is flagged."""

    expiring_within_days: int = Field(30, ge=0, le=365)
