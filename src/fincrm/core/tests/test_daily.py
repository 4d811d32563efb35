"""The daily jobs' registry: each app registers its steps, ``fincrm daily`` runs them in
order and prints one line per step."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from fincrm.core import daily

#: The steps of ``fincrm daily`` and their order, as before the registry (printed lines).
STEPS = [
    "care_tasks",
    "care_messages",
    "maturity_follow_ups",
    "escalated_tickets",
    "expired_points_entries",
    "annual_survey_invitations",
    "collection_actions",
    "renewal_applications",
    "green_channel_routes",
    "client_reports",
    "external_checks",
    "scheduled_campaigns",
    "use_of_funds_checklists",
    "cover_expiry_reminders",
    "programme_tasks",
    "programme_tasks_withdrawn",
]


def test_the_apps_register_every_daily_step_in_its_order():
    assert [step.name for step in daily.steps()] == STEPS


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(daily, "_steps", {})
    return daily


def test_the_command_runs_the_steps_in_order_with_the_day_and_prints_a_line_each(registry):
    seen = []
    registry.register("second", lambda as_of: seen.append(("second", as_of)) or 1_234, order=20)
    registry.register("first", lambda as_of: seen.append(("first", as_of)) or 0, order=10)
    registry.register("first", lambda as_of: seen.append(("first", as_of)) or 0, order=10)
    out = StringIO()
    call_command("daily", as_of=date(2027, 2, 6), stdout=out)
    assert seen == [("first", date(2027, 2, 6)), ("second", date(2027, 2, 6))]
    assert out.getvalue() == "first: 0\nsecond: 1,234\n"


def test_a_failing_step_is_raised_and_the_steps_after_it_do_not_run(registry):
    seen = []

    def broken(as_of):
        raise RuntimeError("gateway down")

    registry.register("before", lambda as_of: seen.append("before") or 1, order=1)
    registry.register("broken", broken, order=2)
    registry.register("after", lambda as_of: seen.append("after") or 1, order=3)
    with pytest.raises(RuntimeError, match="gateway down"):
        registry.run_daily(as_of=date(2027, 2, 6))
    assert seen == ["before"]


def test_two_steps_cannot_share_an_order(registry):
    registry.register("one", lambda as_of: 0, order=5)
    with pytest.raises(ValueError):
        registry.register("two", lambda as_of: 0, order=5)
