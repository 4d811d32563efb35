"""The request loop both workers share (stdlib and Django only: it runs in either venv).

A worker is a long-lived process holding one CRM's Django loaded, DEBUG off. It reads one JSON
command a line on stdin and answers one JSON line on the protocol stream (the process's real
stdout; anything the CRM prints goes to stderr):

    {"op": "cases"}              -> {"cases": {name: {"user": ..., "path": ..., "note": ...}}}
    {"op": "get", "case": name}  -> {"ms": wall ms, "queries": n, "status": 200, "bytes": n}
    {"op": "import", "rows": n}  -> the CRM's own import of n new rows (see each worker)
    {"op": "quit"}

A request is the test client's ``get`` (the whole middleware stack, the view, the template
rendered), timed with ``perf_counter``; queries are counted by a ``connection.execute_wrapper``
(a counter, no SQL formatting), on every request.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback


def protocol_stream():
    """The real stdout for the protocol; sys.stdout becomes stderr (the CRMs print)."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


class QueryCounter:
    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def timed_get(client, path, secure, host):
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        response = client.get(path, secure=secure, HTTP_HOST=host)
        content = response.content  # rendered by then; read so nothing is lazy
        ms = (time.perf_counter() - started) * 1000
    return {"ms": ms, "queries": counter.n, "status": response.status_code, "bytes": len(content)}


def serve(out, cases: dict, clients: dict, do_import, secure: bool, host: str) -> None:
    """Answer the driver. out: from protocol_stream(); cases: name -> {"user": a key of
    clients, "path": ..., "note": ...}."""
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        try:
            if op == "cases":
                answer = {"cases": cases, "pid": os.getpid()}
            elif op == "get":
                case = cases[command["case"]]
                answer = timed_get(clients[case["user"]], case["path"], secure, host)
            elif op == "import":
                answer = do_import(command["rows"])
            elif op == "quit":
                out.write(json.dumps({"bye": True}) + "\n")
                return
            else:
                answer = {"error": f"unknown op {op}"}
        except Exception:
            answer = {"error": traceback.format_exc()}
        out.write(json.dumps(answer) + "\n")
