"""Local fake data sources on 127.0.0.1: 企查查's open API as its documentation describes the
request (Token = upper-case MD5 of AppKey + Timespan + SecretKey, headers Token and Timespan,
query key and searchKey), and a generic JSON source."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from fincrm.checks.providers import qcc_token

APP_KEY, SECRET = "appkey123", "secret456"


@contextmanager
def serve(handler_factory):
    requests: list[dict] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_factory(requests))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def qcc_handler(results: dict[str, list[dict]], *, status: str = "200", quota: bool = False):
    """``results``: endpoint path → rows; an endpoint not listed answers 201 (nothing)."""

    def factory(requests):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return None

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                path = parts.path.lstrip("/")
                requests.append({"path": path, "query": query, "headers": dict(self.headers)})
                expected = qcc_token(APP_KEY, self.headers.get("Timespan", ""), SECRET)
                if query.get("key") != APP_KEY or self.headers.get("Token") != expected:
                    body = {"Status": "101", "Message": "鉴权失败", "Result": None}
                elif quota:
                    body = {"Status": "301", "Message": "套餐额度不足", "Result": None}
                elif not query.get("searchKey"):
                    body = {"Status": "201", "Message": "缺少参数", "Result": None}
                elif path in results:
                    body = {"Status": status, "Message": "查询成功", "Result": results[path]}
                else:
                    body = {"Status": "201", "Message": "查询无结果", "Result": None}
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    return factory


def json_handler(findings: list[dict], *, code: int = 200):
    def factory(requests):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return None

            def do_GET(self):
                parts = urlsplit(self.path)
                requests.append({k: v[0] for k, v in parse_qs(parts.query).items()})
                data = json.dumps({"findings": findings}, ensure_ascii=False).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    return factory
