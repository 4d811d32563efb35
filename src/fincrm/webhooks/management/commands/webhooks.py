"""``fincrm webhooks``: send every webhook delivery that is due (a sweeper for lost jobs);
``--schedule`` queues the sweep to run every few minutes under ``fincrm db_worker``."""

from django.core.management.base import BaseCommand

from fincrm.webhooks.services import deliver_pending
from fincrm.webhooks.tasks import SWEEP_EVERY, schedule_sweep


class Command(BaseCommand):
    help = "Attempt every pending webhook delivery whose retry time has come."

    def add_arguments(self, parser):
        parser.add_argument(
            "--schedule",
            action="store_true",
            help=f"Also queue the sweep to repeat every {SWEEP_EVERY} under fincrm db_worker.",
        )

    def handle(self, *args, **options):
        self.stdout.write(f"{deliver_pending()} deliveries attempted")
        if options["schedule"]:
            when = schedule_sweep()
            done = f"next sweep queued for {when:%Y-%m-%d %H:%M}" if when else "already queued"
            self.stdout.write(done)
