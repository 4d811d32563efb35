"""What financing asks of the apps above it without importing them.

Credit risk sits above financing (it reads facilities and schedules), yet lending needs two
of its answers: whether a client has open early-warning alerts when the automatic-decision
rule looks at an application, and the inputs of the five-tier loan class (the client's
grade and open alert severities). Risk fills these hooks in its ``AppConfig.ready``;
financing imports no app above it. Both run synchronously, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from fincrm.analytics.policy import PolicyConfig

    from .models import Application, Facility

#: A condition of the automatic-decision rule checked by an app above financing: given the
#: application and the policy, the blockers it finds (codes with their figures, as
#: ``approval.auto_decision_blockers`` returns them; empty: none).
AutoDecisionCheck = Callable[["Application", "PolicyConfig"], list[dict]]

#: ``(facilities) -> (rules, frame)``: the policy's rules and the input frame of
#: ``fincrm.analytics.delinquency.loan_classes`` for some facilities.
ClassInputs = Callable[..., tuple[dict, Any]]

_auto_decision_checks: list[AutoDecisionCheck] = []
_class_inputs: list[ClassInputs] = []


def register_auto_decision_check(check: AutoDecisionCheck) -> None:
    """Add a condition of the automatic-decision rule (once)."""
    if check not in _auto_decision_checks:
        _auto_decision_checks.append(check)


def auto_decision_checks() -> tuple[AutoDecisionCheck, ...]:
    return tuple(_auto_decision_checks)


def provide_facility_class_inputs(func: ClassInputs) -> None:
    """Say who computes the loan-class inputs (risk); a second call replaces the first."""
    _class_inputs[:] = [func]


def facility_class_inputs(*, facilities: Sequence[Facility]) -> tuple[dict, Any]:
    """The policy's rules and the input frame of ``loan_classes`` for ``facilities``."""
    if not _class_inputs:
        raise ImproperlyConfigured("no app provides the loan-class inputs (fincrm.risk)")
    return _class_inputs[0](facilities=facilities)
