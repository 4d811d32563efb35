"""Response headers every page gets: a strict Content-Security-Policy (no CDN, no inline
script from elsewhere) and a permissions policy; a number too large for the database is the
client's error (400), not the server's; an htmx request whose session has ended sends the
whole page to the login form instead of loading the form into a fragment."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import resolve_url

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


class HtmxLoginRedirectMiddleware:
    """An htmx request (the bell, a partial) answered by a redirect to the login page, because
    the session has ended or the cookies were cleared, gets ``204`` with ``HX-Redirect`` to
    the login page for the page the user is on, instead of a 302 the browser would follow
    inside the request. Followed there, the login page would be swapped into the fragment, and
    its response would set a new CSRF cookie under the login form already shown in the tab, so
    that form's next submission fails (a browser test caught that race: the bell of the page
    before a log-out, loaded just after the cookies were cleared)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.headers.get("HX-Request") != "true" or response.status_code != 302:
            return response
        login = resolve_url(settings.LOGIN_URL)
        if urlsplit(response["Location"]).path != login:
            return response
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        page = current.path if current.path.startswith("/") else "/"
        if current.query:
            page += "?" + current.query
        return HttpResponse(status=204, headers={"HX-Redirect": redirect_to_login(page).url})
