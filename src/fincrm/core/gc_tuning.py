"""Keep Python's cyclic garbage collector off the request path.

A loaded fincrm process holds ~180k objects the collector tracks (Django, polars, NumPy,
the URLconf, the models and their metadata). None of them will ever be garbage, yet each full
collection walks them all: 80–105 ms, paid by whichever request happens to trip it — that
was the p95 of the list and search pages. ``gc.freeze()`` moves every object alive at that
moment into a permanent generation the collector never visits, so a collection walks only what
requests create; a raised first threshold makes the young collections rarer.

``freeze_loaded_app()`` runs once the application is loaded: at the end of the WSGI entry
(``fincrm.wsgi``, which the development server loads too) and in the page benchmarks, which
measure what a web process does. ``FINCRM_GC_FREEZE=0`` turns it off (to measure without it).

Under a pre-forking server (gunicorn with ``preload_app``), freezing in the parent also keeps
the children from touching — and so copying — the shared pages of those objects.
"""

from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass, field

#: (generation 0, 1, 2). A list page allocates ~100k tracked objects: at Python's 700 that is
#: ~110 young collections a request. Measured on the 100k book, the list filtered by industry
#: and sorted by name, 60 requests after a freeze (``docs/benchmarks.md``): 700 → 2.1 ms of
#: collection a request, longest pause 16 ms; 5,000 → 0.9 / 13.5 ms; 20,000 → 0.5 / 11.5 ms;
#: 50,000 → 0.6 / 35 ms (a young generation that large is itself a pause). Unfrozen, at
#: Python's defaults: 8.4 ms a request and one full collection of 440 ms (machine loaded).
THRESHOLDS = (20_000, 10, 10)


def enabled() -> bool:
    return os.environ.get("FINCRM_GC_FREEZE", "1") != "0"


def thresholds() -> tuple[int, int, int]:
    """``THRESHOLDS``, or ``FINCRM_GC_THRESHOLDS="a,b,c"`` (refused loudly when malformed)."""
    raw = os.environ.get("FINCRM_GC_THRESHOLDS", "")
    if not raw:
        return THRESHOLDS
    parts = [int(p) for p in raw.split(",")]
    if len(parts) != 3 or min(parts) < 1:
        raise ValueError(f"FINCRM_GC_THRESHOLDS needs three positive integers, not {raw!r}")
    return parts[0], parts[1], parts[2]


def freeze_loaded_app() -> bool:
    """Load what the first request would (every view module through the URLconf), collect
    once, freeze what is left and set the thresholds. False when turned off."""
    if not enabled():
        return False
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — imports every view module now, not per request
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds())
    return True


@dataclass
class CollectionTimer:
    """Time spent in garbage collection while installed (``gc.callbacks``), per generation."""

    seconds: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    counts: list[int] = field(default_factory=lambda: [0, 0, 0])
    longest: float = 0.0
    _started: float = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        spent = time.perf_counter() - self._started
        generation = info["generation"]
        self.seconds[generation] += spent
        self.counts[generation] += 1
        self.longest = max(self.longest, spent)

    def __enter__(self) -> CollectionTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self)

    @property
    def total_ms(self) -> float:
        return sum(self.seconds) * 1000
