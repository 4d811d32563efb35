"""Which database a read goes to: the primary, or the read replica of the dashboards.

Only pages that aggregate the whole book and never write (the KPI dashboard with its tier and
credit-grade migration matrices, the risk portfolio) read from the replica, and they say so
with ``.using(reporting())``. Everything else, the 360° page above all, reads the primary, so a
user sees an interaction right after logging it (a replica can lag by a few seconds). A router
that sent every read away would break that.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

#: The alias of the replica in ``DATABASES`` (a second name for the primary without one).
REPORTING = "reporting"


def reporting() -> str:
    """The alias dashboards read from: ``reporting`` when ``FINCRM_REPLICA_URL`` is set,
    else ``default``."""
    return getattr(settings, "FINCRM_REPORTING_DATABASE", DEFAULT_DB_ALIAS)


class PrimaryReplicaRouter:
    """Writes always go to the primary, the replica is never migrated.

    Reads keep Django's own choice (the primary, or the database an instance came from), so
    an object read from the replica and saved goes to the primary, not back to the replica.
    """

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        both = {obj1._state.db, obj2._state.db}
        return True if both <= {DEFAULT_DB_ALIAS, REPORTING} else None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        return False if db == REPORTING else None
