"""The evaluation's receivers of the signals sent by the apps below it (connected in
``EvaluationConfig.ready``): they ask for a client's re-evaluation without importing the
evaluation."""

from __future__ import annotations

from django.db import transaction


def evaluate_after_commit(sender, customer_id: int, **kwargs) -> None:
    """``financing.signals.evaluation_wanted``: re-evaluate the client as soon as the current
    transaction commits, in this process (a failure is logged, not raised: the change that
    asked has committed)."""
    from .choices import RunKind
    from .services import evaluation_run

    transaction.on_commit(
        lambda: evaluation_run(kind=RunKind.EVENT, customer_ids=[customer_id]), robust=True
    )


def evaluate_reviewed(sender, review, **kwargs) -> None:
    """``risk.signals.review_completed``: re-evaluate the reviewed client now, in the review's
    transaction (its fresh assessment is kept on the review)."""
    from .choices import RunKind
    from .services import evaluation_run

    evaluation_run(kind=RunKind.EVENT, customer_ids=[review.customer_id])


def latest_run_id(using: str | None = None) -> int | None:
    """``risk.hooks``: the pk of the latest successful evaluation run (on ``using``)."""
    from .models import EvaluationRun

    return (
        EvaluationRun.objects.using(using)
        .filter(status="succeeded")
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )


def client_grades():
    """``risk.hooks``: ``(customer_id, grade)`` of every client's current classification."""
    from .models import Classification

    return Classification.objects.order_by().values_list("customer_id", "grade")


def scorecard_train(**kwargs):
    """``risk.hooks``: train a scorecard on the book (``evaluation.risk.scorecard_train``)."""
    from .risk import scorecard_train

    return scorecard_train(**kwargs)
