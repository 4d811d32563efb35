"""``customers.signals.customer_reassigned``: the client book tells the apps above it that a
client changed hands, inside the transaction of the change (engagement moves the open tasks)."""

from __future__ import annotations

import pytest
from django.db import connection

from fincrm.customers.models import Customer
from fincrm.customers.services import customer_update
from fincrm.customers.signals import customer_reassigned

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    calls = []

    def receiver(sender, *, customer, previous_owner_id, **kwargs):
        calls.append((sender, customer.pk, previous_owner_id, customer.owner_id))
        calls.append(connection.in_atomic_block)

    customer_reassigned.connect(receiver)
    yield calls
    customer_reassigned.disconnect(receiver)


def test_a_new_owner_is_announced_inside_the_transaction(book, users, heard):
    firm = book["a_company"]
    old, new = users["manager_a"], users["manager_b"]
    customer_update(customer=firm, data={"owner": new, "team": new.team})
    assert heard == [(Customer, firm.pk, old.pk, new.pk), True]


def test_other_changes_announce_no_reassignment(book, heard):
    customer_update(customer=book["a_company"], data={"address": "上海市浦东新区"})
    assert heard == []


def test_a_receivers_failure_rolls_the_reassignment_back(book, users):
    firm = book["a_company"]

    def fail(sender, **kwargs):
        raise RuntimeError("tasks could not move")

    customer_reassigned.connect(fail)
    try:
        with pytest.raises(RuntimeError):
            customer_update(
                customer=firm, data={"owner": users["manager_b"], "team": users["manager_b"].team}
            )
    finally:
        customer_reassigned.disconnect(fail)
    assert Customer.objects.get(pk=firm.pk).owner == users["manager_a"]


def test_engagement_listens(book, users):
    from fincrm.engagement.services import tasks_follow_owner

    firm = book["a_company"]
    replies = customer_reassigned.send(
        sender=Customer, customer=firm, previous_owner_id=users["manager_b"].pk
    )
    assert (tasks_follow_owner, 0) in replies  # connected; no open task of manager_b to move
