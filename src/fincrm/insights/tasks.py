"""Background work of the insights app."""

from __future__ import annotations

from django_tasks import task


@task()
def nightly_predictions() -> int:
    from .services import predictions_run

    return predictions_run().clients
