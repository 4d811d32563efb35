"""``fincrm evaluate``: classify, tier and segment clients, with a progress bar."""

from __future__ import annotations

import time
from datetime import date, datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fincrm.evaluation.archive import history_archive
from fincrm.evaluation.choices import RunKind, RunStatus
from fincrm.evaluation.services import (
    evaluation_parts_requeue,
    evaluation_run,
    evaluation_run_partitioned,
)
from fincrm.evaluation.tasks import schedule_nightly


class Command(BaseCommand):
    help = (
        "Evaluate clients: --full (the whole book), --since TIME or the default incremental "
        "run (clients changed since the last run), --customer ID (one client). "
        "--schedule-nightly queues the nightly full run for `fincrm db_worker`."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--full", action="store_true", help="evaluate every client")
        mode.add_argument("--since", help="ISO date/time: clients changed since then")
        mode.add_argument("--customer", type=int, action="append", help="one client id")
        mode.add_argument("--schedule-nightly", action="store_true")
        mode.add_argument(
            "--partitioned",
            action="store_true",
            help="queue a full run split by client-id ranges for `fincrm db_worker` processes",
        )
        mode.add_argument(
            "--archive",
            action="store_true",
            help="move snapshots and assessments older than the last --keep-runs full runs "
            "to the archive tables",
        )
        parser.add_argument(
            "--keep-runs", type=int, help="full runs kept live (default FINCRM_HISTORY_FULL_RUNS)"
        )
        parser.add_argument("--part-size", type=int, default=100_000, help="clients per job")
        parser.add_argument(
            "--wait",
            action="store_true",
            help="with --partitioned: wait for the run to finish (queueing again the parts "
            "of a worker that died), then print its time; exit 1 if it failed",
        )
        parser.add_argument("--as-of", type=date.fromisoformat, help="evaluation date")

    def _wait(self, run, began: float) -> None:
        """Poll the run until it is no longer running, requeueing parts whose worker died."""
        while run.status == RunStatus.RUNNING:
            time.sleep(1)
            evaluation_parts_requeue(run_id=run.pk)
            run.refresh_from_db()
        self.stdout.write(
            f"run #{run.pk} {run.status}: {run.customers_evaluated} clients, "
            f"{time.monotonic() - began:.1f} s from the start of this command"
        )
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"run #{run.pk} {run.status}: {run.error}")

    @no_translations  # one language per run: the run's kind is a translated label
    def handle(self, *args, **options):
        console = Console(stderr=True)
        if options["schedule_nightly"]:
            when = schedule_nightly()
            self.stdout.write(f"nightly evaluation queued for {when:%Y-%m-%d %H:%M}")
            return
        if options["archive"]:
            keep = options["keep_runs"]
            if keep is not None and keep < 1:
                raise CommandError("--keep-runs must be at least 1")
            moved = history_archive(keep_full_runs=keep)
            self.stdout.write(
                f"archived {moved.snapshots} snapshots and {moved.assessments} assessments "
                f"of {moved.runs} runs"
            )
            return
        if options["partitioned"]:
            if options["part_size"] < 1:
                raise CommandError("--part-size must be at least 1")
            began = time.monotonic()
            run = evaluation_run_partitioned(part_size=options["part_size"], as_of=options["as_of"])
            workers = (
                "fincrm rqworker --job-class django_tasks_rq.Job default"
                if "django_rq" in settings.INSTALLED_APPS
                else "fincrm db_worker"
            )
            self.stdout.write(
                f"full run #{run.pk} queued in {run.parts.count()} parts; "
                f"start `{workers}` processes to evaluate them"
            )
            if options["wait"]:
                self._wait(run, began)
            return
        kind, ids, since = RunKind.INCREMENTAL, None, None
        if options["full"]:
            kind = RunKind.FULL
        elif options["customer"]:
            kind, ids = RunKind.EVENT, options["customer"]
        elif options["since"]:
            try:
                since = datetime.fromisoformat(options["since"])
            except ValueError as exc:
                raise CommandError(f"--since: not an ISO date or time: {options['since']}") from exc
            if timezone.is_naive(since):
                since = timezone.make_aware(since)
        columns = (
            TextColumn("{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=False) as bar:
            phases: dict[str, int] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in phases:
                    phases[phase] = bar.add_task(phase, total=max(total, 1))
                bar.update(phases[phase], completed=min(done, total), total=max(total, 1))

            run = evaluation_run(
                kind=kind, customer_ids=ids, since=since, as_of=options["as_of"], progress=progress
            )
        self.stdout.write(
            f"{run.get_kind_display()} run #{run.pk}: {run.customers_evaluated} clients, "
            f"{run.tier_changes} tier changes, {run.tasks_created} tasks, "
            f"{run.duration_seconds:.1f} s, policy v{run.policy.number}"
        )
