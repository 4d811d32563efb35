"""The monthly reports, made by ``fincrm db_worker`` in batches of clients."""

from __future__ import annotations

from datetime import date

from django_tasks import task


@task()
def make_client_reports(customer_ids: list[int], as_of: str) -> int:
    """Make and deliver the month's report of each client (none twice); returns how many."""
    from .services import client_reports_make

    return client_reports_make(customer_ids=customer_ids, as_of=date.fromisoformat(as_of))
