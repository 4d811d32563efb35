"""A year of archive on a bench book: N more archived runs, one a day from tomorrow (event runs,
so that the book's own nights still archive as before), each loaded as a live partition of
ROWS clients of the last full run (the bench's ten-year client among them), attached, then
moved under its month by ``core.archive_partitions.move_partition`` as the archive does.

    FINCRM_DATABASE_URL=postgres://…/book .venv/bin/python scripts/archive/year.py 365 1000
"""

import os
import sys
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fincrm.settings")
django.setup()
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from fincrm.bench.benchmarks import ten_year_client  # noqa: E402
from fincrm.core import archive_partitions, partitions  # noqa: E402
from fincrm.core.policy import policy_active  # noqa: E402
from fincrm.evaluation.models import EvaluationRun, Snapshot, SnapshotArchive  # noqa: E402

n, rows = int(sys.argv[1]), int(sys.argv[2])
client = ten_year_client()
source = (
    Snapshot.objects.filter(customer=client)
    .order_by("-created_at")
    .values_list("run_id", flat=True)
    .first()
)
latest = EvaluationRun.objects.filter(kind="full", archived_at__isnull=True).order_by("-pk").first()
cols = [
    f.column
    for f in Snapshot._meta.concrete_fields
    if f.column not in ("id", "run_id", "created_at")
]
collist = ", ".join(cols)
table, archive = Snapshot._meta.db_table, SnapshotArchive._meta.db_table
start = timezone.now() + timedelta(days=1)
policy = policy_active()
t0 = time.perf_counter()
moves = []
for day in range(n):
    with transaction.atomic():
        at = start + timedelta(days=day)
        run = EvaluationRun.objects.create(
            kind="event",
            status="succeeded",
            policy=policy,
            as_of=at.date(),
            started_at=at,
            finished_at=at,
        )

        def write(name, run=run, at=at):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {name} (run_id, created_at, {collist}) "
                    f"(SELECT %s, %s, {collist} FROM {table} WHERE run_id = %s "
                    "AND customer_id <> %s ORDER BY customer_id LIMIT %s) "
                    f"UNION ALL (SELECT %s, %s, {collist} FROM {table} WHERE customer_id = %s "
                    "ORDER BY created_at DESC LIMIT 1)",
                    [run.pk, at, latest.pk, client.pk, rows - 1, run.pk, at, client.pk],
                )
                return cursor.rowcount

        partitions.build_partition(table, run.pk, write).attach()
        t = time.perf_counter()
        archive_partitions.move_partition(
            table, run.pk, archive, timezone.localtime(at).strftime("%Y%m")
        )
        moves.append(time.perf_counter() - t)
        run.archived_at = timezone.now()
        run.save(update_fields=["archived_at"])
median = sorted(moves)[len(moves) // 2] * 1000
print(
    f"{n} runs of {rows} rows archived in {time.perf_counter() - t0:.1f} s; "
    f"move_partition median {median:.0f} ms, max {max(moves) * 1000:.0f} ms"
)
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = %s::regclass", [archive])
    print("archive partitions:", cursor.fetchone()[0])
