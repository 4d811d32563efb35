"""Schemathesis against the OpenAPI schema: generated requests (valid and invalid) to every
operation, a bounded number per operation, with a manager's token. No 500s, and every
response matches its documented schema (4xx error codes the schema does not list, and valid
requests refused by business rules — an id of someone else's client — are not failures)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import DatabaseError, close_old_connections, connection, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
)

from fincrm.api.models import ApiToken
from fincrm.testing.factories import FacilityFactory


def _app_in_test_transaction():
    """The WSGI app, minus Django's closing of database connections at the end of each
    request (what the test client does too): on PostgreSQL the test's transaction lives on
    that connection."""
    wsgi = get_wsgi_application()

    def app(environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        # Each request in a savepoint, as each request is its own transaction in production:
        # a refused value (a database error turned into a 400) must not poison the next one.
        savepoint = transaction.savepoint() if connection.in_atomic_block else None
        try:
            response = wsgi(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()
        finally:
            if savepoint is not None:
                try:
                    transaction.savepoint_commit(savepoint)
                except DatabaseError:
                    transaction.savepoint_rollback(savepoint)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return app


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _app_in_test_transaction())


@pytest.fixture
def token(book, users):
    FacilityFactory(customer=book["a_company"])
    _row, plain = ApiToken.issue(user=users["manager_a"], name="schemathesis")
    return plain


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,  # the same examples on every run: CI is stable; explore with a seed
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much],
)  # fmt: skip
def test_the_api_honours_its_schema(case, token):
    from django.core.cache import cache

    cache.clear()  # no rate limit in the way
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[
            not_a_server_error,
            response_schema_conformance,
            content_type_conformance,
            negative_data_rejection,
        ],
    )
