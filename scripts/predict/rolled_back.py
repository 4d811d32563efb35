"""``fincrm predict`` on a book another session is still using, without changing it: the whole
prediction run (``predictions_run``, KPI cube included) in a transaction rolled back at the
end, its stages logged (docs/benchmarks.md, "`fincrm predict` at 1,000,000 clients, streamed").

    FINCRM_LOG_LEVEL=INFO FINCRM_DATABASE_URL=postgres://…/book \\
        /usr/bin/time -v .venv/bin/python scripts/predict/rolled_back.py
"""

import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fincrm.settings")
django.setup()
from django.db import transaction  # noqa: E402

from fincrm.insights.services import predictions_run  # noqa: E402


class RolledBack(Exception):
    pass


started = time.perf_counter()
try:
    with transaction.atomic():
        result = predictions_run()
        print(f"{result.clients:,} clients · lifetime value for {result.with_clv:,} · running "
              f"book for {result.with_running_value:,} · next need for {result.with_need:,} · "
              f"{result.recommendations:,} recommendations · notes {result.notes}")  # fmt: skip
        if (report := result.churn_report) is not None:
            print(f"churn: trained on {report.n_train:,}, tested on {report.n_test:,}, "
                  f"AUC {report.auc}, lift {report.lift_top_decile}")  # fmt: skip
        print(f"run {time.perf_counter() - started:.1f} s")
        raise RolledBack
except RolledBack:
    print(f"rolled back after {time.perf_counter() - started:.1f} s")
