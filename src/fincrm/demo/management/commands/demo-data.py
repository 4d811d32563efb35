"""``fincrm demo-data``: load a realistic, deterministic demo book (see demo.generator)."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils import timezone
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from fincrm.customers.models import Customer
from fincrm.demo.generator import (
    USERS,
    Stats,
    build_book,
    create_portal_demo,
    demo_password,
    reset_book,
)
from fincrm.financing.choices import Stage


class Command(BaseCommand):
    help = (
        "Load a demo portfolio of N Chinese clients (companies with valid credit codes, "
        "persons with valid ID numbers, statements, applications at every stage, facilities "
        "with repayment histories, interactions) and demo users for every role. Same seed "
        "and --as-of, same data. Rows are bulk-inserted: they carry no audit history."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--as-of", type=date.fromisoformat, help="default: today")
        parser.add_argument(
            "--reset", action="store_true", help="delete the existing book and demo users first"
        )

    @no_translations  # one language per run: roles and stages are translated labels
    def handle(self, *args, **options):
        console = Console(stderr=True)
        n = options["customers"]
        if n < 1:
            raise CommandError("--customers must be at least 1")
        if options["reset"]:
            reset_book()
        elif Customer.objects.exists():
            raise CommandError("the database already holds clients: add --reset to replace them")
        as_of = options["as_of"] or timezone.localdate()
        started = time.perf_counter()
        stats = _build_book_with_progress(
            console, customers=n, seed=options["seed"], as_of=as_of, started=started
        )
        elapsed = time.perf_counter() - started
        out = Console(file=self.stdout, width=110)
        summary = _summary_table(stats, as_of=as_of, seed=options["seed"])
        out.print(summary)
        out.print(f"{elapsed:.1f} s, {stats.customers / elapsed:,.0f} clients/s")
        users = _users_table()
        portal = create_portal_demo(as_of=as_of)
        from fincrm.demo.knowledge import create_knowledge_demo

        articles, reads = create_knowledge_demo(as_of=as_of, seed=options["seed"])
        out.print(f"knowledge library: {articles} articles published, {reads:,} reads")
        from fincrm.demo.training import create_training_demo

        records = create_training_demo(as_of=as_of)
        out.print(f"staff development: {records} training records")
        if portal is not None:
            username, client = portal
            users.add_row(
                username, f"client portal (/portal/): {client}", "", demo_password(username)
            )
        out.print(users)


def _build_book_with_progress(
    console: Console, *, customers: int, seed: int, as_of: date, started: float
) -> Stats:
    """Build the book under a progress bar (clients done, clients a second, rows written)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} clients/s · {task.fields[rows]} rows"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("clients", total=customers, rate="-", rows="0")
        written = [0, 0]

        def advance(clients: int, rows: int) -> None:
            written[0] += clients
            written[1] += rows
            rate = written[0] / (time.perf_counter() - started)
            bar.update(task, advance=clients, rate=f"{rate:,.0f}", rows=f"{written[1]:,}")

        _org, stats = build_book(customers=customers, seed=seed, as_of=as_of, progress=advance)
    return stats


def _summary_table(stats: Stats, *, as_of: date, seed: int) -> Table:
    """The rows written, by kind."""
    summary = Table(title=f"demo book as of {as_of} (seed {seed})")
    summary.add_column("what")
    summary.add_column("rows", justify="right")
    for label, value in (
        ("clients", stats.customers),
        ("contacts", stats.contacts),
        ("financial statements", stats.statements),
        *(
            (f"applications: {Stage(stage).label if stage in Stage.values else stage}", count)
            for stage, count in sorted(stats.applications.items())
        ),
        ("facilities", stats.facilities),
        ("  of which late payers", stats.late_payers),
        ("  of which defaulters", stats.defaulters),
        ("instalments", stats.installments),
        ("payments", stats.payments),
        ("interactions", stats.interactions),
        ("survey invitations", stats.invitations),
        ("survey responses", stats.responses),
        ("complaints and requests", stats.tickets),
        ("loyalty points entries", stats.points_entries),
        ("rows in all", stats.rows),
    ):
        summary.add_row(label, f"{value:,}")
    return summary


def _users_table() -> Table:
    """The demo users with their role, team and demo password."""
    users = Table(title="demo users — demo credentials, never use them in production")
    for column in ("username", "role", "team", "password"):
        users.add_column(column)
    for username, role, team, _display in USERS:
        users.add_row(username, str(role.label), team, demo_password(username))
    return users
