"""Factories for staff development: courses and training records."""

from __future__ import annotations

from datetime import date

import factory

from fincrm.accounts.choices import Role
from fincrm.staff.models import Course, TrainingRecord

from .accounts import UserFactory

__all__ = ["CourseFactory", "TrainingRecordFactory"]


class CourseFactory(factory.django.DjangoModelFactory):
    """A course every account manager must hold, valid for a year."""

    class Meta:
        model = Course
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"course-{n}")
    name = factory.Sequence(lambda n: f"反洗钱合规培训{n}")
    required_roles = factory.LazyFunction(lambda: [Role.ACCOUNT_MANAGER.value])
    validity_months = 12


class TrainingRecordFactory(factory.django.DjangoModelFactory):
    """A completed sitting (its expiry as the service sets it: a year later)."""

    class Meta:
        model = TrainingRecord

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)
    taken_on = date(2026, 3, 10)
    completed = True
    score = 92
    expires_on = date(2027, 3, 10)
