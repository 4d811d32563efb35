"""Settings of the reporting database and the router that keeps writes and migrations on the
primary."""

import json
import os
import subprocess
import sys

from django.conf import settings

from fincrm.core.db import PrimaryReplicaRouter, reporting
from fincrm.customers.models import Customer
from fincrm.settings import database

REPLICA = "postgres://reader:secret@replica.example:5432/fincrm"


def _settings_with(env: dict) -> dict:
    """DATABASES and the reporting alias as a fresh process reads them from ``env``."""
    code = (
        "import json, fincrm.settings as s; "
        "print(json.dumps([s.DATABASES, s.FINCRM_REPORTING_DATABASE], default=str))"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FINCRM_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**environ, "FINCRM_DEBUG": "1", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_a_replica_url_makes_the_reporting_alias_the_replica():
    databases, alias = _settings_with(
        {"FINCRM_DATABASE_URL": "postgres://crm:pw@primary.example:5432/fincrm",
         "FINCRM_REPLICA_URL": REPLICA}
    )  # fmt: skip
    assert alias == "reporting"
    replica = databases["reporting"]
    assert (replica["ENGINE"], replica["HOST"], replica["USER"]) == (
        "django.db.backends.postgresql", "replica.example", "reader",
    )  # fmt: skip
    assert replica["TEST"] == {"MIRROR": "default"}  # tests never touch the real replica
    assert databases["default"]["HOST"] == "primary.example"


def test_without_a_replica_dashboards_read_the_primary():
    databases, alias = _settings_with({"FINCRM_DATABASE_URL": "sqlite:///:memory:"})
    assert alias == "default"
    assert databases["reporting"]["NAME"] == databases["default"]["NAME"]
    assert reporting() == settings.FINCRM_REPORTING_DATABASE


def test_a_sqlite_replica_gets_the_same_tuning_as_the_primary(tmp_path):
    tuned = database(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    assert "journal_mode=WAL" in tuned["OPTIONS"]["init_command"]
    assert not database(REPLICA).get("OPTIONS")


def test_writes_go_to_the_primary_and_the_replica_is_never_migrated():
    router = PrimaryReplicaRouter()
    instance = Customer()
    instance._state.db = "reporting"  # read on the replica
    assert router.db_for_write(Customer, instance=instance) == "default"
    assert router.allow_migrate("reporting", "customers", "customer") is False
    assert router.allow_migrate("default", "customers", "customer") is None
    other = Customer()
    other._state.db = "default"
    assert router.allow_relation(instance, other) is True
