"""Local stand-ins for the providers: a real HTTP server on 127.0.0.1 per test, answering as
the provider documents (its checks written here independently of the adapters' code)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))


@dataclass
class FakeServer:
    """Answers each request with ``handler(request) -> (status, payload)``; keeps them all."""

    handler: Callable[[Request], tuple[int, object]]
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                split = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=split.path,
                    query=dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True)),
                    raw_query=split.query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                outer.requests.append(request)
                status, payload = outer.handler(request)
                raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
