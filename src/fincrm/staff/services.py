"""Writes of the staff app: a training record entered by a lead or an admin."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

from django.db import transaction

from .models import Course, TrainingRecord


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, on the month's last day when the day does not exist."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


@transaction.atomic
def training_record_create(
    *,
    user,
    course: Course,
    taken_on: date,
    completed: bool,
    recorded_by,
    score: Decimal | None = None,
    certificate=None,
) -> TrainingRecord:
    """Record one sitting of a course. A completion of a course with a validity expires that
    many months after it was taken; the record is audited (simple_history, who entered it)."""
    expires_on = None
    if completed and course.validity_months:
        expires_on = add_months(taken_on, course.validity_months)
    record = TrainingRecord(
        user=user, course=course, taken_on=taken_on, completed=completed, score=score,
        expires_on=expires_on, recorded_by=recorded_by,
    )  # fmt: skip
    if certificate:
        record.certificate = certificate
    record._history_user = recorded_by  # type: ignore[attr-defined]  # simple_history, no stubs
    record.full_clean()
    record.save()
    return record
