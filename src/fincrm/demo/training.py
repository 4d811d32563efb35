"""Demo staff development (issue 24, point 7): the courses each role must hold and the demo
staff's training records — most current, one expiring soon, one expired, one missing — so
the training pages show every state."""

from __future__ import annotations

from datetime import date, timedelta

from fincrm.accounts.choices import Role
from fincrm.accounts.models import User
from fincrm.staff.models import Course, TrainingRecord
from fincrm.staff.services import add_months

#: (code, name, roles that must hold it, months a completion stays valid)
COURSES = (
    ("aml", "反洗钱与合规培训", [Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.SERVICE_AGENT], 12),
    ("credit", "授信尽职调查实务", [Role.ACCOUNT_MANAGER, Role.RISK_OFFICER], 24),
    ("service", "客户服务与投诉处理", [Role.SERVICE_AGENT, Role.ACCOUNT_MANAGER], None),
    ("lead", "团队管理与绩效辅导", [Role.TEAM_LEAD], 36),
)


def create_training_demo(*, as_of: date) -> int:
    """The courses (by code) and, for each demo user, a record of each course its role
    requires, taken some months before ``as_of``; a record of the same day is not repeated.
    Returns the records written."""
    courses = []
    for code, name, roles, months in COURSES:
        course, _created = Course.objects.update_or_create(
            code=code,
            defaults={"name": name, "required_roles": [r.value for r in roles],
                      "validity_months": months},
        )  # fmt: skip
        courses.append(course)
    people = User.objects.exclude(role="").filter(is_active=True).order_by("pk")
    written = 0
    for n, person in enumerate(people):
        for k, course in enumerate(c for c in courses if person.role in c.required_roles):
            if (n + k) % 9 == 4:
                continue  # a required course not taken yet: flagged on the page
            taken = as_of - timedelta(days=[40, 200, 345, 400][(n + k) % 4])
            expires = add_months(taken, course.validity_months) if course.validity_months else None
            _record, created = TrainingRecord.objects.get_or_create(
                user=person, course=course, taken_on=taken,
                defaults={"completed": True, "score": 70 + (n * 7 + k * 3) % 30,
                          "expires_on": expires},
            )  # fmt: skip
            written += created
    return written
