"""Background work of the insights app."""

from __future__ import annotations

from django_tasks import task


@task()
def nightly_predictions() -> int:
    from .services import predictions_run

    return predictions_run().clients


def predictions_after_nightly(run_id: int) -> None:
    """Queue the night's predictions once the nightly evaluation is done (the event hook
    calls this, subscribed in ``InsightsConfig.ready``)."""
    nightly_predictions.enqueue()
