"""``fincrm bench NAME --customers N``: benchmarks as commands, never as timed unit tests.

Each benchmark runs on its own SQLite file under ``var/bench/`` (or ``--database-url``), built
once with ``fincrm demo-data`` and reused, in fresh subprocesses so the peak memory of one
phase is not the peak of another. It prints wall time, rows/s and peak memory for the fast path
and for the naive baseline measured in the same run, and their ratio.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

BENCHMARKS = ("evaluate",)
#: The naive loop is timed on a sample of this many clients and reported per client.
NAIVE_SAMPLE = 1_000


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "Benchmark NAME (evaluate) on N demo clients against its naive baseline."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=BENCHMARKS)
        parser.add_argument("--customers", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--database-url", help="default: a SQLite file under var/bench/")
        parser.add_argument("--naive-sample", type=int, default=NAIVE_SAMPLE)
        parser.add_argument("--phase", help="internal: run one phase in this process")

    def handle(self, *args, **options):
        if options["phase"]:
            result = getattr(self, f"phase_{options['phase']}")(options)
            self.stdout.write("BENCH " + json.dumps(result))
            return
        n = options["customers"]
        if n < 1:
            raise CommandError("--customers must be at least 1")
        url = options["database_url"] or self._default_url(options)
        env = {**os.environ, "FINCRM_DATABASE_URL": url, "FINCRM_DEBUG": "1"}
        console = Console()
        console.print(f"[bold]bench {options['name']}[/] · {n:,} clients · {url}")
        self._run(env, options, "prepare", inherit=True)
        fast = self._run(env, options, "evaluate_bulk")
        naive = self._run(env, options, "evaluate_naive")
        table = Table(title=f"fincrm bench evaluate — {n:,} clients")
        for column in ("path", "clients", "wall s", "clients/s", "peak MiB"):
            table.add_column(column, justify="right" if column != "path" else "left")
        for label, r in (("bulk (evaluation_run)", fast), ("naive per-client loop", naive)):
            table.add_row(
                label,
                f"{r['rows']:,}",
                f"{r['seconds']:.2f}",
                f"{r['rows'] / r['seconds']:,.0f}",
                f"{r['peak_mib']:,.0f}",
            )
        console.print(table)
        ratio = (fast["rows"] / fast["seconds"]) / (naive["rows"] / naive["seconds"])
        console.print(f"ratio bulk / naive: [bold]{ratio:,.1f}×[/] (clients per second)")

    def _default_url(self, options) -> str:
        folder = Path(settings.VAR_DIR) / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        name = "{name}-{customers}-s{seed}.sqlite3".format(**options)
        return f"sqlite:///{folder / name}"

    def _run(self, env, options, phase: str, inherit: bool = False) -> dict:
        cmd = [sys.executable, "-m", "fincrm.manage", "bench", options["name"], "--phase", phase]
        cmd += ["--customers", str(options["customers"]), "--seed", str(options["seed"])]
        cmd += ["--naive-sample", str(options["naive_sample"])]
        proc = subprocess.run(cmd, env=env, capture_output=not inherit, text=True, check=False)
        if proc.returncode != 0:
            raise CommandError(f"bench phase {phase} failed:\n{proc.stderr or ''}")
        if inherit:
            return {}
        line = next(x for x in proc.stdout.splitlines() if x.startswith("BENCH "))
        return json.loads(line[6:])

    # --- phases, each in its own process ----------------------------------------------

    def phase_prepare(self, options) -> dict:
        from fincrm.customers.models import Customer

        call_command("migrate", verbosity=0)
        if Customer.objects.count() != options["customers"]:
            call_command(
                "demo-data", customers=options["customers"], seed=options["seed"], reset=True
            )
        return {}

    def phase_evaluate_bulk(self, options) -> dict:
        from fincrm.evaluation.services import evaluation_run

        started = time.perf_counter()
        run = evaluation_run(kind="full")
        seconds = time.perf_counter() - started
        return {"rows": run.customers_evaluated, "seconds": seconds, "peak_mib": _peak_mib()}

    def phase_evaluate_naive(self, options) -> dict:
        from django.db import transaction
        from django.utils import timezone

        from fincrm.customers.models import Customer
        from fincrm.evaluation.baseline import evaluate_one_by_one
        from fincrm.evaluation.models import EvaluationRun
        from fincrm.evaluation.services import policy_active, policy_config

        version = policy_active()
        base = EvaluationRun.objects.filter(status="succeeded", kind="full").first()
        ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        ids = ids[: options["naive_sample"]]
        run = EvaluationRun.objects.create(kind="event", policy=version, as_of=timezone.localdate())
        started = time.perf_counter()
        evaluate_one_by_one(
            run=run,
            customer_ids=ids,
            cutoffs=base.cutoffs,
            policy=policy_config(version),
            as_of=run.as_of,
        )
        seconds = time.perf_counter() - started
        with transaction.atomic():  # the baseline's rows are not a real run: remove them
            run.delete()
        return {"rows": len(ids), "seconds": seconds, "peak_mib": _peak_mib()}
