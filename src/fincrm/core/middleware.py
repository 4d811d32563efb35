"""Response headers every page gets: a strict Content-Security-Policy (no CDN, no inline
script from elsewhere) and a permissions policy; a number too large for the database is the
client's error (400), not the server's."""

from __future__ import annotations

import logging

from django.http import HttpResponseBadRequest

log = logging.getLogger(__name__)

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


class OverflowIsBadRequestMiddleware:
    """The last line behind validated parameters (``fincrm.core.params``): an integer from
    the request that the database driver cannot bind (SQLite raises ``OverflowError`` past
    64 bits, e.g. ``?customer=<23 digits>`` in a filter no one bounded) answers 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OverflowError):
            return None
        log.warning("Refused a number out of range: %s %s: %s", request.method,
                    request.get_full_path(), exception)  # fmt: skip
        return HttpResponseBadRequest("A number in the request is out of range.")
