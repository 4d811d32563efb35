"""The event hook: receivers hear of a change after the commit, and never of a rolled-back one."""

import pytest
from django.db import transaction

from fincrm.core import events

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def heard():
    calls: list[dict] = []

    def receiver(**payload):
        calls.append(payload)

    events.subscribe("test.happened", receiver)
    events.subscribe("test.happened", receiver)  # subscribing twice is once
    yield calls
    events.unsubscribe("test.happened", receiver)


def test_a_receiver_hears_after_commit_once(heard):
    with transaction.atomic():
        events.publish("test.happened", customer_id=7)
        assert heard == []  # not before the commit
    assert heard == [{"customer_id": 7}]


def test_a_rolled_back_change_announces_nothing(heard):
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish("test.happened", customer_id=7)
        raise RuntimeError("the write failed")
    assert heard == []


def test_an_event_nobody_listens_to_is_a_no_op():
    with transaction.atomic():
        events.publish("nobody.listens", x=1)


def test_evaluation_listens_to_customer_changes():
    from fincrm.evaluation.tasks import customer_reevaluate

    assert customer_reevaluate in events.receivers(events.CUSTOMER_CHANGED)
