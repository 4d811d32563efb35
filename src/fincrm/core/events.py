"""The event hook: news travels up the layers through here, never by an import.

An app low in the layers (customers, engagement, financing, risk, service) says what happened
to a client; the apps above that care (evaluation re-evaluates the client) subscribe in their
``AppConfig.ready``. The low app imports only ``core``; nothing in ``core`` knows who listens.

Receivers run once the current transaction has committed (``transaction.on_commit``), so a
rolled-back change announces nothing, and each receiver is called with the event's keyword
payload. A receiver's failure is the receiver's: it is raised to the caller of the commit, as
Django's ``on_commit`` does, so tests see it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction

#: A client's data changed in a way its evaluation depends on (payload: ``customer_id``).
CUSTOMER_CHANGED = "customer.changed"
#: The nightly full evaluation is done (payload: ``run_id``): the night's work that reads its
#: tiers (insights' predictions) queues itself.
NIGHTLY_EVALUATED = "evaluation.nightly_evaluated"

Receiver = Callable[..., Any]

_receivers: defaultdict[str, list[Receiver]] = defaultdict(list)


def subscribe(event: str, receiver: Receiver) -> None:
    """Call ``receiver(**payload)`` after commit whenever ``event`` is published (once)."""
    if receiver not in _receivers[event]:
        _receivers[event].append(receiver)


def unsubscribe(event: str, receiver: Receiver) -> None:
    if receiver in _receivers[event]:
        _receivers[event].remove(receiver)


def receivers(event: str) -> tuple[Receiver, ...]:
    return tuple(_receivers[event])


def publish(event: str, **payload: Any) -> None:
    """Announce ``event``: every receiver is called with ``payload`` after the commit."""
    for receiver in receivers(event):
        transaction.on_commit(partial(receiver, **payload))


def customer_changed(customer_id: int) -> None:
    """A client changed: whoever depends on it (the evaluation) hears of it after commit."""
    publish(CUSTOMER_CHANGED, customer_id=customer_id)
