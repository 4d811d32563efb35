"""The demo's staff development: courses per role and records in every state."""

from __future__ import annotations

from datetime import date

import pytest

from fincrm.accounts.choices import Role
from fincrm.demo.training import COURSES, create_training_demo
from fincrm.staff.models import Course, TrainingRecord
from fincrm.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_records_training_of_the_required_courses_once():
    people = [UserFactory(role=Role.ACCOUNT_MANAGER) for _ in range(4)]
    written = create_training_demo(as_of=date(2026, 6, 30))
    assert Course.objects.count() == len(COURSES)
    records = TrainingRecord.objects.filter(user__in=people)
    assert written == records.count() > 0
    assert {r.course.code for r in records} <= {"aml", "credit", "service"}
    assert any(r.expires_on and r.expires_on < date(2026, 6, 30) for r in records)  # expired
    assert create_training_demo(as_of=date(2026, 6, 30)) == 0
