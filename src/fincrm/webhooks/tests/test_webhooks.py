"""Webhooks: signed JSON per event, retries with back-off, a log, redelivery; nothing lost
while a subscriber is down."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from fincrm.webhooks import events
from fincrm.webhooks.models import Delivery, Subscriber
from fincrm.webhooks.services import MAX_ATTEMPTS, backoff, deliver_pending, redeliver, verify

pytestmark = pytest.mark.django_db


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that answers with the codes it is given, in turn."""

    def __init__(self, codes):
        self.codes, self.received = list(codes), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                self.send_response(outer.codes.pop(0) if outer.codes else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(codes=()):
        made.append(Receiver(codes))
        return made[-1]

    yield make
    for r in made:
        r.close()


def _due_now():
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_delivery_is_signed_and_retried_with_back_off_until_it_arrives(receiver):
    down = receiver([500, 503])
    hook = Subscriber.objects.create(name="core", url=down.url, events=["payment.missed"])
    Subscriber.objects.create(name="other", url=down.url, events=["tier.changed"])

    assert events.emit(events.Event.PAYMENT_MISSED, [{"installment": 7, "amount_due": 105000}]) == 1
    before = timezone.now()
    deliver_pending()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert before + backoff(1) <= delivery.next_attempt_at <= timezone.now() + backoff(1)
    assert deliver_pending() == 0  # not due yet: nothing is sent early
    _due_now()
    deliver_pending()
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.next_attempt_at > timezone.now()) == (2, True)
    assert backoff(2) == 2 * backoff(1)
    _due_now()
    deliver_pending()
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 3

    headers, body = down.received[-1]
    assert json.loads(body) == {"event": "payment.missed", "installment": 7, "amount_due": 105000}
    assert headers["X-Fincrm-Event"] == "payment.missed"
    assert headers["X-Fincrm-Delivery"] == str(delivery.pk)
    timestamp = int(headers["X-Fincrm-Timestamp"])
    assert verify(hook.secret, timestamp, body, headers["X-Fincrm-Signature"])
    assert not verify("another secret", timestamp, body, headers["X-Fincrm-Signature"])
    assert not verify(hook.secret, timestamp, body + b" ", headers["X-Fincrm-Signature"])


def test_nothing_is_lost_while_the_subscriber_is_down_and_a_failed_delivery_can_be_redelivered(
    receiver,
):
    gone = receiver()
    url = gone.url
    gone.close()  # nobody listens
    hook = Subscriber.objects.create(name="warehouse", url=url)
    events.emit(events.Event.ALERT_RAISED, [{"alert": 1}, {"alert": 2}])
    for _ in range(MAX_ATTEMPTS):
        _due_now()
        deliver_pending()
    assert set(Delivery.objects.values_list("status", "attempts")) == {("failed", MAX_ATTEMPTS)}
    assert all(d.last_error for d in Delivery.objects.all())

    back = receiver()
    Subscriber.objects.filter(pk=hook.pk).update(url=back.url)
    for delivery in Delivery.objects.select_related("subscriber"):
        assert redeliver(delivery).status == "delivered"
    assert sorted(json.loads(b)["alert"] for _h, b in back.received) == [1, 2]


def test_business_events_queue_deliveries_in_their_own_transaction(
    book, users, receiver, django_capture_on_commit_callbacks
):
    from fincrm.financing.services import application_move_stage
    from fincrm.testing.factories import ApplicationFactory

    hook = receiver()
    Subscriber.objects.create(name="crm bus", url=hook.url)
    application = ApplicationFactory(customer=book["a_company"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        application_move_stage(
            application=application, to_stage="submitted", user=users["manager_a"]
        )
    delivery = Delivery.objects.get(event="application.stage_changed")
    assert (
        delivery.payload["to"] == "submitted" and delivery.payload["application"] == application.pk
    )
    assert callbacks  # the job that sends it is queued only once the move has committed
