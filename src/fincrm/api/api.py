"""The REST API under ``/api/v1/`` (django-ninja): the same services and object permissions as
the pages, bearer tokens for other systems, the session for the browser, a rate limit per
token, cursor pagination on every list, precise 4xx JSON errors and never a 500 page."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.throttling import AuthRateThrottle

from .auth import Session, TokenAuth

log = logging.getLogger(__name__)


def _has_nul(value) -> bool:
    """A NUL anywhere in the JSON's strings (PostgreSQL text cannot hold one)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


_QUERY_NAMES: dict[tuple[str, str], frozenset[str]] = {}


def _query_names(request) -> frozenset[str] | None:
    """The query parameters the schema documents for the request's operation (``None`` when
    the request is not one of the schema's operations)."""
    if not _QUERY_NAMES:
        for path, operations in api.get_openapi_schema()["paths"].items():
            for method, operation in operations.items():
                _QUERY_NAMES[(method.upper(), path)] = frozenset(
                    p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
                )
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", match.route)
    return _QUERY_NAMES.get((request.method, path))


class ObjectBodyParser(Parser):
    """Request bodies are JSON objects: an array or a bare value is refused with 422 (ninja
    would otherwise read ``[null, null]`` as an empty object); a single-valued query parameter
    given twice is refused too (ninja would silently keep the last one)."""

    def parse_querydict(self, data, list_fields, request):
        allowed = _query_names(request) if data is request.GET else None
        unknown = [k for k in data if allowed is not None and k not in allowed]
        if unknown:
            # A misspelt or guessed filter (``?owner=`` for ``?owner_id=``) would otherwise be
            # ignored silently and the whole list answered.
            raise NinjaValidationError(
                [
                    {"loc": ["query", k], "msg": "not a parameter of this operation",
                     "type": "extra_forbidden"}
                    for k in unknown
                ]
            )  # fmt: skip
        nul = [k for k in data if any("\x00" in v for v in data.getlist(k))]
        if nul:
            raise NinjaValidationError(
                [
                    {"loc": ["query", k], "msg": "contains a NUL character", "type": "nul"}
                    for k in nul
                ]
            )
        repeated = [k for k in data if k not in list_fields and len(data.getlist(k)) > 1]
        if repeated:
            raise NinjaValidationError(
                [
                    {"loc": ["query", k], "msg": "given more than once", "type": "repeated"}
                    for k in repeated
                ]
            )
        return super().parse_querydict(data, list_fields, request)

    def parse_body(self, request):
        data = super().parse_body(request)
        if _has_nul(data):
            raise NinjaValidationError(
                [{"loc": ["body"], "msg": "contains a NUL character", "type": "nul"}]
            )
        if not isinstance(data, dict):
            raise NinjaValidationError(
                [{"loc": ["body"], "msg": "the body must be a JSON object", "type": "dict_type"}]
            )
        return data


api = NinjaAPI(
    parser=ObjectBodyParser(),
    title="fincrm API",
    version="1",
    description=(
        "Clients, applications, facilities, repayments, interactions, alerts and evaluation "
        "snapshots. Authenticate with `Authorization: Bearer <token>` (create tokens under "
        "your account) or the browser session. Lists are cursor-paginated: pass back `next`."
    ),
    urls_namespace="api-v1",
    auth=[TokenAuth(), Session()],
    throttle=[AuthRateThrottle(getattr(settings, "FINCRM_API_RATE", "600/m"))],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _messages(exc: ValidationError) -> dict | list:
    """{field: [messages]} for errors tied to fields, else [messages]."""
    return exc.message_dict if hasattr(exc, "error_dict") else exc.messages


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    return api.create_response(request, {"detail": _messages(exc)}, status=400)


@api.exception_handler(DataError)
def _bad_value(request, exc):
    """A value the database cannot store (out of range, invalid text): the client's input."""
    log.warning("API refused a value the database cannot take: %s %s: %s", request.method,
                request.get_full_path(), exc)  # fmt: skip
    return api.create_response(
        request, {"detail": "A value is out of range or not valid for storage."}, status=400
    )


@api.exception_handler(OverflowError)
def _out_of_range(request, exc):
    """An integer past 64 bits that no schema bounded reaches SQLite's driver this way."""
    log.warning("API refused a number out of range: %s %s: %s", request.method,
                request.get_full_path(), exc)  # fmt: skip
    return api.create_response(
        request, {"detail": "A number in the request is out of range."}, status=400
    )


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return api.create_response(request, {"detail": "You may not do this."}, status=403)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(NinjaValidationError)
def _schema(request, exc: NinjaValidationError):
    return api.create_response(request, {"detail": exc.errors}, status=422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return api.create_response(request, {"detail": "Authentication required."}, status=401)


@api.exception_handler(HttpError)
def _http(request, exc: HttpError):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(Exception)
def _unexpected(request, exc):
    """Never a stack trace to a client: log it, answer 500 with a reference-free message."""
    log.exception("API error on %s %s", request.method, request.path)
    return api.create_response(
        request, {"detail": "Internal error; it has been logged."}, status=500
    )


from fincrm.campaigns.api import register as register_campaigns  # noqa: E402
from fincrm.checks.api import register as register_checks  # noqa: E402
from fincrm.events.api import register as register_events  # noqa: E402
from fincrm.knowledge.api import register as register_knowledge  # noqa: E402
from fincrm.postloan.api import register as register_postloan  # noqa: E402

from . import routers, routers_more  # noqa: E402  (routers register on ``api``)

routers.register(api)
routers_more.register(api)
register_events(api)
register_postloan(api)
register_campaigns(api)
register_checks(api)
register_knowledge(api)
