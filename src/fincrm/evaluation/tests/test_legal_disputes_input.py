"""Open legal disputes in the value tiering (issue 21, point 5): legal findings of external
checks open on the run's day, 0 for a client checked clean, unknown for one never checked."""

from datetime import UTC, date, datetime

import pytest

from fincrm.checks.choices import CheckStatus, FindingCategory
from fincrm.evaluation.features import load_features
from fincrm.testing.factories import CustomerFactory
from fincrm.testing.factories.checks import ExternalCheckFactory, FindingFactory

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)
MAY = datetime(2026, 5, 1, tzinfo=UTC)


def test_open_legal_findings_are_counted_per_checked_client(users):
    owner = users["manager_a"]
    disputed, clean, never, failed, later = (CustomerFactory(owner=owner) for _ in range(5))
    check = ExternalCheckFactory(customer=disputed, checked_at=MAY)
    for category in (FindingCategory.DISHONEST, FindingCategory.LITIGATION):
        FindingFactory(customer=disputed, category=category, first_seen=check, first_seen_at=MAY)
    # Not counted: resolved by the run's day, a penalty (not a legal dispute), one reported
    # after the run's day.
    FindingFactory(customer=disputed, category=FindingCategory.ENFORCEMENT, first_seen=check,
                   first_seen_at=MAY, resolved_at=datetime(2026, 6, 1, tzinfo=UTC))  # fmt: skip
    FindingFactory(customer=disputed, category=FindingCategory.PENALTY, first_seen=check,
                   first_seen_at=MAY)  # fmt: skip
    FindingFactory(customer=disputed, category=FindingCategory.LITIGATION, first_seen=check,
                   first_seen_at=datetime(2026, 7, 2, tzinfo=UTC))  # fmt: skip
    ExternalCheckFactory(customer=clean, checked_at=MAY)
    ExternalCheckFactory(customer=failed, checked_at=MAY, status=CheckStatus.FAILED)
    ExternalCheckFactory(customer=later, checked_at=datetime(2026, 7, 2, tzinfo=UTC))

    ids = [c.pk for c in (disputed, clean, never, failed, later)]
    rows = {
        r["customer_id"]: r["open_legal_disputes"]
        for r in load_features(as_of=AS_OF, customer_ids=ids).rows(named=True)
    }
    assert rows == {disputed.pk: 2, clean.pk: 0, never.pk: None, failed.pk: None, later.pk: None}
