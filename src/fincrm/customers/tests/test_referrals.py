"""Referrals linked to the clients they brought (issue 21, point 5): the referrer picker on
the edit form, its search, the 360° page both ways, the audit trail and the loyalty award."""

import pytest
from django.urls import reverse
from django.utils import translation

from fincrm.customers.forms import CustomerForm
from fincrm.customers.models import MSG_REFERRAL_CYCLE, MSG_SELF_REFERRAL, Customer
from fincrm.loyalty.models import PointsEntry
from fincrm.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _edit_data(customer, **overrides):
    """The edit form as the page would post it for ``customer``, with ``overrides``."""
    data = {}
    for name in CustomerForm._meta.fields:
        value = getattr(customer, f"{name}_id" if name in ("owner", "referred_by") else name)
        if name == "tags":
            continue
        data[name] = "" if value is None else value
    data.update(overrides)
    return data


def _edit(client, customer, **overrides):
    return client.post(
        reverse("customers:edit", args=[customer.pk]), _edit_data(customer, **overrides)
    )


def test_a_manager_links_a_client_to_its_referrer_and_the_change_is_audited(users, book, login):
    firm, person = book["a_company"], book["a_person"]
    client = login(users["manager_a"])
    assert _edit(client, person, referred_by=firm.pk).status_code == 302
    person.refresh_from_db()
    assert person.referred_by == firm
    latest = person.history.first()
    assert latest.history_user == users["manager_a"]
    changes = {c.field: (c.old, c.new) for c in latest.diff_against(latest.prev_record).changes}
    assert changes == {"referred_by": (None, firm.pk)}
    with translation.override("zh-hans"):
        page = client.get(reverse("customers:detail", args=[person.pk])).content.decode()
    # The audit trail names the referrer, not its id.
    assert f'由 <a href="{firm.get_absolute_url()}">{firm.name}</a> 推荐' in page
    assert page.count(firm.name) >= 2


def test_the_360_page_shows_the_referral_both_ways(users, book, login):
    firm = book["a_company"]
    Customer.objects.filter(pk=book["a_person"].pk).update(referred_by=firm)
    Customer.objects.filter(pk=book["b_person"].pk).update(referred_by=firm)  # manager_b's
    client = login(users["manager_a"])
    with translation.override("zh-hans"):
        page = client.get(reverse("customers:detail", args=[firm.pk])).content.decode()
        # Both referred clients are counted; only the one manager_a may see is named.
        assert "推荐的客户: 2" in page
        assert book["a_person"].name in page and book["b_person"].name not in page
        other = login(users["manager_b"]).get(
            reverse("customers:detail", args=[book["b_person"].pk])
        )
        assert "由您权限范围外的客户推荐" in other.content.decode()
        assert firm.name not in other.content.decode()


def test_a_client_cannot_refer_itself(users, book, login):
    firm = book["a_company"]
    response = _edit(login(users["manager_a"]), firm, referred_by=firm.pk)
    assert response.status_code == 200
    assert str(MSG_SELF_REFERRAL) in str(response.context["form"].errors["referred_by"])
    firm.refresh_from_db()
    assert firm.referred_by is None


def test_a_referral_cannot_go_round_in_a_circle(users, book, login):
    firm, person = book["a_company"], book["a_person"]
    third = CustomerFactory(owner=users["manager_a"])
    Customer.objects.filter(pk=person.pk).update(referred_by=firm)
    Customer.objects.filter(pk=third.pk).update(referred_by=person)
    response = _edit(login(users["manager_a"]), firm, referred_by=third.pk)
    assert response.status_code == 200
    expected = str(MSG_REFERRAL_CYCLE) % {"referrer": third.name}
    assert expected in str(response.context["form"].errors["referred_by"])
    firm.refresh_from_db()
    assert firm.referred_by is None


def test_a_referrer_outside_the_users_scope_is_refused(users, book, login):
    response = _edit(login(users["manager_a"]), book["a_person"], referred_by=book["b_company"].pk)
    assert response.status_code == 200 and "referred_by" in response.context["form"].errors


def test_a_referrer_set_by_someone_else_survives_an_edit_by_a_manager_who_cannot_see_it(
    users, book, login
):
    person = book["a_person"]
    Customer.objects.filter(pk=person.pk).update(referred_by=book["b_company"])
    person.refresh_from_db()
    assert _edit(login(users["manager_a"]), person, address="苏州新区").status_code == 302
    person.refresh_from_db()
    assert person.referred_by == book["b_company"] and person.address == "苏州新区"


def test_the_referrer_search_offers_visible_clients_but_not_the_client_or_its_referrals(
    users, book, login
):
    firm = book["a_company"]
    brought = CustomerFactory(owner=users["manager_a"], name="苏州恒瑞精密贸易有限公司")
    other = CustomerFactory(owner=users["manager_a"], name="苏州恒瑞精密电子有限公司")
    Customer.objects.filter(pk=brought.pk).update(referred_by=firm)
    CustomerFactory(owner=users["manager_b"], name="苏州恒瑞精密模具有限公司")  # not visible
    url = reverse("customers:referrers", args=[firm.pk])
    client = login(users["manager_a"])
    page = client.get(url, {"referrer_q": "苏州恒瑞"}).content.decode()
    assert other.name in page
    for hidden in (firm.name, brought.name, "苏州恒瑞精密模具有限公司"):
        assert hidden not in page
    # The referrer already chosen stays the first, selected option whatever is typed.
    page = client.get(url, {"referrer_q": "xyz", "referred_by": other.pk}).content.decode()
    assert f'<option value="{other.pk}" selected>' in page
    assert client.get(url, {"referrer_q": "x"}).content.decode().count("<option") == 1


def test_the_referrer_search_is_refused_for_a_client_the_user_may_not_change(users, book, login):
    url = reverse("customers:referrers", args=[book["b_company"].pk])
    assert login(users["manager_a"]).get(url, {"referrer_q": "深圳"}).status_code == 404
    assert login(users["risk"]).get(url, {"referrer_q": "深圳"}).status_code == 404


def test_the_referral_points_use_the_link(users, book, login):
    firm, person = book["a_company"], book["a_person"]
    Customer.objects.filter(pk=person.pk).update(referred_by=firm)
    client = login(users["manager_a"])
    detail = client.get(reverse("customers:detail", args=[firm.pk])).content.decode()
    assert 'id="linked-referral-form"' in detail and f'value="{person.pk}"' in detail
    url = reverse("loyalty:referral", args=[firm.pk])
    client.post(url, {"referred_client": person.pk})
    # The same client typed by name is the same referral: not rewarded twice.
    client.post(url, {"referred": person.name})
    assert list(PointsEntry.objects.values_list("key", "points")) == [
        (f"referral:client:{person.pk}", 300)
    ]
    detail = client.get(reverse("customers:detail", args=[firm.pk])).content.decode()
    assert 'id="linked-referral-form"' not in detail
    # A client not referred by this one cannot be rewarded through the link.
    assert client.post(url, {"referred_client": book["a_company"].pk}).status_code == 404
