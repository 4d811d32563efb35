"""The complaints and requests list (issue 19, point 4): a page at a time, filtered, sorted by
column, in SLA order by default, and only the tickets the reader may see."""

import pytest
from django.urls import reverse

from fincrm.service import services
from fincrm.service.views import PAGE_SIZE

pytestmark = pytest.mark.django_db


def _open(customer, n: int, **kwargs):
    fields = {"description": "审批进度拖延了两周", "channel": "phone", "severity": "medium"}
    return [
        services.ticket_open(customer=customer, subject=f"投诉 {i:02d}", **{**fields, **kwargs})
        for i in range(n)
    ]


def _subjects(response) -> list[str]:
    return [t.subject for t in response.context["tickets"]]


def test_the_queue_comes_a_page_at_a_time(login, users, book, clock):
    _open(book["a_company"], PAGE_SIZE + 5)
    client = login(users["agent"])
    first = client.get(reverse("service:list"))
    assert len(first.context["tickets"]) == PAGE_SIZE
    assert first.context["paginator"].count == PAGE_SIZE + 5
    second = client.get(reverse("service:list") + "?page=2")
    assert len(second.context["tickets"]) == 5
    assert not set(_subjects(first)) & set(_subjects(second))


def test_a_reader_sees_only_the_tickets_of_clients_they_may_see(login, users, book, clock):
    _open(book["a_company"], 3)
    services.ticket_open(
        customer=book["b_company"], subject="深圳的投诉", description="费用太高", channel="phone"
    )
    response = login(users["manager_a"]).get(reverse("service:list"))
    assert "深圳的投诉" not in _subjects(response)
    assert response.context["paginator"].count == 3


def test_it_filters_by_severity_and_by_assignee(login, users, book, clock):
    _open(book["a_company"], 2, severity="high")
    low = _open(book["a_company"], 3, severity="low")
    low[0].assignee = users["agent"]
    low[0].save(update_fields=["assignee"])
    client = login(users["agent"])
    high = client.get(reverse("service:list") + "?severity=high")
    assert high.context["paginator"].count == 2
    mine = client.get(reverse("service:list") + "?mine=on")
    assert [t.pk for t in mine.context["tickets"]] == [low[0].pk]


def test_it_sorts_by_the_column_chosen_and_keeps_the_filters_in_the_tabs(login, users, book, clock):
    services.ticket_open(customer=book["a_company"], subject="A", description="慢", channel="phone")
    services.ticket_open(customer=book["a_person"], subject="B", description="慢", channel="phone")
    client = login(users["agent"])
    names = sorted([book["a_company"].name, book["a_person"].name])
    down = client.get(reverse("service:list") + "?o=-client&severity=medium")
    assert [t.customer.name for t in down.context["tickets"]] == names[::-1]
    html = down.content.decode()
    assert "o=-client&amp;severity=medium&amp;state=breached" in html


def test_a_refused_filter_answers_400(login, users, book):
    response = login(users["agent"]).get(reverse("service:list") + "?severity=nope")
    assert response.status_code == 400


def test_the_query_count_does_not_grow_with_the_page(
    login, users, book, clock, django_assert_max_num_queries
):
    _open(book["a_company"], PAGE_SIZE)
    client = login(users["agent"])
    with django_assert_max_num_queries(12):
        client.get(reverse("service:list"))


def test_the_export_is_the_list_as_the_reader_sees_it_on_every_page(login, users, book, clock):
    from io import BytesIO

    from openpyxl import load_workbook

    _open(book["a_company"], PAGE_SIZE + 2, severity="high")
    _open(book["a_company"], 1, severity="low")
    services.ticket_open(
        customer=book["b_company"], subject="深圳的投诉", description="费用太高", channel="phone"
    )
    client = login(users["manager_a"])
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("service:list") + "?severity=high&o=client&export=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(BytesIO(response.content)).active.values)
    assert rows[0][:2] == ("严重程度", "高")  # the filters applied, written on top
    assert rows[1][:2] == ("排序", "客户")
    header = rows.index(next(r for r in rows if r and r[0] == "时限"))
    body = [r for r in rows[header + 1 :] if r and r[0]]
    assert len(body) == PAGE_SIZE + 2  # every page, only the high ones, not manager_b's
    assert {r[2] for r in body} == {book["a_company"].name}
    assert client.get(reverse("service:list") + "?severity=nope&export=xlsx").status_code == 400
