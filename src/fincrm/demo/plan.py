"""What a chunk of the demo book is drawn from: plain ids and numbers read from the
organisation once (``demo.generator``), so it can cross process boundaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ProductSpec:
    id: int
    min_rate: float
    max_rate: float
    min_tenor: int
    max_tenor: int
    min_amount: float
    max_amount: float
    documents: tuple[str, ...]


@dataclass(frozen=True)
class ServicePlan:
    """What the service history needs from the database, read once (see demo.service)."""

    annual_survey: int
    questions: dict[str, int]
    #: severity → (respond hours, resolve hours, business days only)
    sla: dict[str, tuple[float, float, bool]]
    #: ticket text → (suggested category, its source, its keywords)
    suggestions: dict[str, tuple[str, str, tuple[str, ...]]]
    #: survey comment → (sentiment label, keywords)
    tones: dict[str, tuple[str, tuple[str, ...]]]


@dataclass(frozen=True)
class Plan:
    """Everything a chunk needs, as plain data (it crosses process boundaries)."""

    seed: int
    as_of: date
    managers: tuple[int, ...]
    manager_teams: tuple[int, ...]
    manager_regions: tuple[str, ...]
    products: tuple[ProductSpec, ...]
    tags: tuple[int, ...]
    risk: int
    service: ServicePlan
    #: The executive who co-approves above a risk officer's authority (the policy's table).
    executive: int | None = None
