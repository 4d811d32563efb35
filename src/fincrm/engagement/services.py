"""Writes of the engagement app."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .choices import TaskStatus
from .models import Task


@transaction.atomic
def task_complete(*, task: Task) -> Task:
    """Mark an open task done (idempotent); the next plan task appears on the next run."""
    if task.status == TaskStatus.OPEN:
        task.status = TaskStatus.DONE
        task.completed_at = timezone.now()
        task.save(update_fields=["status", "completed_at"])
    return task
