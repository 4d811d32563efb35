"""Shared fixtures: the named users of every role (STYLE.md) and a client for each manager.

``manager_a`` (team 华东一组) and ``manager_b`` (team 华南一组) are account managers;
``lead`` leads 华东事业部, the parent of 华东一组; ``risk``, ``agent``, ``exec`` and ``admin``
have their roles; ``outsider`` has none.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

os.environ.setdefault("FINCRM_DEBUG", "1")


@pytest.fixture
def teams(db):
    from fincrm.accounts.models import Team

    root = Team.objects.create(name="总部")
    east = Team.objects.create(name="华东事业部", parent=root)
    east1 = Team.objects.create(name="华东一组", parent=east)
    south = Team.objects.create(name="华南事业部", parent=root)
    south1 = Team.objects.create(name="华南一组", parent=south)
    return {"root": root, "east": east, "east1": east1, "south": south, "south1": south1}


@pytest.fixture
def users(teams):
    from fincrm.accounts.choices import Role
    from fincrm.testing.factories import UserFactory

    return {
        "manager_a": UserFactory(
            username="manager_a", role=Role.ACCOUNT_MANAGER, team=teams["east1"]
        ),
        "manager_b": UserFactory(
            username="manager_b", role=Role.ACCOUNT_MANAGER, team=teams["south1"]
        ),
        "lead": UserFactory(username="lead", role=Role.TEAM_LEAD, team=teams["east"]),
        "risk": UserFactory(username="risk", role=Role.RISK_OFFICER, team=teams["root"]),
        "agent": UserFactory(username="agent", role=Role.SERVICE_AGENT, team=teams["root"]),
        "exec": UserFactory(username="exec", role=Role.EXECUTIVE, team=teams["root"]),
        "admin": UserFactory(
            username="admin", role=Role.ADMIN, team=teams["root"], is_staff=True, is_superuser=True
        ),
        "outsider": UserFactory(username="outsider", role="", team=None),
    }


@pytest.fixture
def book(users):
    """One company and one person for each manager."""
    from fincrm.testing.factories import CustomerFactory

    return {
        "a_company": CustomerFactory(owner=users["manager_a"], name="苏州恒瑞精密机械有限公司"),
        "a_person": CustomerFactory(owner=users["manager_a"], person=True, name="王建国"),
        "b_company": CustomerFactory(owner=users["manager_b"], name="深圳华信供应链管理有限公司"),
        "b_person": CustomerFactory(owner=users["manager_b"], person=True, name="陈美玲"),
    }


@pytest.fixture
def bearer(db):
    """API headers for a user: a fresh bearer token each call."""
    from fincrm.api.models import ApiToken

    def _bearer(user):
        _token, plain = ApiToken.issue(user=user, name="test")
        return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}

    return _bearer


@pytest.fixture
def login(client):
    """Log a named user in with the Django test client."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


#: The day the ``clock`` fixture stops at: a mid-month weekday, so a schedule built back from
#: it has the same arrears whatever the real date.
FIXED_TODAY = date(2026, 6, 15)


def _shanghai_morning(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _today_from_environment():
    """``FINCRM_TEST_TODAY=YYYY-MM-DD`` runs every test as if it were that day, the clock
    ticking from 10:00 in Shanghai. CI runs the suite again at a month end and on 29 February,
    so a test that passes only on some days of the month fails at once."""
    day = os.environ.get("FINCRM_TEST_TODAY")
    if not day:
        yield
        return
    with time_machine.travel(_shanghai_morning(date.fromisoformat(day)), tick=True):
        yield


@pytest.fixture
def clock():
    """Today is ``FIXED_TODAY`` (10:00 in Shanghai, ticking) for tests whose fixtures count days
    back from today: arrears, due dates, SLA clocks."""
    with time_machine.travel(_shanghai_morning(FIXED_TODAY), tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests hash dozens of passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (cached pages and rate-limit counters are keyed by
    ids that a rolled-back test database hands out again)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files of a test go to its temporary folder, not to var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def replica(settings, monkeypatch):
    """Dashboards read from the ``reporting`` alias (in tests a mirror of the test database,
    on its own connection, as a streaming replica would be). ``replica.reads()`` collects the
    SQL each connection ran, including PostgreSQL's ``COPY`` reads, which bypass the
    ``execute`` that Django's query capture sees. Needs ``transaction=True``: the mirror's
    connection sees committed rows only."""
    from contextlib import contextmanager

    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from fincrm.core import frames as features  # where the copy is called

    settings.FINCRM_REPORTING_DATABASE = "reporting"
    copies: list[tuple[str, str]] = []
    real_copy = features._postgres_copy

    def spy(connection, sql, params, schema):
        copies.append((connection.alias, sql))
        return real_copy(connection, sql, params, schema)

    monkeypatch.setattr(features, "_postgres_copy", spy)

    @contextmanager
    def reads():
        seen: dict[str, list[str]] = {"default": [], "reporting": []}
        copies.clear()
        with (
            CaptureQueriesContext(connections["default"]) as primary,
            CaptureQueriesContext(connections["reporting"]) as mirror,
        ):
            yield seen
        seen["default"] += [q["sql"] for q in primary.captured_queries]
        seen["reporting"] += [q["sql"] for q in mirror.captured_queries]
        for alias, sql in copies:
            seen[alias].append(sql)

    return reads
