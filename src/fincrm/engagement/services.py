"""Writes of the engagement app."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.core.events import customer_changed

from .choices import Priority, TaskStatus
from .models import Interaction, Task

MSG_CONTACT_OF_OTHER_CLIENT = _("This contact belongs to another client.")


def tasks_follow_owner(sender, *, customer, previous_owner_id, **kwargs) -> int:
    """A client changed hands (``customers.signals.customer_reassigned``, connected in
    ``EngagementConfig.ready``): the previous owner's open tasks on it move to the new owner,
    in the reassignment's transaction. Done tasks keep who did them."""
    return Task.objects.filter(
        customer=customer, owner_id=previous_owner_id, status=TaskStatus.OPEN
    ).update(owner_id=customer.owner_id)


@transaction.atomic
def task_complete(*, task: Task) -> Task:
    """Mark an open task done (idempotent); the next plan task appears on the next run."""
    if task.status == TaskStatus.OPEN:
        task.status = TaskStatus.DONE
        task.completed_at = timezone.now()
        task.save(update_fields=["status", "completed_at"])
    return task


@transaction.atomic
def task_complete_many(*, tasks) -> int:
    """Mark the open ones of ``tasks`` done, all or none; returns how many changed."""
    done = 0
    for task in tasks:
        if task.status == TaskStatus.OPEN:
            task_complete(task=task)
            done += 1
    return done


def tasks_cancel_many(*, ids) -> int:
    """Cancel the open ones of the tasks ``ids`` in one statement (a nightly job's withdrawal
    of tasks whose reason has gone); returns how many changed."""
    return Task.objects.filter(pk__in=ids, status=TaskStatus.OPEN).update(
        status=TaskStatus.CANCELLED
    )


#: A snooze moves a due date by 1 to this many days.
MAX_SNOOZE_DAYS = 90
MSG_SNOOZE_DAYS = _("Snooze by 1 to %(max)d days.")


@transaction.atomic
def task_assign_many(*, tasks, owner) -> int:
    """Hand the open ones of ``tasks`` to ``owner``, all or none; returns how many changed
    (a task already theirs is not counted)."""
    done = 0
    for task in tasks:
        if task.status == TaskStatus.OPEN and task.owner_id != owner.pk:
            task.owner = owner
            task.save(update_fields=["owner"])
            done += 1
    return done


@transaction.atomic
def task_snooze_many(*, tasks, days: int) -> int:
    """Move the due date of the open ones of ``tasks`` ``days`` later (1 to
    ``MAX_SNOOZE_DAYS``), all or none; returns how many changed."""
    from datetime import timedelta

    if not 1 <= days <= MAX_SNOOZE_DAYS:
        raise ValidationError(
            {"days": MSG_SNOOZE_DAYS % {"max": MAX_SNOOZE_DAYS}}, code="snooze_days"
        )
    done = 0
    for task in tasks:
        if task.status == TaskStatus.OPEN:
            task.due_on = task.due_on + timedelta(days=days)
            task.save(update_fields=["due_on"])
            done += 1
    return done


@transaction.atomic
def task_schedule(
    *,
    customer,
    kind: str,
    source_key: str,
    title: str,
    due_on,
    priority: str = Priority.NORMAL,
    detail: str = "",
    channel: str = "",
    owner=None,
    once: bool = False,
) -> Task:
    """An automatic task for the client's account manager (or ``owner``), at most one open
    per ``source_key``: scheduling the same thing again returns the open task. With
    ``once``, a task done or cancelled under that key counts too (a daily job asking again)."""
    matching = Task.objects.filter(customer=customer, source_key=source_key)
    if not once:
        matching = matching.filter(status=TaskStatus.OPEN)
    existing = matching.order_by("-pk").first()
    if existing is not None:
        return existing
    task = Task(
        customer=customer,
        owner=owner or customer.owner,
        kind=kind,
        title=title[:200],
        detail=detail,
        channel=channel,
        priority=priority,
        due_on=due_on,
        source_key=source_key[:40],
    )
    task.full_clean()
    task.save()
    return task


#: The columns of a task given to :func:`tasks_schedule_many`, in this order.
TASK_ROW = ("customer_id", "owner_id", "kind", "title", "detail", "channel", "priority",
            "due_on", "source_key")  # fmt: skip


@transaction.atomic
def tasks_schedule_many(*, rows) -> int:
    """:func:`task_schedule` with ``once`` for a nightly job's thousands of tasks: each row
    (:data:`TASK_ROW`) becomes a task unless its client has one under the same ``source_key``
    in any status (done or cancelled included), so a job run again in the same period
    creates nothing. Returns how many were created."""
    from fincrm.core.bulk import insert_rows

    rows = [(*r[:3], r[3][:200], *r[4:8], r[8][:40]) for r in rows]
    if not rows:
        return 0
    keys = sorted({r[8] for r in rows})
    taken: set[tuple[int, str]] = set()
    for start in range(0, len(keys), 500):
        taken.update(
            Task.objects.filter(source_key__in=keys[start : start + 500])
            .values_list("customer_id", "source_key")
            .iterator(chunk_size=10_000)
        )
    fresh = [(*r, TaskStatus.OPEN, timezone.now()) for r in rows if (r[0], r[8]) not in taken]
    return insert_rows(Task, [*TASK_ROW, "status", "created_at"], fresh, ignore_conflicts=True)


@transaction.atomic
def interaction_log(
    *,
    customer,
    channel: str,
    subject: str,
    created_by,
    summary: str = "",
    outcome: str = "",
    next_step: str = "",
    contact=None,
    occurred_at=None,
    direction: str = "out",
    attachment=None,
) -> Interaction:
    """Log one contact with a client; the client is re-evaluated (contact recency counts)."""
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": MSG_CONTACT_OF_OTHER_CLIENT})
    interaction = Interaction(
        customer=customer,
        contact=contact,
        channel=channel,
        direction=direction,
        subject=subject,
        summary=summary,
        outcome=outcome,
        next_step=next_step,
        created_by=created_by,
        occurred_at=occurred_at or timezone.now(),
    )
    if attachment is not None:
        interaction.attachment = attachment
    interaction.full_clean()
    interaction.save()
    customer_changed(customer.pk)
    return interaction
