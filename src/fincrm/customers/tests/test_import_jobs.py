"""Large uploads imported by a background task (issue 19.10): the job, its progress page, who
may see it, and all or nothing kept."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from fincrm.customers import import_jobs
from fincrm.customers.import_jobs import ProgressFile
from fincrm.customers.import_uploads import imports_dir
from fincrm.customers.models import Customer, ImportJob

from .test_import_views import csv_upload, mapping_data, preview_url, upload
from .test_importer import company

pytestmark = pytest.mark.django_db


@pytest.fixture
def background(settings, monkeypatch):
    """Every upload of five rows or more goes to the worker, which reads two rows a batch."""
    settings.IMPORT_BACKGROUND_MIN_ROWS = 5
    settings.IMPORT_BACKGROUND_BATCH_SIZE = 2
    # The worker drops a connection it finds inside a transaction (close_old_connections, on
    # PostgreSQL): here the test's own transaction holds the rows, so it keeps it.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )


def run_worker() -> None:
    call_command("db_worker", batch=True, startup_delay=False, interval=0, reload=False)


def start_import(client, rows, capture, **changes):
    """Upload ``rows``, confirm the import on the preview; the response to the confirmation."""
    token = upload(client, csv_upload(rows))
    page = client.get(preview_url(token))
    with capture(execute=True):
        return client.post(preview_url(token), mapping_data(page, action="import", **changes))


def test_a_large_upload_is_queued_then_imported_by_the_worker(
    users, login, background, django_capture_on_commit_callbacks, monkeypatch
):
    client = login(users["manager_a"])
    response = start_import(
        client, [company(n) for n in range(1, 6)], django_capture_on_commit_callbacks,
        all_or_nothing="on",
    )  # fmt: skip
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert (job.user, job.status, job.rows_total, job.all_or_nothing) == (
        users["manager_a"], "queued", 5, True,
    )  # fmt: skip
    assert not Customer.objects.exists()  # not inside the request
    page = client.get(job.get_absolute_url())
    assert page.status_code == 200
    assert 'hx-trigger="every 2s"' in page.content.decode()  # the page polls
    assert client.get(preview_url(job.token))["Location"] == job.get_absolute_url()

    seen = []
    real = ProgressFile.write
    monkeypatch.setattr(ProgressFile, "write", lambda self, n: (seen.append(n), real(self, n)))
    run_worker()

    assert seen == [2, 4, 5]  # rows done after each batch of two
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_total, job.percent) == ("done", 5, 5, 100)
    assert (job.created, job.updated, job.bad_rows, job.aborted) == (5, 0, 0, False)
    assert job.started_at and job.finished_at and not job.errors_file
    assert Customer.objects.filter(owner=users["manager_a"]).count() == 5
    assert Customer.history.filter(history_change_reason="import: clients.csv").count() == 5
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL
    body = client.get(job.get_absolute_url()).content.decode()
    assert 'id="count-created">5<' in body and "every 2s" not in body  # done: no more polls
    assert "全部 5 行已导入" in body

    import_jobs.import_job_run(job_id=job.pk)  # a second delivery changes nothing
    assert Customer.objects.count() == 5


def test_the_progress_fragment_shows_the_rows_done_while_the_job_runs(users, login):
    job = ImportJob.objects.create(
        user=users["manager_a"], token="t" * 24, filename="big.csv", status="running",
        rows_total=10, language="zh-hans",
    )  # fmt: skip
    (imports_dir() / job.token).mkdir(parents=True)
    ProgressFile(imports_dir() / job.token).write(4)
    client = login(users["manager_a"])
    fragment = client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body
    assert 'value="40"' in body  # 4 of 10 rows
    assert "已处理 4 行，共约 10 行" in body
    assert 'hx-trigger="every 2s"' in body
    job.status = "queued"
    job.save()
    assert (
        'value="0"' in client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    )


def test_every_bad_row_is_reported_and_nothing_written(
    users, login, background, django_capture_on_commit_callbacks
):
    client = login(users["manager_a"])
    rows = [company(1), company(2, industry="=1+1"), company(3), company(4, industry="?")]
    rows += [company(5), company(6)]
    start_import(client, rows, django_capture_on_commit_callbacks, all_or_nothing="on")
    run_worker()

    job = ImportJob.objects.get()
    assert (job.status, job.rows_done, job.bad_rows, job.aborted) == ("done", 6, 2, True)
    assert (job.created, job.updated) == (0, 0)
    assert not Customer.objects.exists()  # rows 2, 4, 6 and 7 were good: none written
    page = client.get(job.get_absolute_url())
    assert "未导入任何数据" in page.content.decode()
    assert [e[0] for e in page.context["errors"]] == ["3", "5"]
    download = client.get(job.get_absolute_url() + "?download=errors")
    assert download.status_code == 200
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    errors = list(csv.reader(io.StringIO(text)))[1:]
    assert [(row[0], row[1]) for row in errors] == [("3", "行业"), ("5", "行业")]
    assert errors[0][4] == "'=1+1"  # the uploader's formula stays text in Excel


def test_with_all_or_nothing_unticked_the_job_writes_the_good_rows(
    users, login, background, django_capture_on_commit_callbacks
):
    client = login(users["manager_a"])
    rows = [company(1), company(2, industry="?"), company(3), company(4), company(5)]
    start_import(client, rows, django_capture_on_commit_callbacks)  # the box unticked
    run_worker()
    job = ImportJob.objects.get()
    assert (job.all_or_nothing, job.created, job.bad_rows, job.aborted) == (False, 4, 1, False)
    assert Customer.objects.count() == 4


def test_a_job_whose_file_turns_unreadable_fails_with_the_reason(
    users, login, background, django_capture_on_commit_callbacks
):
    client = login(users["manager_a"])
    start_import(client, [company(n) for n in range(1, 6)], django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    (imports_dir() / job.token / "source.csv").write_bytes(b"\x00\x01\x02")
    run_worker()
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "该文件看起来不是 CSV 文本文件。"
    assert not Customer.objects.exists()
    body = client.get(job.get_absolute_url()).content.decode()
    assert job.error in body and "every 2s" not in body


def test_a_small_upload_is_still_imported_in_the_request(
    users, login, django_capture_on_commit_callbacks
):
    client = login(users["manager_a"])
    response = start_import(
        client, [company(1), company(2)], django_capture_on_commit_callbacks, all_or_nothing="on"
    )
    assert response["Location"].endswith(preview_url(response["Location"].split("/")[-2]))
    assert not ImportJob.objects.exists()
    assert Customer.objects.count() == 2


def test_only_the_user_who_started_a_job_and_admins_see_it(users, client, login):
    job = ImportJob.objects.create(
        user=users["manager_a"], token="u" * 24, filename="big.csv", status="done"
    )
    url = job.get_absolute_url()
    assert reverse("customers:import_job", args=[job.pk]) == url
    assert client.get(url).status_code == 302  # to the login page
    seen_by = {"manager_a": 200, "admin": 200, "manager_b": 404, "lead": 404, "risk": 404,
               "agent": 404, "exec": 404, "outsider": 404}  # fmt: skip
    for name, status in seen_by.items():
        response = login(users[name]).get(url)
        assert response.status_code == status, name
        assert login(users[name]).get(url + "?download=errors").status_code in (
            (302,) if status == 200 else (404,)
        ), name  # no errors file: back to the page
    assert login(users["manager_a"]).post(url).status_code == 405
    assert list(ImportJob.objects.restrict(users["lead"])) == []
    assert list(ImportJob.objects.restrict(users["admin"])) == [job]
