"""Large client imports run by a background task instead of inside the request (issue 19.10).

An upload above :func:`runs_in_background`'s threshold (settings ``IMPORT_BACKGROUND_MIN_ROWS``
and ``IMPORT_BACKGROUND_MIN_BYTES``) becomes an :class:`~fincrm.customers.models.ImportJob`
and a ``customers.tasks.import_customers`` task that ``fincrm db_worker`` runs; the page the
user lands on polls its progress. The job imports exactly as the page would
(:func:`fincrm.customers.importer.customer_import`, the same rules and the all-or-nothing
choice): with all or nothing it writes in one transaction or reports every bad row without
writing anything.

Progress: an all-or-nothing import holds one transaction for the whole file, so a count
written to the job's row inside it would stay invisible until the end (and on SQLite would
wait for the import's write lock). The count of rows done goes to a small file next to the
upload instead; the job's row gets the final figures when the import has committed.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from . import importer
from .choices import ImportJobStatus
from .import_uploads import Upload
from .models import ImportJob

#: Uploads with at least this many rows (or bytes) are imported in the background.
DEFAULT_MIN_ROWS = 5_000
DEFAULT_MIN_BYTES = 2 * 1024 * 1024

MSG_JOB_CRASHED = gettext_lazy(
    "The import stopped on an unexpected error; nothing was written. Try again or tell an "
    "administrator."
)
MSG_NOT_ALLOWED = gettext_lazy("You may no longer import clients.")


def runs_in_background(path: Path, estimated_rows: int | None) -> bool:
    """Whether an upload is large enough to leave the request (rows or bytes)."""
    min_rows = getattr(settings, "IMPORT_BACKGROUND_MIN_ROWS", DEFAULT_MIN_ROWS)
    min_bytes = getattr(settings, "IMPORT_BACKGROUND_MIN_BYTES", DEFAULT_MIN_BYTES)
    return (estimated_rows or 0) >= min_rows or path.stat().st_size >= min_bytes


def import_job_start(
    *, user, upload: Upload, all_or_nothing: bool, rows_total: int, language: str = ""
) -> ImportJob:
    """Queue the import of ``upload`` (its mapping already chosen) for the worker."""
    from .tasks import import_customers

    with transaction.atomic():
        job = ImportJob.objects.create(
            user=user,
            token=upload.token,
            filename=upload.filename,
            all_or_nothing=all_or_nothing,
            language=language,
            rows_total=rows_total,
        )
        transaction.on_commit(lambda: import_customers.enqueue(job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a queued job once (a second delivery of the task finds it started and leaves it)."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJobStatus.QUEUED).update(
        status=ImportJobStatus.RUNNING, started_at=timezone.now()
    )
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    if not claimed:
        return job
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            _import(job)
        except Exception:
            _finish(job, status=ImportJobStatus.FAILED, error=str(MSG_JOB_CRASHED))
            raise
    return job


def _import(job: ImportJob) -> None:
    upload = Upload.load(job.token, user=job.user)
    progress = ProgressFile(upload.folder)
    try:
        with importer.open_table(upload.path) as table:
            headers = table.headers
        result = importer.customer_import(
            upload.path,
            user=job.user,
            mapping=dict(enumerate(upload.mapping or [])),
            filename=upload.filename,
            all_or_nothing=job.all_or_nothing,
            batch_size=getattr(
                settings, "IMPORT_BACKGROUND_BATCH_SIZE", importer.DEFAULT_BATCH_SIZE
            ),
            on_progress=progress.write,
        )
    except (importer.BadFile, importer.BadMapping) as exc:
        _finish(job, status=ImportJobStatus.FAILED, error=str(exc))
        return
    except PermissionDenied:
        _finish(job, status=ImportJobStatus.FAILED, error=str(MSG_NOT_ALLOWED))
        return
    upload.record(result, headers, all_or_nothing=job.all_or_nothing)
    job.rows_total = job.rows_done = result.total_rows
    job.created, job.updated, job.unchanged = result.created, result.updated, result.unchanged
    job.bad_rows, job.aborted = result.bad_rows, result.aborted
    if result.errors:
        job.errors_file.name = upload.errors_path.relative_to(settings.MEDIA_ROOT).as_posix()
    _finish(job, status=ImportJobStatus.DONE)


def _finish(job: ImportJob, *, status: str, error: str = "") -> None:
    job.status, job.error, job.finished_at = status, error, timezone.now()
    job.save()


class ProgressFile:
    """The count of rows done, in ``progress`` beside the upload (replaced whole, so a reader
    never sees half a number)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "progress"

    def write(self, rows_done: int) -> None:
        partial = self.path.with_suffix(".tmp")
        partial.write_text(str(rows_done))
        os.replace(partial, self.path)

    def read(self) -> int | None:
        try:
            return int(self.path.read_text())
        except (OSError, ValueError):
            return None


def live_progress(job: ImportJob) -> ImportJob:
    """``job`` with the rows done so far while it runs (read from its progress file)."""
    if job.status == ImportJobStatus.RUNNING:
        from .import_uploads import imports_dir

        done = ProgressFile(imports_dir() / job.token).read()
        if done is not None:
            job.rows_done = done
            job.rows_total = max(job.rows_total, done)
    return job
