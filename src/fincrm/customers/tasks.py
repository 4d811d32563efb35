"""Background work of the client book, run by ``fincrm db_worker``."""

from __future__ import annotations

from django_tasks import task


@task()
def import_customers(job_id: int) -> str:
    """Run a queued client import (:func:`fincrm.customers.import_jobs.import_job_run`);
    returns the job's final status."""
    from .import_jobs import import_job_run

    return import_job_run(job_id=job_id).status
