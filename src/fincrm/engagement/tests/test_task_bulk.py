"""Tasks worked in bulk (issue 19, point 4): sorted by column, assigned to someone the user
may assign to, snoozed, each after a confirmation with the count and the rows left alone;
the list exported as the reader sees it."""

from datetime import date, timedelta
from io import BytesIO

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from openpyxl import load_workbook

from fincrm.engagement.choices import Priority, TaskKind, TaskStatus
from fincrm.engagement.models import Task

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 15)
URL = "engagement:task_done_bulk"


def _task(customer, *, due_in=0, owner=None, title="回访", priority=Priority.NORMAL):
    return Task.objects.create(
        customer=customer, owner=owner or customer.owner, kind=TaskKind.FOLLOW_UP,
        title=title, due_on=TODAY + timedelta(days=due_in), priority=priority,
    )  # fmt: skip


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _rows(response) -> list[int]:
    return [t.pk for t in response.context["object_list"]]


def test_tasks_sort_by_column_and_priority_ranks_high_first(book, login, clock):
    firm = book["a_company"]
    low = _task(firm, due_in=2, title="C 回访", priority=Priority.LOW)
    high = _task(firm, due_in=1, title="B 回访", priority=Priority.HIGH)
    normal = _task(firm, due_in=0, title="D 回访")
    same_day_high = _task(firm, due_in=0, title="A 回访", priority=Priority.HIGH)
    client = login(firm.owner)
    url = reverse("engagement:tasks")
    assert _rows(client.get(url)) == [same_day_high.pk, normal.pk, high.pk, low.pk]
    assert _rows(client.get(url + "?o=-due"))[:2] == [low.pk, high.pk]
    assert _rows(client.get(url + "?o=priority"))[-2:] == [normal.pk, low.pk]
    assert _rows(client.get(url + "?o=task")) == [same_day_high.pk, high.pk, low.pk, normal.pk]
    page = client.get(url + "?o=due").content.decode()
    assert "o=-due" in page  # the header pressed again reverses


def test_a_lead_assigns_tasks_within_the_team_and_the_rest_is_counted_as_skipped(
    book, users, login, clock
):
    mine = _task(book["a_company"], owner=users["lead"])
    mine_too = _task(book["a_person"], owner=users["lead"])
    other_team = _task(book["b_company"])  # manager_b's client: not the lead's to change
    client = login(users["lead"])
    data = {"task": [mine.pk, mine_too.pk, other_team.pk], "action": "assign",
            "assignee": users["manager_a"].pk}  # fmt: skip

    confirm = client.post(reverse(URL), data)
    assert confirm.status_code == 200
    assert [t.pk for t in confirm.context["tasks"]] == [mine.pk, mine_too.pk]
    assert confirm.context["skipped"] == 1
    assert Task.objects.get(pk=mine.pk).owner == users["lead"]  # asked, nothing changed

    done = client.post(reverse(URL), {**data, "confirm": "yes"}, follow=True)
    owners = dict(Task.objects.values_list("pk", "owner__username"))
    assert owners == {mine.pk: "manager_a", mine_too.pk: "manager_a", other_team.pk: "manager_b"}
    [message] = _messages(done)
    assert "2" in message and "1" in message  # two changed, one left alone


def test_a_lead_may_not_assign_outside_the_team(book, users, login, clock):
    task = _task(book["a_company"], owner=users["lead"])
    client = login(users["lead"])
    data = {"task": [task.pk], "action": "assign", "assignee": users["manager_b"].pk,
            "confirm": "yes"}  # fmt: skip
    response = client.post(reverse(URL), data, follow=True)
    assert Task.objects.get(pk=task.pk).owner == users["lead"]
    assert _messages(response)  # says whom to choose


def test_a_task_is_not_handed_to_someone_who_cannot_see_its_client(book, users, login, clock):
    """manager_b may be assigned by an administrator, but not manager_a's client's task."""
    task = _task(book["a_company"])
    client = login(users["admin"])
    data = {"task": [task.pk], "action": "assign", "assignee": users["manager_b"].pk,
            "confirm": "yes"}  # fmt: skip
    client.post(reverse(URL), data)
    assert Task.objects.get(pk=task.pk).owner == users["manager_a"]


def test_snooze_moves_due_dates_and_refuses_a_silly_number_of_days(book, users, login, clock):
    a = _task(book["a_company"], due_in=-3)
    b = _task(book["a_person"], due_in=2)
    theirs = _task(book["b_company"], due_in=0)
    client = login(users["manager_a"])
    data = {"task": [a.pk, b.pk, theirs.pk], "action": "snooze", "days": "7", "confirm": "yes"}
    client.post(reverse(URL), data)
    due = dict(Task.objects.values_list("pk", "due_on"))
    assert due == {a.pk: TODAY + timedelta(days=4), b.pk: TODAY + timedelta(days=9),
                   theirs.pk: TODAY}  # fmt: skip
    client.post(reverse(URL), {**data, "days": "400"})
    assert Task.objects.get(pk=a.pk).due_on == TODAY + timedelta(days=4)


def test_complete_stays_the_default_action(book, users, login, clock):
    task = _task(book["a_company"])
    login(users["manager_a"]).post(reverse(URL), {"task": [task.pk], "confirm": "yes"})
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE


def test_the_export_is_every_page_of_the_list_as_filtered_in_the_readers_language(
    book, users, login, clock
):
    for i in range(53):  # past one page of 50
        _task(book["a_company"], due_in=i % 5, title=f"回访{i}")
    _task(book["a_company"], due_in=1, title="拜访", priority=Priority.HIGH)
    _task(book["b_company"], title="别人的")
    client = login(users["manager_a"])
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("engagement:tasks") + "?priority=normal&o=client&export=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:2] == ("优先级", "普通")
    assert ("范围", "我的") in [r[:2] for r in rows[:4]]
    header = next(i for i, r in enumerate(rows) if r and r[0] == "到期日")
    body = [r for r in rows[header + 1 :] if r and r[0]]
    assert len(body) == 53
    assert {r[2] for r in body} == {book["a_company"].name}
    assert sheet.freeze_panes == f"A{header + 2}"
    assert sheet.cell(row=header + 2, column=1).number_format == "yyyy-mm-dd"
