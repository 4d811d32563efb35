"""The garbage collector is kept off the request path in every web process: the WSGI entry
(which the development server loads too) freezes the loaded application."""

import json
import os
import subprocess
import sys

import pytest

from fincrm.core import gc_tuning

PROBE = """
import gc, json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fincrm.settings")
{load}
print(json.dumps({{"frozen": gc.get_freeze_count(), "thresholds": gc.get_threshold()}}))
"""
WSGI = "import fincrm.wsgi"
#: What ``runserver`` does to find its application (``WSGI_APPLICATION``).
RUNSERVER = (
    "import django; django.setup()\n"
    "from django.core.servers.basehttp import get_internal_wsgi_application\n"
    "get_internal_wsgi_application()"
)


def _probe(load: str, **env) -> dict:
    environment = {**os.environ, "FINCRM_DEBUG": "1", **env}
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(load=load)],
        env=environment, capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("load", [WSGI, RUNSERVER], ids=["wsgi", "runserver"])
def test_a_web_process_freezes_the_loaded_application(load):
    state = _probe(load)
    assert state["frozen"] > 50_000  # Django, the URLconf and every view module
    assert tuple(state["thresholds"]) == gc_tuning.THRESHOLDS


def test_freezing_can_be_turned_off_and_thresholds_set():
    assert _probe(WSGI, FINCRM_GC_FREEZE="0")["frozen"] == 0
    assert _probe(WSGI, FINCRM_GC_THRESHOLDS="5000,5,5")["thresholds"] == [5000, 5, 5]


def test_malformed_thresholds_are_refused(monkeypatch):
    monkeypatch.setenv("FINCRM_GC_THRESHOLDS", "5000,5")
    with pytest.raises(ValueError, match="three positive integers"):
        gc_tuning.thresholds()


def test_the_collection_timer_counts_collections_by_generation():
    import gc

    with gc_tuning.CollectionTimer() as timer:
        gc.collect(0)
        gc.collect(2)
    assert timer.counts[0] >= 1 and timer.counts[2] >= 1
    assert timer.total_ms >= 0 and timer not in gc.callbacks
