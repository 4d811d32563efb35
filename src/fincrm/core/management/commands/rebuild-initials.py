"""``fincrm rebuild-initials``: write every client's pinyin initials again (``core.initials``).

Saving a client and the importer keep them in step; a rebuild is for a database restored from
elsewhere, clients written around both (a raw SQL load), or a new version of pypinyin."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from fincrm.core import initials


class Command(BaseCommand):
    help = "Write every client's pinyin initials again (the search box's initials lookup)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        written = initials.refresh()
        seconds = time.perf_counter() - started
        self.stdout.write(f"{written} clients' initials written in {seconds:.1f} s")
