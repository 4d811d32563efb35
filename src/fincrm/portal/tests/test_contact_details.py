"""A client updates its contact details in the portal: checked, audited under its login,
its account manager told; staff who see masked data still see them masked."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fincrm.customers.models import Contact
from fincrm.engagement.models import Interaction, Notification
from fincrm.portal.services import MSG_NOT_A_MOBILE
from fincrm.testing.factories import PortalAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(book):
    customer = book["a_company"]
    customer.phone, customer.email, customer.address = "021-62345678", "old@hr.cn", "苏州工业园区"
    customer.save()
    Contact.objects.create(customer=customer, name="李四", phone="13900000000", is_key=True)
    return PortalAccountFactory(customer=customer)


def _form(account, **changes) -> dict:
    customer = account.customer
    contact = customer.contacts.get()
    data = {"client-phone": customer.phone, "client-email": customer.email,
            "client-address": customer.address, f"contact-{contact.pk}-name": contact.name,
            f"contact-{contact.pk}-phone": contact.phone}  # fmt: skip
    prefix = f"contact-{contact.pk}"
    return {**data, **{k.replace("CONTACT", prefix): v for k, v in changes.items()}}


def test_a_client_updates_its_details_audited_and_its_manager_is_told(account, users, login):
    client = login(account.user)
    response = client.post(
        reverse("portal:contact_details"),
        _form(account, **{"client-phone": "+86 138-0013-8000", "client-email": "cfo@hr.cn",
                          "CONTACT-phone": "13700001111"}),
    )  # fmt: skip
    assert response.status_code == 302
    customer = account.customer
    customer.refresh_from_db()
    assert (customer.phone, customer.email, customer.address) == (
        "13800138000",
        "cfo@hr.cn",
        "苏州工业园区",
    )
    change = customer.history.first()
    assert change.history_user == account.user
    delta = change.diff_against(change.prev_record)
    assert {(c.field, c.old, c.new) for c in delta.changes} == {
        ("phone", "021-62345678", "13800138000"),
        ("email", "old@hr.cn", "cfo@hr.cn"),
    }
    contact = customer.contacts.get()
    assert contact.phone == "13700001111" and contact.history.first().history_user == account.user
    note = Notification.objects.get(recipient=users["manager_a"])
    assert customer.name in note.message and "13800138000" not in note.message
    timeline = Interaction.objects.get(customer=customer, channel="portal")
    assert "13800138000" not in timeline.subject
    # A service agent still sees the new number masked.
    page = login(users["agent"]).get(customer.get_absolute_url()).content.decode()
    assert "13800138000" not in page


def test_a_number_that_is_not_a_mainland_mobile_or_a_bad_email_is_refused(account, login):
    client = login(account.user)
    response = client.post(
        reverse("portal:contact_details"),
        _form(account, **{"client-phone": "12345", "client-email": "not-an-email"}),
    )
    assert response.status_code == 200
    errors = response.context["client_form"].errors
    assert str(MSG_NOT_A_MOBILE) in errors["phone"] and "email" in errors
    account.customer.refresh_from_db()
    assert account.customer.phone == "021-62345678"
    assert not Notification.objects.exists()


def test_an_unchanged_form_writes_nothing_and_staff_have_no_portal_page(account, users, login):
    before = account.customer.history.count()
    response = login(account.user).post(reverse("portal:contact_details"), _form(account))
    assert response.status_code == 302 and not Notification.objects.exists()
    assert account.customer.history.count() == before
    assert login(users["manager_a"]).get(reverse("portal:contact_details")).status_code == 404
