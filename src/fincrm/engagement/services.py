"""Writes of the engagement app."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fincrm.evaluation.tasks import customer_changed

from .choices import TaskStatus
from .models import Interaction, Task

MSG_CONTACT_OF_OTHER_CLIENT = _("This contact belongs to another client.")


@transaction.atomic
def task_complete(*, task: Task) -> Task:
    """Mark an open task done (idempotent); the next plan task appears on the next run."""
    if task.status == TaskStatus.OPEN:
        task.status = TaskStatus.DONE
        task.completed_at = timezone.now()
        task.save(update_fields=["status", "completed_at"])
    return task


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
