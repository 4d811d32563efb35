"""Issue 20's webhook edges: the subscriber is called with no transaction open, every failed
attempt queues its retry whoever made it (the sweeper included), a delivery is claimed by one
worker at a time, and the sweep is scheduled."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fincrm.webhooks import events, services
from fincrm.webhooks.models import Delivery, Subscriber
from fincrm.webhooks.tasks import SWEEP_EVERY, schedule_sweep, sweep

from .test_webhooks import _due_now, receiver  # noqa: F401  (the fixture)


def _jobs(name: str):
    return DBTaskResult.objects.filter(task_path=f"fincrm.webhooks.tasks.{name}")


@pytest.mark.django_db(transaction=True)
def test_the_subscriber_is_called_with_no_transaction_open(receiver, monkeypatch):  # noqa: F811
    hook = receiver([200])
    Subscriber.objects.create(name="core", url=hook.url)
    events.emit(events.Event.PAYMENT_MISSED, [{"installment": 7}])
    seen = []
    real_post = services._post

    def spy(delivery):
        seen.append(connection.in_atomic_block)
        return real_post(delivery)

    monkeypatch.setattr(services, "_post", spy)
    assert services.deliver_pending() == 1
    assert seen == [False]
    assert Delivery.objects.get().status == "delivered"


@pytest.mark.django_db
def test_a_failed_attempt_of_the_sweeper_queues_its_retry_at_the_back_off_time(
    receiver,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    down = receiver([503])
    Subscriber.objects.create(name="core", url=down.url)
    events.emit(events.Event.ALERT_RAISED, [{"alert": 1}])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.deliver_pending() == 1  # the sweeper, not a worker's job
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    (job,) = _jobs("deliver_one")
    assert job.args_kwargs["args"] == [delivery.pk]
    assert job.run_after == delivery.next_attempt_at
    # The retry job sends it at that time; a delivered one queues nothing more.
    _due_now()
    with django_capture_on_commit_callbacks(execute=True):
        assert job.task.call(delivery.pk) is True
    assert Delivery.objects.get().status == "delivered"
    assert _jobs("deliver_one").count() == 1


@pytest.mark.django_db
def test_a_delivery_being_sent_is_not_sent_again_by_another_worker(receiver):  # noqa: F811
    hook = receiver([200])
    Subscriber.objects.create(name="core", url=hook.url)
    events.emit(events.Event.TIER_CHANGED, [{"customer": 1}])
    delivery = Delivery.objects.get()
    now = timezone.now()
    # Another worker's claim: the next attempt pushed past the request's time-out.
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + services.LEASE)
    assert services.attempt(delivery.pk) is None and hook.received == []
    # A worker that died mid-request: once the lease is over, the delivery is due again.
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now - timedelta(seconds=1))
    assert services.attempt(delivery.pk).status == "delivered"


@pytest.mark.django_db
def test_the_sweep_is_scheduled_once_and_queues_the_next_one(monkeypatch):
    assert schedule_sweep() is not None
    assert schedule_sweep() is None  # one chain only
    (job,) = _jobs("sweep")
    assert job.run_after - timezone.now() <= SWEEP_EVERY
    tried = []
    monkeypatch.setattr(services, "deliver_pending", lambda: tried.append(1) or 0)
    DBTaskResult.objects.all().delete()  # as the worker takes it
    assert sweep.call() == 0 and tried == [1]
    assert _jobs("sweep").count() == 1  # the next sweep
