"""``fincrm daily``: care calendar, maturity follow-ups, SLA escalations, points expiry and
annual surveys for one day (idempotent)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand

from fincrm.core.daily import run_daily


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=date.fromisoformat, help="the day (default today)")

    def handle(self, *args, **options):
        for job, count in run_daily(as_of=options["as_of"]).items():
            self.stdout.write(f"{job}: {count:,}")
