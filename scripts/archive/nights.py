"""Nights on a bench book: a full run, then the archive (``history_archive``), each timed, with
the archive's slowest SQL statements (docs/benchmarks.md, "The archive by DETACH/ATTACH").

    FINCRM_DATABASE_URL=postgres://…/book .venv/bin/python scripts/archive/nights.py N
"""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fincrm.settings")
django.setup()
from fincrm.evaluation.archive import history_archive  # noqa: E402
from fincrm.evaluation.services import evaluation_run  # noqa: E402

for _ in range(int(sys.argv[1])):
    t = time.perf_counter()
    run = evaluation_run(kind="full")
    evaluated = time.perf_counter() - t
    from django.db import connection

    slow = []

    def timed(execute, sql, params, many, context, slow=slow):
        t1 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            slow.append((time.perf_counter() - t1, sql[:110]))

    t = time.perf_counter()
    with connection.execute_wrapper(timed):
        moved = history_archive()
    archived = time.perf_counter() - t
    slow.sort(reverse=True)
    print(f"  {len(slow)} statements, {sum(x for x, _ in slow):.2f} s in SQL; slowest:", flush=True)
    for x, sql in slow[:6]:
        print(f"    {x * 1000:.0f} ms  {sql}", flush=True)
    print(
        f"run {run.pk}: evaluate {evaluated:.1f} s, archive {archived:.2f} s "
        f"(runs {moved.runs}, snapshots {moved.snapshots:,}, assessments {moved.assessments:,})",
        flush=True,
    )
