#!/usr/bin/env python3
"""Side by side: django-crm and fincrm, each in a long-lived worker process of its own venv,
requests interleaved A/B over pipes (one request at a time: the two never run at once).

    python3 scripts/side_by_side/driver.py --n 50                # the pages
    python3 scripts/side_by_side/driver.py --import-rows 10000   # the imports, on copies

For each case, after ``--warmup`` requests per side, ``--n`` rounds: in each round one request
to each side, the side that goes first alternating round by round. Reported per side: median,
p95 (nearest rank), queries per request (every request counted), and the ratio of medians
(django-crm / fincrm). ``--json`` writes every timing. Stdlib only: any python3 runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DJCRM_SRC = Path(os.environ.get("DJCRM_SRC", "/tmp/djcrm"))
DJCRM_VENV = Path(os.environ.get("DJCRM_VENV", "/tmp/djcrm-venv"))
DJCRM_DB = os.environ.get("DJCRM_DB", "/tmp/djcrm-data/crm.sqlite3")
FINCRM_ROOT = Path(os.environ.get("FINCRM_ROOT", HERE.parent.parent))
#: The fincrm source measured: by default the checkout's; a ``git archive`` export of a commit
#: (``FINCRM_SRC=/tmp/fincrm-head/src``) measures that commit with the checkout's venv.
FINCRM_SRC = Path(os.environ.get("FINCRM_SRC", FINCRM_ROOT / "src"))
FINCRM_DB = os.environ.get("FINCRM_DB", "/tmp/fincrm_perf/book-100000.sqlite3")
CASES = [
    ("list_restricted", "list, first page, restricted user"),
    ("list_superuser", "list, first page, superuser"),
    ("search_few_restricted", "search, a few matches, restricted user"),
    ("search_none_restricted", "search, no match, restricted user"),
    ("search_few_superuser", "search, a few matches, superuser"),
]


class Worker:
    def __init__(self, name: str, cmd: list[str], cwd: Path, env: dict):
        self.name = name
        self.log = open(f"/tmp/sbs-{name}-worker.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env={**os.environ, **env}, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1,
        )  # fmt: skip

    def ask(self, **command) -> dict:
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} worker died: see {self.log.name}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.name}: {answer['error']}")
        return answer

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, BrokenPipeError):
            self.ask(op="quit")
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # its own child, by its handle
        self.log.close()


def djcrm_worker(db: str) -> Worker:
    return Worker(
        "django-crm",
        [str(DJCRM_VENV / "bin" / "python"), str(HERE / "djcrm_worker.py")],
        DJCRM_SRC,
        {"DJANGO_SETTINGS_MODULE": "djcrm_settings", "PYTHONPATH": f"{HERE}:{DJCRM_SRC}",
         "DJCRM_DB": db},
    )  # fmt: skip


def fincrm_worker(db: str) -> Worker:
    return Worker(
        "fincrm",
        [str(FINCRM_ROOT / ".venv" / "bin" / "python"), str(HERE / "fincrm_worker.py")],
        FINCRM_ROOT,
        {"FINCRM_DATABASE_URL": f"sqlite:///{db}", "FINCRM_DEBUG": "0",
         "FINCRM_SECRET_KEY": "side-by-side-bench-not-a-secret",
         "PYTHONPATH": f"{HERE}:{FINCRM_SRC}"},
    )  # fmt: skip


def load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def pages(args) -> dict:
    sides = [djcrm_worker(DJCRM_DB), fincrm_worker(FINCRM_DB)]
    try:
        infos = {w.name: w.ask(op="cases")["cases"] for w in sides}
        wanted = [c for c in CASES if not args.cases or c[0] in args.cases]
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        results = {"started": started, "load_start": load(), "n": args.n, "cases": {}}
        print(f"{started} · load {results['load_start']} · n = {args.n}", flush=True)
        for key, label in wanted:
            for w in sides:
                for _ in range(args.warmup):
                    w.ask(op="get", case=key)
            samples = {w.name: [] for w in sides}
            for i in range(args.n):
                for w in sides if i % 2 == 0 else reversed(sides):
                    answer = w.ask(op="get", case=key)
                    if answer["status"] != 200:
                        raise RuntimeError(f"{w.name} {key}: HTTP {answer['status']}")
                    samples[w.name].append(answer)
            row = {"label": label}
            for w in sides:
                ms = [s["ms"] for s in samples[w.name]]
                queries = sorted({s["queries"] for s in samples[w.name]})
                row[w.name] = {
                    "median_ms": statistics.median(ms), "p95_ms": p95(ms), "queries": queries,
                    "bytes": samples[w.name][-1]["bytes"], "note": infos[w.name][key].get("note"),
                    "ms": ms,
                }  # fmt: skip
            row["ratio"] = row["django-crm"]["median_ms"] / row["fincrm"]["median_ms"]
            results["cases"][key] = row
            a, b = row["django-crm"], row["fincrm"]
            print(
                f"{label}: django-crm {a['median_ms']:.1f} ms (p95 {a['p95_ms']:.1f}, "
                f"{'/'.join(map(str, a['queries']))} q) · fincrm {b['median_ms']:.1f} ms "
                f"(p95 {b['p95_ms']:.1f}, {'/'.join(map(str, b['queries']))} q) · "
                f"{row['ratio']:.1f}× · load {load()}",
                flush=True,
            )
        results["load_end"] = load()
        results["info"] = {
            name: next(iter(cases.values()))["info"] for name, cases in infos.items()
        }
        results["notes"] = {
            name: {k: c.get("note") for k, c in cases.items()} for name, cases in infos.items()
        }
        return results
    finally:
        for w in sides:
            w.close()


def imports(args) -> dict:
    """Each side imports ``--import-rows`` new rows into a fresh copy of its book, the sides
    alternating run by run."""
    results = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "runs": []}
    for run in range(args.import_runs):
        order = ["django-crm", "fincrm"] if run % 2 == 0 else ["fincrm", "django-crm"]
        for name in order:
            source = DJCRM_DB if name == "django-crm" else FINCRM_DB
            copy = f"/tmp/sbs-import-{name}.sqlite3"
            with sqlite3.connect(source) as db:  # the copy must hold what the WAL holds
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copyfile(source, copy)
            worker = djcrm_worker(copy) if name == "django-crm" else fincrm_worker(copy)
            try:
                worker.ask(op="cases")
                before = load()
                answer = worker.ask(op="import", rows=args.import_rows)
            finally:
                worker.close()
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(copy + suffix).unlink(missing_ok=True)
            answer.update(side=name, run=run, load_before=before, load_after=load())
            results["runs"].append(answer)
            print(json.dumps(answer), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--cases", nargs="*", help="default: all of " + ", ".join(c for c, _ in CASES)
    )
    parser.add_argument("--import-rows", type=int, help="measure the imports instead")
    parser.add_argument("--import-runs", type=int, default=2)
    parser.add_argument("--json", help="write the results (every timing) here")
    args = parser.parse_args()
    results = imports(args) if args.import_rows else pages(args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False))
    if not args.import_rows:
        print(
            "\n| measure | django-crm median (queries) | fincrm median (queries) | ratio "
            "| django-crm p95 | fincrm p95 |\n|---|---:|---:|---:|---:|---:|"
        )
        for row in results["cases"].values():
            a, b = row["django-crm"], row["fincrm"]
            print(
                f"| {row['label']} | {a['median_ms']:.1f} ms ({'/'.join(map(str, a['queries']))}) "
                f"| {b['median_ms']:.1f} ms ({'/'.join(map(str, b['queries']))}) "
                f"| {row['ratio']:.1f}× | {a['p95_ms']:.1f} | {b['p95_ms']:.1f} |"
            )
        print(
            json.dumps(
                {
                    "info": results["info"],
                    "notes": results["notes"],
                    "load": [results["load_start"], results["load_end"]],
                },
                ensure_ascii=False,
                indent=1,
            )
        )


if __name__ == "__main__":
    sys.exit(main())
