"""The client search, whatever serves it: SQLite's FTS5 index kept in step by triggers, or
PostgreSQL's trigram and bigram indexes. The same behaviour on both databases."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fincrm.customers import search_index
from fincrm.customers.filtersets import search_matches
from fincrm.customers.models import Contact, Customer
from fincrm.testing.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 index is SQLite's")


def found(value, user) -> set[int]:
    matches = search_matches(value, user=user, via="page")
    return set(Customer.objects.filter(pk__in=matches).values_list("pk", flat=True))


@pytest.fixture
def people(users):
    owner = users["manager_a"]
    return {
        "tang_gui": CustomerFactory(owner=owner, person=True, name="唐桂", phone="13511112222"),
        "li_tang_gui_fang": CustomerFactory(owner=owner, person=True, name="李唐桂芳"),
        "gui_fang": CustomerFactory(owner=owner, person=True, name="王桂芳"),
        "tang_jianguo": CustomerFactory(owner=owner, person=True, name="唐建国"),
        "firm": CustomerFactory(owner=owner, name="苏州恒瑞精密机械有限公司"),
    }


def test_a_two_character_name_is_found_wherever_it_stands_in_a_name(people, users):
    admin = users["admin"]
    assert found("唐桂", admin) == {people["tang_gui"].pk, people["li_tang_gui_fang"].pk}
    # The pair at the end of a name, and a pair that only some names hold.
    assert found("桂芳", admin) == {people["li_tang_gui_fang"].pk, people["gui_fang"].pk}
    assert found("建国", admin) == {people["tang_jianguo"].pk}
    assert found("桂唐", admin) == set()


def test_three_characters_or_more_find_a_substring_of_the_name(people, users):
    admin = users["admin"]
    assert found("恒瑞精密", admin) == {people["firm"].pk}
    assert found("精密机械有限", admin) == {people["firm"].pk}
    assert found("恒瑞精密机械有限公司苏州", admin) == set()
    assert found("唐桂芳", admin) == {people["li_tang_gui_fang"].pk}


def test_a_phone_finds_the_client_and_a_contacts_phone_its_company(people, users):
    admin = users["admin"]
    ContactFactory(customer=people["firm"], phone="021-66668888")
    assert found("1351111", admin) == {people["tang_gui"].pk}
    assert found("13511112222", admin) == {people["tang_gui"].pk}
    assert found("021-6666", admin) == {people["firm"].pk}
    assert found("0216666", admin) == set()


def test_a_credit_code_is_found_from_its_start_only(people, users):
    code = people["firm"].credit_code
    assert found(code[:8], users["agent"]) == {people["firm"].pk}
    assert found(code[:8].lower(), users["admin"]) == {people["firm"].pk}
    assert people["firm"].pk not in found(code[4:12], users["admin"])


@pytest.mark.parametrize("role", ["agent", "exec"])
def test_a_masked_role_finds_an_id_number_or_phone_by_the_full_value_only(people, users, role):
    person = people["tang_gui"]
    user = users[role]
    assert not user.may_see_pii
    for length in (2, 6, 14, 17):
        assert person.pk not in found(person.id_number[:length], user), length
    assert person.pk not in found(person.phone[:7], user)
    assert found(person.id_number, user) == {person.pk}
    assert found(person.phone, user) == {person.pk}


@pytest.mark.parametrize("role", ["manager_a", "risk", "admin"])
def test_roles_that_see_id_numbers_find_them_by_prefix(people, users, role):
    person = people["tang_gui"]
    assert person.pk in found(person.id_number[:14], users[role])
    assert person.pk in found(person.phone[:7], users[role])


def test_the_index_follows_inserts_updates_and_deletes(people, users):
    admin = users["admin"]
    client = CustomerFactory(owner=users["manager_a"], name="杭州云栖数据科技有限公司")
    assert found("云栖数据", admin) == {client.pk}
    client.name = "杭州西溪数据科技有限公司"
    client.save()
    assert found("云栖数据", admin) == set()
    assert found("西溪数据", admin) == {client.pk}
    # Bulk writes go through the same triggers as the ORM's single rows.
    Customer.objects.filter(pk=client.pk).update(phone="18977776666")
    assert found("1897777", admin) == {client.pk}
    client.delete()
    assert found("西溪数据", admin) == set()
    assert found("1897777", admin) == set()


def test_the_index_follows_contacts_added_changed_moved_and_removed(people, users):
    admin = users["admin"]
    firm, other = people["firm"], people["tang_jianguo"]
    contact = ContactFactory(customer=firm, phone="18655554444")
    assert found("1865555", admin) == {firm.pk}
    contact.phone = "18655553333"
    contact.save()
    assert found("18655554444", admin) == set()
    assert found("18655553333", admin) == {firm.pk}
    Contact.objects.filter(pk=contact.pk).update(customer=other)
    assert found("18655553333", admin) == {other.pk}
    contact.refresh_from_db()
    contact.delete()
    assert found("1865555", admin) == set()


@on_sqlite
def test_on_sqlite_the_search_reads_the_fts5_index(people, users):
    assert search_index.present(connection)
    matches = search_matches("恒瑞精密", user=users["admin"], via="page")
    with CaptureQueriesContext(connection) as ctx:
        list(Customer.objects.filter(pk__in=matches))
    sql = ctx.captured_queries[-1]["sql"]
    assert "customers_search MATCH" in sql
    assert "LIKE" not in sql


@on_sqlite
def test_the_rebuild_command_restores_an_emptied_index(people, users):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {search_index.NAMES}")
        cursor.execute(f"DELETE FROM {search_index.CODES}")
    assert found("恒瑞精密", users["admin"]) == set()
    call_command("rebuild-search", stdout=io.StringIO())
    assert found("恒瑞精密", users["admin"]) == {people["firm"].pk}
    assert found("唐桂", users["admin"]) == {people["tang_gui"].pk, people["li_tang_gui_fang"].pk}
    assert found(people["tang_gui"].phone[:7], users["admin"]) == {people["tang_gui"].pk}


@on_sqlite
def test_the_rebuild_command_creates_a_missing_index(people, users):
    search_index.drop(connection)
    assert not search_index.present(connection)
    call_command("rebuild-search", stdout=io.StringIO())
    assert search_index.present(connection)
    assert found("恒瑞精密", users["admin"]) == {people["firm"].pk}
    client = CustomerFactory(owner=users["manager_a"], name="宁波港湾物流有限公司")
    assert found("港湾物流", users["admin"]) == {client.pk}


@pytest.mark.skipif(connection.vendor == "sqlite", reason="PostgreSQL keeps its own indexes")
def test_on_postgresql_the_rebuild_command_has_nothing_to_do(capsys):
    call_command("rebuild-search")
    assert "nothing to do" in capsys.readouterr().out


def test_clients_imported_in_bulk_are_found_and_later_inserts_still_indexed(users, tmp_path):
    from fincrm.customers.importer import customer_import
    from fincrm.customers.tests.test_importer import company, write_csv

    path = write_csv(tmp_path / "book.csv", [company(n) for n in range(1, 6)])
    result = customer_import(path, user=users["admin"])
    assert result.good_rows == 5 and not result.errors
    assert len(found("恒瑞精密3", users["admin"])) == 1
    assert len(found("1380000000", users["admin"])) == 5  # the imported phones
    later = CustomerFactory(owner=users["manager_a"], name="宁波港湾物流有限公司")
    assert found("港湾物流", users["admin"]) == {later.pk}


@on_sqlite
def test_a_deferred_batch_gets_its_trigger_back_when_it_fails(users):
    from django.db import transaction

    batch = search_index.indexed_after(connection, 1, 10)
    with pytest.raises(RuntimeError), transaction.atomic(), batch:
        raise RuntimeError("the batch failed")
    client = CustomerFactory(owner=users["manager_a"], name="宁波港湾物流有限公司")
    assert found("港湾物流", users["admin"]) == {client.pk}
