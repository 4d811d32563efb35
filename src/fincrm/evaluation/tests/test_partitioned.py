"""A full run split by client-id ranges, evaluated by two task workers at once."""

import threading

import pytest
from django.db import connection
from django_tasks_db.management.commands.db_worker import Worker

from fincrm.evaluation.choices import RunStatus
from fincrm.evaluation.models import Classification, EvaluationPart, SegmentSize, Snapshot
from fincrm.evaluation.services import evaluation_run_partitioned
from fincrm.testing.factories import CustomerFactory, FacilityFactory

in_memory = connection.vendor == "sqlite" and connection.settings_dict["TEST"].get("NAME") in (
    None,
    "",
    ":memory:",
)


def _worker(name: str) -> None:
    try:
        Worker(
            queue_names=["default"], interval=0.05, batch=True, backend_name="default",
            startup_delay=False, max_tasks=None, worker_id=name, excluded_queue_names=[],
        ).run()  # fmt: skip
    finally:
        connection.close()


@pytest.mark.skipif(in_memory, reason="worker threads cannot share an in-memory SQLite database")
@pytest.mark.django_db(transaction=True)
def test_two_workers_share_the_ranges_of_a_partitioned_run(users):
    clients = [CustomerFactory(owner=users["manager_a"]) for _ in range(24)]
    for client in clients[::3]:
        FacilityFactory(customer=client)

    run = evaluation_run_partitioned(part_size=5)
    parts = list(EvaluationPart.objects.filter(run=run))
    assert len(parts) >= 5  # ids 1…24 (or later, on PostgreSQL) in ranges of 5
    assert run.cutoffs and run.status == RunStatus.RUNNING

    workers = [threading.Thread(target=_worker, args=(f"w{i}",), name=f"w{i}") for i in (1, 2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.customers_evaluated == 24
    assert Snapshot.objects.filter(run=run).count() == 24
    assert Classification.objects.filter(run=run).count() == 24
    done = EvaluationPart.objects.filter(run=run)
    assert all(p.status == RunStatus.SUCCEEDED and p.worker for p in done)
    assert sum(p.customers_evaluated for p in done) == 24
    assert {p.worker.rsplit(":", 1)[-1] for p in done} == {"w1", "w2"}  # both took ranges
    # Each part stored its range's counts for the segments page: they add up to the book.
    sizes = SegmentSize.objects.filter(run=run, segment="*")
    assert sizes.values("owner_id").distinct().count() == 1
    assert sum(sizes.values_list("clients", flat=True)) == 24
    by_tier = {}
    for tier, n in sizes.values_list("tier", "clients"):
        by_tier[tier] = by_tier.get(tier, 0) + n
    assert by_tier == {
        t: Classification.objects.filter(tier=t).count()
        for t in Classification.objects.values_list("tier", flat=True).distinct()
    }
    # Every client got the run's cut-offs: its tier is the one they give for its score.
    cutoffs = run.cutoffs
    for c in Classification.objects.all():
        expected = (
            "core" if c.value_score >= cutoffs["core"] else
            "key" if c.value_score >= cutoffs["key"] else
            "ordinary" if c.value_score >= cutoffs["ordinary"] else "low"
        )  # fmt: skip
        assert c.tier == expected
