"""``fincrm rebuild-search``: refill the client search index from the clients and contacts.

The triggers keep the index in step with every write; a rebuild is for a database restored
from elsewhere, a bulk load that went around the triggers, or a suspicion. SQLite only:
PostgreSQL's search indexes are ordinary indexes the database maintains itself.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from fincrm.customers import search_index


class Command(BaseCommand):
    help = (
        "Rebuild the client search index (SQLite FTS5) from the clients and contacts; "
        "creates it, with its triggers, when it is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            self.stdout.write(
                f"{connection.vendor}: the search uses the database's own indexes, nothing to do"
            )
            return
        if not search_index.supported(connection):
            raise CommandError(
                "this SQLite has no FTS5 trigram tokenizer (SQLite 3.34 or later is needed)"
            )
        started = time.perf_counter()
        with transaction.atomic(using=options["database"]):
            if search_index.present(connection):
                count = search_index.rebuild(connection)
            else:
                count = search_index.create(connection)
        seconds = time.perf_counter() - started
        self.stdout.write(f"search index rebuilt: {count:,} clients in {seconds:.1f} s")
