"""The import contracts of ``.importlinter`` hold (issue 20, point 3).

The contracts state DESIGN.md's layers as far as the code keeps them today (analytics pure, core
and accounts at the bottom, webhooks beside core, the web layer on top). Running them here puts
them in ``make test`` without touching the Makefile or CI script.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), str(config), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_import_contract_is_kept():
    result = _lint(CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Contracts: \d+ kept, 0 broken", result.stdout)


def test_a_contract_fails_when_an_exception_is_taken_away(tmp_path):
    # The core contract lists its exceptions by name; without the home page's it must break,
    # which shows the contracts see real imports (function-local ones included).
    text = CONFIG.read_text(encoding="utf-8")
    assert "    fincrm.core.views -> fincrm.**\n" in text
    broken = tmp_path / "importlinter.ini"
    broken.write_text(text.replace("    fincrm.core.views -> fincrm.**\n", ""), encoding="utf-8")
    result = _lint(broken)
    assert result.returncode != 0
    assert "core imports no app above it" in result.stdout
    assert "fincrm.core.views -> fincrm.customers" in result.stdout


def test_the_graph_script_sees_analytics_import_no_other_app():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import import_graph
    finally:
        sys.path.pop(0)
    imports = import_graph.cross_app(import_graph.collect())
    assert imports, "the script found no cross-app import at all"
    assert not [i for i in imports if import_graph.app_of(i.source) == "analytics"]
    kinds = {i.kind for i in imports}
    assert {"module", "local"} <= kinds
