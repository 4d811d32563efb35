from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from fincrm.checks.services import findings_import


class Command(BaseCommand):
    help = (
        "Import bought check reports from CSV (identifier,category,key,title,amount,date,source)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, **options):
        with open(options["path"], "rb") as handle:
            data = handle.read()
        try:
            result = findings_import(data=data)
        except ValidationError as error:
            raise CommandError("\n".join(error.messages)) from error
        self.stdout.write(
            f"{result.findings} findings for {result.checks} clients, {result.new} new"
        )
