"""Pinyin initials in the search box (issue 19, point 4): "zgjs" finds 中国建设… — only the
clients the user may see; kept with the name; the importer's batches queued."""

import pytest
from django.urls import reverse

from fincrm.core import initials
from fincrm.core.models import NameInitials
from fincrm.customers.models import Customer
from fincrm.testing.factories import CustomerFactory
from fincrm.web.search import global_search

pytestmark = pytest.mark.django_db


def test_initials_read_each_character_and_polyphones_by_phrase():
    assert initials.initials("中国建设银行股份有限公司") == "zgjsyhgfyxgs"  # 行 in 银行: h
    assert initials.initials("重庆长安汽车 ABC 3号") == "cqcaqcabc3h"  # 重庆 c, 长安 c
    assert initials.initials("") == ""


def test_a_query_is_initials_only_when_it_could_be():
    assert initials.is_initials_query("zgjs") and initials.is_initials_query("ZGJS")
    assert not initials.is_initials_query("z")
    assert not initials.is_initials_query("中国")
    assert not initials.is_initials_query("zg js")


def test_the_search_box_finds_clients_by_initials_within_the_users_scope(users, login):
    mine = CustomerFactory(owner=users["manager_a"], name="中国建设银行杭州分行")
    theirs = CustomerFactory(owner=users["manager_b"], name="中国建设银行深圳分行")
    CustomerFactory(owner=users["manager_a"], name="苏州恒瑞精密机械有限公司")
    found = global_search(user=users["manager_a"], query="ZGJS")
    assert [c.pk for c in found.clients] == [mine.pk]
    both = global_search(user=users["risk"], query="zgjsyh")
    assert {c.pk for c in both.clients} == {mine.pk, theirs.pk}
    assert global_search(user=users["risk"], query="zgjsyhsz").clients == [
        Customer.objects.get(pk=theirs.pk)
    ]
    page = login(users["manager_a"]).get(reverse("search") + "?q=zgjs").content.decode()
    assert mine.name in page and theirs.name not in page


def test_initials_follow_a_rename(users):
    client = CustomerFactory(owner=users["manager_a"], name="苏州恒瑞精密机械有限公司")
    assert NameInitials.objects.get(customer=client).initials == "szhrjmjxyxgs"
    client.name = "重庆长安汽车有限公司"
    client.save()
    assert NameInitials.objects.get(customer=client).initials == "cqcaqcyxgs"
    assert [c.pk for c in global_search(user=users["manager_a"], query="cqca").clients] == [
        client.pk
    ]


def test_clients_written_around_save_are_found_after_a_refresh(
    users, django_capture_on_commit_callbacks
):
    client = CustomerFactory(owner=users["manager_a"], name="苏州恒瑞精密机械有限公司")
    Customer.objects.filter(pk=client.pk).update(name="厦门航空有限公司")  # no signal
    assert not global_search(user=users["manager_a"], query="xmhk").clients
    with django_capture_on_commit_callbacks() as queued:
        initials.refresh_later([client.pk])
    assert len(queued) == 1  # the task queued once the batch commits
    assert initials.refresh_range.call(client.pk, client.pk) == 1
    assert [c.pk for c in global_search(user=users["manager_a"], query="xmhk").clients] == [
        client.pk
    ]
    assert initials.refresh() == Customer.objects.count()
