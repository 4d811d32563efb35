"""The 360° page of the ten-year client (the dashboard bench's case), alone: p50/p95 over 30
requests, plus the plan and run time of the one query over the whole archive.

    FINCRM_DATABASE_URL=… .venv/bin/python scripts/archive/page.py LABEL
"""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fincrm.settings")
django.setup()
from django.db import connection  # noqa: E402

from fincrm.accounts.models import User  # noqa: E402
from fincrm.bench import benchmarks  # noqa: E402
from fincrm.evaluation.models import SnapshotArchive  # noqa: E402
from fincrm.web.customer360 import customer_detail  # noqa: E402

benchmarks.web_process()
client = benchmarks.ten_year_client()
user = User.objects.get(username="manager1")
view = benchmarks._with_pk(customer_detail, client.pk)
r = benchmarks._timed_requests(
    view, benchmarks._request_factory(user)(f"/customers/{client.pk}/"), repeats=30
)
print(
    sys.argv[1],
    f"360° page: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, {r['queries']} queries",
)
qs = SnapshotArchive.objects.filter(customer=client).select_related("run__policy")[:16]
sql, params = qs.query.sql_with_params()
with connection.cursor() as cursor:
    for _ in range(3):
        cursor.execute("EXPLAIN (ANALYZE, SUMMARY) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    print(plan[-2].strip(), "|", plan[-1].strip())
    cursor.execute(
        "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE c.relkind = 'r' AND c.relname LIKE 'evaluation_snapshotarchive%%'"
    )
    print(
        "archive tables (leaves and legacy):",
        cursor.fetchone()[0],
        "archived rows of the client:",
        SnapshotArchive.objects.filter(customer=client).count(),
    )
