"""The app-level import graph of ``src/fincrm`` and its cycles (issue 20, point 3).

Stdlib only (``ast``), so it runs without Django or the venv::

    python3 scripts/import_graph.py            # graph, cycles, the module-level edges in them
    python3 scripts/import_graph.py --edges    # also every import behind every edge
    git archive HEAD src | tar -x -C /tmp/head && \
        python3 scripts/import_graph.py --root /tmp/head/src/fincrm   # the committed tree only

An *app* is a top-level package or module under ``src/fincrm`` (``core``, ``financing``,
``settings``, …). Tests, migrations and the root ``conftest.py`` are left out: only shipped code
counts. Each import is *module-level* when it runs on import (at the top of a module, also
inside ``if``/``try`` at that level) and *local* when it sits inside a function or method; a
``if TYPE_CHECKING:`` import is reported as *typing* and counts for neither graph.

Cycles are the strongly connected components (Tarjan) of the graph, once over every import and
once over module-level imports only: the second is what Python really has to resolve at start-up,
the first is what issue 20 asks to bring to zero.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "fincrm"
PACKAGE = "fincrm"


@dataclass(frozen=True)
class Import:
    source: str  # dotted module doing the import
    target: str  # dotted module imported (best resolution)
    line: int
    kind: str  # "module", "local" or "typing"


def _skipped(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return (
        "tests" in parts
        or "migrations" in parts
        or path.name.startswith("test_")
        or path.name == "conftest.py"
    )


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = [PACKAGE, *rel.parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        if not is_package:
            parts = parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, node.module] if node.module else parts)
    if node.module is None:
        # ``from . import x`` names submodules (or attributes) of the base package.
        return [f"{base}.{alias.name}" for alias in node.names]
    return [base]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, root: Path = ROOT) -> list[Import]:
    module = _module_name(path, root)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            child_kind = kind
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                child_kind = "local" if kind == "module" else kind
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit_stmt(stmt, "typing")
                for stmt in child.orelse:
                    visit_stmt(stmt, kind)
                continue
            visit_stmt(child, child_kind)

    def visit_stmt(node: ast.AST, kind: str) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, alias.name, node.lineno, kind))
        elif isinstance(node, ast.ImportFrom):
            for target in _resolve(module, is_package, node):
                found.append(Import(module, target, node.lineno, kind))
        visit(node, kind)

    visit(tree, "module")
    return [i for i in found if i.target == PACKAGE or i.target.startswith(PACKAGE + ".")]


def app_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == PACKAGE else None


def collect(root: Path = ROOT) -> list[Import]:
    imports: list[Import] = []
    for path in sorted(root.rglob("*.py")):
        if not _skipped(path, root):
            imports.extend(imports_of(path, root))
    return imports


def cross_app(imports: list[Import]) -> list[Import]:
    out = []
    for imp in imports:
        src, dst = app_of(imp.source), app_of(imp.target)
        if src and dst and src != dst:
            out.append(imp)
    return out


def graph(imports: list[Import], kinds: set[str]) -> dict[str, set[str]]:
    g: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        if imp.kind in kinds:
            g[app_of(imp.source)].add(app_of(imp.target))
    return g


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one app (Tarjan), largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    nodes = sorted(set(g) | {d for ds in g.values() for d in ds})

    def strongconnect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in nodes:
        if v not in index:
            strongconnect(v)
    return sorted(found, key=lambda c: (-len(c), c))


def two_cycles(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Pairs of apps importing each other directly (the shortest loops, easiest to read)."""
    return sorted((a, b) for a in g for b in g[a] if a < b and a in g.get(b, ()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", action="store_true", help="list the imports behind each edge")
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="the fincrm package to read (an export of HEAD)",
    )
    args = parser.parse_args(argv)

    imports = cross_app(collect(args.root.resolve()))
    counts = defaultdict(int)
    for imp in imports:
        counts[imp.kind] += 1
    print(
        f"cross-app imports: {len(imports)} "
        f"(module-level {counts['module']}, function-local {counts['local']}, "
        f"TYPE_CHECKING {counts['typing']})"
    )

    g_all = graph(imports, {"module", "local"})
    g_mod = graph(imports, {"module"})
    per_edge: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for imp in imports:
        per_edge[(app_of(imp.source), app_of(imp.target))][imp.kind] += 1

    print("\napp graph (app -> apps it imports; * = at least one module-level import)")
    for app in sorted(set(g_all) | {d for ds in g_all.values() for d in ds}):
        targets = sorted(g_all.get(app, ()))
        shown = [f"{t}{'*' if t in g_mod.get(app, ()) else ''}" for t in targets]
        print(f"  {app:12} -> {', '.join(shown) or '-'}")

    for title, g in (("all imports", g_all), ("module-level imports only", g_mod)):
        comps = cycles(g)
        pairs = two_cycles(g)
        print(f"\ncycles over {title}: {len(comps)} strongly connected component(s)")
        for comp in comps:
            edges = sum(1 for a in comp for b in g.get(a, ()) if b in comp)
            print(f"  {len(comp)} apps, {edges} edges: {', '.join(comp)}")
        print(f"  mutual pairs (a <-> b): {len(pairs)}")
        for a, b in pairs:
            ab, ba = per_edge[(a, b)], per_edge[(b, a)]
            print(
                f"    {a} <-> {b}   "
                f"{a}->{b}: {ab['module']} module / {ab['local']} local; "
                f"{b}->{a}: {ba['module']} module / {ba['local']} local"
            )

    mod_comps = cycles(g_mod)
    if mod_comps:
        print("\nmodule-level imports inside module-level cycles (what start-up must resolve)")
        for comp in mod_comps:
            for imp in sorted(imports, key=lambda i: (i.source, i.line)):
                if (
                    imp.kind == "module"
                    and app_of(imp.source) in comp
                    and app_of(imp.target) in comp
                ):
                    print(f"  {imp.source}:{imp.line} -> {imp.target}")

    if args.edges:
        print("\nevery cross-app import")
        for imp in sorted(imports, key=lambda i: (i.source, i.line)):
            print(f"  [{imp.kind:6}] {imp.source}:{imp.line} -> {imp.target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
