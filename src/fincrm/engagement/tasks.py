"""Background work of the engagement app."""

from __future__ import annotations

from django_tasks import task


@task()
def daily_service() -> dict[str, int]:
    from fincrm.core.daily import run_daily

    return run_daily()
