"""The task list: filtered, completed one or many at a time with a confirmation and a count."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from fincrm.engagement.choices import TaskKind, TaskStatus
from fincrm.engagement.models import Task

pytestmark = pytest.mark.django_db


def _task(customer, *, due_in=0, owner=None, kind=TaskKind.FOLLOW_UP, title="回访"):
    return Task.objects.create(
        customer=customer,
        owner=owner or customer.owner,
        kind=kind,
        title=title,
        due_on=timezone.localdate() + timedelta(days=due_in),
    )


def _rows(response) -> list[int]:
    return [t.pk for t in response.context["object_list"]]


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_tasks_filter_by_due_date_and_kind(book, login, clock):
    firm = book["a_company"]
    late = _task(firm, due_in=-2)
    today = _task(firm, due_in=0, kind=TaskKind.VISIT)
    later = _task(firm, due_in=20)
    client = login(firm.owner)
    url = reverse("engagement:tasks")
    assert _rows(client.get(url + "?due=overdue")) == [late.pk]
    assert _rows(client.get(url + "?due=today")) == [today.pk]
    assert _rows(client.get(url + "?kind=visit")) == [today.pk]
    assert _rows(client.get(url)) == [late.pk, today.pk, later.pk]


def test_completing_one_task_says_so(book, login, clock):
    task = _task(book["a_company"], title="电话回访财务总监")
    client = login(book["a_company"].owner)
    response = client.post(reverse("engagement:task_done", args=[task.pk]), follow=True)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert any("电话回访财务总监" in m for m in _messages(response))


def test_bulk_completion_asks_first_then_completes_and_counts(book, login, clock):
    firm = book["a_company"]
    tasks = [_task(firm, due_in=i) for i in range(3)]
    client = login(firm.owner)
    url = reverse("engagement:task_done_bulk")
    ticked = {"task": [t.pk for t in tasks[:2]]}

    confirm = client.post(url, ticked)
    assert confirm.status_code == 200 and len(confirm.context["tasks"]) == 2
    assert Task.objects.filter(status=TaskStatus.OPEN).count() == 3  # nothing changed yet

    done = client.post(url, {**ticked, "confirm": "yes"}, follow=True)
    assert set(Task.objects.filter(status=TaskStatus.DONE).values_list("pk", flat=True)) == {
        t.pk for t in tasks[:2]
    }
    assert any("2" in m for m in _messages(done))


def test_bulk_completion_leaves_tasks_the_user_may_not_change(book, users, login, clock):
    theirs = _task(book["b_company"])
    mine = _task(book["a_company"])
    client = login(users["manager_a"])
    client.post(
        reverse("engagement:task_done_bulk"), {"task": [theirs.pk, mine.pk], "confirm": "yes"}
    )
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert (theirs.status, mine.status) == (TaskStatus.OPEN, TaskStatus.DONE)


def test_bulk_completion_with_nothing_ticked_says_what_to_do(book, login):
    client = login(book["a_company"].owner)
    response = client.post(reverse("engagement:task_done_bulk"), {}, follow=True)
    assert _messages(response)
