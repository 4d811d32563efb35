"""``customer_snapshot_history`` of the ten-year client and of the book's last client, timed
(20 calls each). FINCRM_DATABASE_URL=… .venv/bin/python scripts/archive/history.py LABEL"""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fincrm.settings")
django.setup()
from fincrm.bench.benchmarks import ten_year_client  # noqa: E402
from fincrm.customers.models import Customer  # noqa: E402
from fincrm.evaluation.selectors import customer_snapshot_history  # noqa: E402

ten = ten_year_client()
last = Customer.objects.exclude(pk=ten.pk).order_by("-pk").first()
for label, who in (
    ("ten-year client (365 archived runs)", ten),
    ("the last client (in the 7 real archived runs only)", last),
):
    times = []
    for _ in range(20):
        t = time.perf_counter()
        n = len(customer_snapshot_history(customer=who))
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(
        f"{sys.argv[1]}: customer_snapshot_history, {label}: {n} rows, "
        f"p50 {times[10]:.1f} ms, max {times[-1]:.1f} ms",
        flush=True,
    )
