"""``fincrm predict``: lifetime value, churn risk, next financing need and recommendations for
every client (run nightly after the evaluation)."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand

from fincrm.insights.services import predictions_run


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=date.fromisoformat, help="the day (default today)")

    def handle(self, *args, **options):
        started = time.perf_counter()
        result = predictions_run(as_of=options["as_of"])
        report = result.churn_report
        self.stdout.write(
            f"{result.clients:,} clients · lifetime value for {result.with_clv:,} (running "
            f"facilities valued for {result.with_running_value:,}) · next need "
            f"for {result.with_need:,} · {result.recommendations:,} recommendations · "
            f"{result.retention_tasks:,} retention tasks · {time.perf_counter() - started:.1f} s"
        )
        if report is not None:
            auc = f"{report.auc:.3f}" if report.auc is not None else "—"
            lift = f"{report.lift_top_decile:.2f}" if report.lift_top_decile is not None else "—"
            self.stdout.write(
                f"churn model: trained at {report.train_cutoff} on {report.n_train:,} clients, "
                f"tested at {report.test_cutoff} on {report.n_test:,}: AUC {auc}, "
                f"lift at top decile {lift}"
            )
        for note in result.notes:
            self.stdout.write(f"note: {note}")
