"""``fincrm demo-day``: let the demo book live the days since its last nightly run."""

from __future__ import annotations

import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from fincrm.demo.day import COUNTS, advance_book, last_night


class Command(BaseCommand):
    help = (
        "Play each day from the one after the last full evaluation run to --to (default "
        "today) on the demo book: repayments, completed tasks and contacts, closed alerts, "
        "decided control proposals (see fincrm.demo.day). Then run `fincrm evaluate --full` "
        "for the night."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--to", type=date.fromisoformat, help="last day to play (default: today)"
        )
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **options):
        last = last_night()
        if last is None:
            raise CommandError("no full evaluation run yet: run `fincrm evaluate --full` first")
        end = options["to"] or timezone.localdate()
        if end <= last:
            raise CommandError(f"the book was last evaluated as of {last}: nothing to play")
        started = time.perf_counter()
        # Each day commits on its own: an interruption keeps the days played.
        lived = advance_book(start=last + timedelta(days=1), end=end, seed=options["seed"])
        table = Table(title=f"the demo book's days after {last}")
        table.add_column("day")
        for name in COUNTS:
            table.add_column(name.replace("_", " "), justify="right")
        for stats in lived.days:
            table.add_row(stats.day.isoformat(), *(f"{getattr(stats, c):,}" for c in COUNTS))
        out = Console(file=self.stdout, width=140)
        out.print(table)
        out.print(f"{time.perf_counter() - started:.1f} s · next: fincrm evaluate --full")
