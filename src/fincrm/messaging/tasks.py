"""Sending through the Django tasks API (``fincrm db_worker``): a task per batch of messages
due now, and one per retry, scheduled at the message's next attempt."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_messages(message_ids: list[int]) -> int:
    """Attempt each message (a retry reschedules itself); returns how many were sent."""
    from .choices import MessageStatus
    from .services import message_attempt

    sent = 0
    for pk in message_ids:
        message = message_attempt(pk)
        sent += message is not None and message.status == MessageStatus.SENT
    return sent
