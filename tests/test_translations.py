"""One language at a time (issue 19, point 2): `makemessages` finds nothing untranslated and
nothing fuzzy in the Chinese catalogue — a new string without its translation fails here.

It runs on a copy of the package (the real catalogue is left alone) and needs GNU gettext
(`xgettext`, `msgmerge`, `msgattrib`), which `.ci/run` installs.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

import fincrm

PACKAGE = Path(fincrm.__file__).parent


def _entries(po: Path, *flags: str) -> list[str]:
    out = subprocess.run(
        ["msgattrib", *flags, "--no-location", "--no-wrap", str(po)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [line for line in out.splitlines() if line.startswith("msgid ") and line != 'msgid ""']


@pytest.mark.skipif(
    shutil.which("msgattrib") is None and os.environ.get("FINCRM_REQUIRE_BROWSER") != "1",
    reason="GNU gettext is not installed (apt-get install gettext)",
)
def test_makemessages_leaves_nothing_untranslated_or_fuzzy(tmp_path, settings, monkeypatch):
    copy = tmp_path / "fincrm"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "migrations")
    )
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0)

    po = copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    assert _entries(po, "--untranslated") == []
    assert _entries(po, "--only-fuzzy") == []
