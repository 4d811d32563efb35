"""``fincrm import-customers FILE.{csv,xlsx} --user USERNAME``: bulk import of clients.

The rules (matching, rights, all-or-nothing) live in :mod:`fincrm.customers.importer`; this
command parses arguments, shows progress and prints the summary. Exit status 1 when a row was
bad, so scripts notice.
"""

from __future__ import annotations

import io
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
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

from fincrm.accounts.models import User
from fincrm.customers import importer


class Command(BaseCommand):
    help = (
        "Import clients from a CSV (UTF-8 or GB18030) or Excel .xlsx file. Rows are matched on "
        "the credit code or ID number: existing clients are updated, new ones created. Bad rows "
        "are reported and skipped unless --all-or-nothing is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="CSV or XLSX file; row 1 holds the headers.")
        parser.add_argument(
            "--user", required=True, help="Import as this user, with their rights (required)."
        )
        parser.add_argument(
            "--all-or-nothing",
            action="store_true",
            help="Write nothing at all if any row is bad.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row, write nothing."
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="Read column HEADER as FIELD (empty FIELD: ignore the column). Repeatable.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=importer.DEFAULT_BATCH_SIZE,
            help="Rows per transaction (default %(default)s).",
        )
        parser.add_argument(
            "--errors-csv", type=Path, help="Write every bad row's errors to this CSV file."
        )
        parser.add_argument(
            "--show-errors",
            type=int,
            default=20,
            metavar="N",
            help="Print the first N errors (default %(default)s).",
        )

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist as exc:
            raise CommandError(_("No user %(name)s.") % {"name": options["user"]}) from exc
        if not importer.may_import(user):
            raise CommandError(
                _("%(name)s may not import clients (account managers, team leads and admins may).")
                % {"name": user.username}
            )
        if options["batch_size"] < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        mapping = self._mapping(options["map"])
        with importer.open_table(path) as table:  # read the headers for the summary
            headers = importer.column_headers(
                table.headers, importer.resolve_mapping(table.headers, mapping)
            )
            estimated = table.estimated_rows
        try:
            result = self._run(path, user, mapping, estimated, options)
        except (importer.BadFile, importer.BadMapping, PermissionDenied) as exc:
            raise CommandError(str(exc) or _("Not allowed.")) from exc
        self._print_summary(path, user, result, options)
        if options["errors_csv"] and result.errors:
            with open(options["errors_csv"], "w", encoding="utf-8-sig", newline="") as out:
                importer.write_errors_csv(result.errors, out, headers=headers)
            self.stdout.write(
                _("All %(count)d errors written to %(path)s")
                % {"count": len(result.errors), "path": options["errors_csv"]}
            )
        if result.bad_rows:
            raise CommandError(_("%(count)d bad rows.") % {"count": result.bad_rows}, returncode=1)

    @staticmethod
    def _mapping(pairs: list[str]) -> dict[str | int, str | None]:
        mapping: dict[str | int, str | None] = {}
        for pair in pairs:
            header, sep, name = pair.partition("=")
            if not sep:
                raise CommandError(_("--map takes HEADER=FIELD, not %(value)s") % {"value": pair})
            mapping[header.strip()] = name.strip() or None
        return mapping

    def _run(self, path, user, mapping, estimated, options) -> importer.ImportResult:
        console = Console(stderr=True)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task(_("Importing"), total=estimated)
            return importer.customer_import(
                path,
                user=user,
                mapping=mapping,
                all_or_nothing=options["all_or_nothing"],
                dry_run=options["dry_run"],
                batch_size=options["batch_size"],
                on_progress=lambda done: progress.update(task, completed=done),
            )

    def _print_summary(self, path, user, result: importer.ImportResult, options) -> None:
        buffer = io.StringIO()
        console = Console(file=buffer, width=120, highlight=False, markup=False, soft_wrap=True)
        summary = Table(title=f"{path.name} · {user.username}", show_header=False)
        summary.add_column(style="bold")
        summary.add_column(justify="right")
        summary.add_row(_("Rows read"), f"{result.total_rows:,}")
        summary.add_row(pgettext("import count", "Created"), f"{result.created:,}")
        summary.add_row(_("Updated"), f"{result.updated:,}")
        summary.add_row(_("Unchanged"), f"{result.unchanged:,}")
        summary.add_row(_("Bad rows"), f"{result.bad_rows:,}")
        summary.add_row(_("Seconds"), f"{result.seconds:.1f}")
        summary.add_row(_("Rows per second"), f"{result.rows_per_second:,.0f}")
        console.print(summary)
        if result.dry_run:
            console.print(_("Dry run: nothing was written."))
        elif result.aborted:
            console.print(
                _("Nothing was imported: --all-or-nothing was given and some rows are bad.")
            )
        elif result.bad_rows:
            console.print(
                _("The bad rows were skipped; the %(count)s good rows were imported.")
                % {"count": f"{result.good_rows:,}"}
            )
        shown = result.errors[: max(options["show_errors"], 0)]
        if shown:
            errors = Table(
                title=_("First %(shown)d of %(total)d errors")
                % {"shown": len(shown), "total": len(result.errors)}
            )
            errors.add_column(_("Row"), justify="right")
            errors.add_column(_("Field"))
            errors.add_column(_("Reason"))
            errors.add_column(_("Value"))
            for error in shown:
                label = importer.field_label(error.field) if error.field else ""
                errors.add_row(str(error.row), label, error.message, error.value)
            console.print(errors)
        self.stdout.write(buffer.getvalue(), ending="")
