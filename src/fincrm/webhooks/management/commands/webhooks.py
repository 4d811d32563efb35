"""``fincrm webhooks``: send every webhook delivery that is due (a sweeper for lost jobs)."""

from django.core.management.base import BaseCommand

from fincrm.webhooks.services import deliver_pending


class Command(BaseCommand):
    help = "Attempt every pending webhook delivery whose retry time has come."

    def handle(self, *args, **options):
        self.stdout.write(f"{deliver_pending()} deliveries attempted")
