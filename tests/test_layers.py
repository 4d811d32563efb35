"""The import contracts of ``.importlinter`` hold (issue 20, point 3).

The contracts state DESIGN.md's layers as far as the code keeps them today (analytics pure, core
at the bottom knowing no other app, accounts just above, webhooks beside core, the web layer on
top). Running them here puts
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


def test_a_contract_fails_when_it_covers_code_that_breaks_it(tmp_path):
    # The core contract holds with no exception left; widened to the workbench (fincrm.web,
    # which reads every app) it must break, which shows the contracts see real imports.
    text = CONFIG.read_text(encoding="utf-8")
    source = "source_modules =\n    fincrm.core\nforbidden_modules =\n"
    assert text.count(source) == 1
    broken = tmp_path / "importlinter.ini"
    broken.write_text(
        text.replace(source, source.replace("fincrm.core\n", "fincrm.core\n    fincrm.web\n")),
        encoding="utf-8",
    )
    result = _lint(broken)
    assert result.returncode != 0
    assert "core imports no other fincrm app" in result.stdout
    assert "fincrm.web.views -> fincrm.customers.models" in result.stdout


def _import_graph():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import import_graph
    finally:
        sys.path.pop(0)
    return import_graph


#: What core may import besides itself: analytics, pure and also at the bottom (it imports no
#: fincrm app, ``analytics-pure``), so core -> analytics closes no loop.
CORE_MAY_IMPORT = {"core", "analytics"}


def test_core_imports_no_other_app():
    """Any app, also one added after ``.importlinter``'s lists were written, module-level or
    function-local: core sits at the bottom (issue 20, point 3)."""
    graph = _import_graph()
    imports = graph.cross_app(graph.collect())
    upward = sorted(
        f"{i.source}:{i.line} -> {i.target}"
        for i in imports
        if graph.app_of(i.source) == "core" and graph.app_of(i.target) not in CORE_MAY_IMPORT
    )
    assert not upward, "core imports an app above it:\n" + "\n".join(upward)


def test_the_graph_script_sees_analytics_import_no_other_app():
    import_graph = _import_graph()
    imports = import_graph.cross_app(import_graph.collect())
    assert imports, "the script found no cross-app import at all"
    assert not [i for i in imports if import_graph.app_of(i.source) == "analytics"]
    kinds = {i.kind for i in imports}
    assert {"module", "local"} <= kinds


def test_the_apps_form_no_import_cycle():
    """No app reaches itself through the apps it imports, module-level or inside a function
    (issue 20, point 3): news goes up through core.events, core.daily and Django signals that
    the upper app connects in its ready(), never by an import."""
    graph = _import_graph()
    g = graph.graph(graph.cross_app(graph.collect()), {"module", "local"})
    assert graph.cycles(g) == [], "apps importing one another in a loop: " + repr(graph.cycles(g))


def test_the_cycle_check_sees_a_loop(tmp_path):
    """The check above is not blind: two apps importing each other inside functions (the way
    a cycle used to be hidden) are found."""
    graph = _import_graph()
    for app, other in (("alpha", "beta"), ("beta", "alpha")):
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
        (tmp_path / app / "services.py").write_text(
            f"def run():\n    from fincrm.{other}.services import run\n\n    return run\n"
        )
    g = graph.graph(graph.cross_app(graph.collect(tmp_path)), {"module", "local"})
    assert [sorted(c) for c in graph.cycles(g)] == [["alpha", "beta"]]
