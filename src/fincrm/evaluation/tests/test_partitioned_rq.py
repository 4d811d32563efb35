"""A partitioned run on the production queue (RQ on Redis): two worker processes, one killed
with SIGKILL in the middle of its part. The part is taken up again, the run completes, and
no client gets two snapshots.

Needs Redis at ``FINCRM_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``, a database
number this test empties) and a database the worker processes can share with the test
(PostgreSQL; a file SQLite test database would do, the in-memory one cannot). CI starts Redis
(``.ci/run``); without it the test is skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count

from fincrm.evaluation.choices import RunStatus
from fincrm.evaluation.models import Classification, EvaluationRun, Snapshot
from fincrm.testing.factories import CustomerFactory, FacilityFactory

REDIS_URL = os.environ.get("FINCRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CLIENTS, PART_SIZE = 200, 50
#: Each part waits this long before its commit, so the kill lands inside a part.
PAUSE = 3.0
FINCRM = str(Path(sys.executable).with_name("fincrm"))


def _redis():
    """A client of the test's Redis database, or None when no Redis answers."""
    try:
        import redis
    except ImportError:
        return None
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.RedisError:
        return None
    return client


def _database_url() -> str | None:
    """The test database as a URL for other processes (None: an in-memory SQLite)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    name = str(db["NAME"])
    if name in ("", ":memory:") or name.startswith("file:"):
        return None
    return f"sqlite:///{name}"


def _fincrm(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [FINCRM, *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _logs(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(folder.glob("*.log")))


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.mark.django_db(transaction=True)
def test_a_part_whose_worker_is_killed_is_taken_up_again_and_written_once(users, tmp_path):
    redis_client = _redis()
    if redis_client is None:
        pytest.skip(f"no Redis answers at {REDIS_URL}")
    database_url = _database_url()
    if database_url is None:
        pytest.skip("worker processes cannot share an in-memory SQLite database")
    if connection.vendor != "postgresql":
        pytest.skip("a dead worker's part is requeued on PostgreSQL only (row locks)")
    redis_client.flushdb()

    clients = [CustomerFactory(owner=users["manager_a"]) for _ in range(CLIENTS)]
    for client in clients[::4]:
        FacilityFactory(customer=client)
    env = {
        **os.environ,
        "FINCRM_DEBUG": "1",
        "FINCRM_DATABASE_URL": database_url,
        "FINCRM_TASKS_URL": REDIS_URL,
        "FINCRM_EVALUATION_PART_PAUSE": str(PAUSE),
    }
    env.pop("FINCRM_REPLICA_URL", None)
    coordinator = subprocess.run(
        [FINCRM, "evaluate", "--partitioned", "--part-size", str(PART_SIZE), "--as-of",
         "2026-06-15"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert coordinator.returncode == 0, coordinator.stdout + coordinator.stderr
    assert "rqworker" in coordinator.stdout  # the run was queued on Redis
    run = EvaluationRun.objects.get()
    assert run.parts.count() >= 4
    assert redis_client.llen("rq:queue:default") == run.parts.count()

    worker_args = ["rqworker", "--job-class", "django_tasks_rq.Job", "default"]
    workers = [_fincrm(worker_args, env, tmp_path / f"worker{i}.log") for i in (1, 2)]
    try:
        # The first part a worker takes: its work horse (RQ forks one per job) and the worker.
        deadline = time.monotonic() + 120
        taken = None
        while taken is None and time.monotonic() < deadline:
            taken = run.parts.filter(started_at__isnull=False, status=RunStatus.RUNNING).first()
            failed = run.parts.filter(status=RunStatus.FAILED).first()
            assert failed is None, f"{failed.error}\n{_logs(tmp_path)}"
            assert any(w.poll() is None for w in workers), f"workers died\n{_logs(tmp_path)}"
            time.sleep(0.1)
        assert taken is not None, f"no worker took a part\n{_logs(tmp_path)}"
        horse = int(taken.worker.split(":")[1])
        victim = next(w for w in workers if w.pid == _parent(horse))
        time.sleep(PAUSE / 2)  # its rows written (50 clients), not committed
        os.killpg(victim.pid, signal.SIGKILL)
        os.kill(horse, signal.SIGKILL)
        victim.wait(timeout=10)
        taken.refresh_from_db()
        assert taken.status == RunStatus.RUNNING  # killed before its commit

        survivor = next(w for w in workers if w is not victim)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status != RunStatus.RUNNING:
                break
            assert survivor.poll() is None, "the surviving worker died"
            time.sleep(0.2)
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=30)
        redis_client.flushdb()

    assert run.status == RunStatus.SUCCEEDED, f"{run.status} {run.error}\n{_logs(tmp_path)}"
    taken.refresh_from_db()
    assert taken.status == RunStatus.SUCCEEDED
    assert taken.attempts == 2  # taken up again, once
    assert int(taken.worker.split(":")[1]) != horse
    assert run.customers_evaluated == CLIENTS
    per_client = Snapshot.objects.filter(run=run).values("customer").annotate(n=Count("id"))
    assert per_client.count() == CLIENTS
    assert {row["n"] for row in per_client} == {1}  # no snapshot written twice
    assert Classification.objects.filter(run=run).count() == CLIENTS
    assert all(p.status == RunStatus.SUCCEEDED for p in run.parts.all())
    assert sum(p.customers_evaluated for p in run.parts.all()) == CLIENTS
