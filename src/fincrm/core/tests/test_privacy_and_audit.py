"""Personal data: unmasking with a reason (logged), the audit page, export and erasure on
request (keeping financial records), documents served only through a permission check."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from fincrm.core.models import AccessLog
from fincrm.customers.models import Customer
from fincrm.engagement.models import Interaction
from fincrm.financing.models import ApplicationDocument, Facility
from fincrm.testing.factories import (
    ApplicationFactory,
    ContactFactory,
    FacilityFactory,
    monthly_schedule,
)

pytestmark = pytest.mark.django_db


def test_an_agent_unmasks_with_a_reason_and_it_is_logged(book, users, login):
    person = book["a_person"]
    client = login(users["agent"])
    page = client.get(person.get_absolute_url()).content.decode()
    assert person.id_number not in page
    url = reverse("customers:reveal", args=[person.pk])
    client.post(url, {"reason": ""})
    assert not AccessLog.objects.filter(action="reveal").exists()
    client.post(url, {"reason": "来电核实身份"})
    assert person.id_number in client.get(person.get_absolute_url()).content.decode()
    entry = AccessLog.objects.get(action="reveal")
    assert (entry.user, entry.customer, entry.reason) == (users["agent"], person, "来电核实身份")
    assert login(users["exec"]).post(url, {"reason": "x"}).status_code == 403


def test_a_managers_view_of_personal_data_is_logged_and_shown_on_the_audit_page(book, users, login):
    person = book["a_person"]
    login(users["manager_a"]).get(person.get_absolute_url())
    assert AccessLog.objects.filter(user=users["manager_a"], action="view_pii").count() == 1
    audit = login(users["admin"]).get(reverse("audit") + f"?client={person.pk}")
    html = audit.content.decode()
    assert audit.status_code == 200 and "manager_a" in html
    assert login(users["manager_a"]).get(reverse("audit")).status_code == 403


def test_changes_appear_on_the_audit_page_with_their_author(book, users, login):
    from fincrm.customers.services import customer_update

    firm = book["a_company"]
    firm._history_user = users["manager_a"]
    customer_update(customer=firm, data={"address": "苏州工业园区星湖街 1 号"})
    html = login(users["risk"]).get(reverse("audit") + f"?client={firm.pk}").content.decode()
    assert "audit-change" in html


def test_export_holds_the_clients_data_and_is_logged(book, users, login):
    person = book["a_person"]
    ContactFactory(customer=person, name="王太太", phone="13912345678")
    response = login(users["admin"]).get(reverse("customers:privacy_export", args=[person.pk]))
    data = response.json()
    assert data["profile"]["id_number"] == person.id_number
    assert data["contacts"][0]["name"] == "王太太"
    assert AccessLog.objects.filter(action="export", customer=person).exists()
    manager = login(users["manager_a"])
    assert manager.get(reverse("customers:privacy_export", args=[person.pk])).status_code == 403


def test_erasure_anonymises_the_person_and_keeps_financial_records(book, users, login):
    person = book["a_person"]
    facility = FacilityFactory(customer=person, start_date=date(2024, 1, 1), status="closed")
    monthly_schedule(facility, months=2, principal=Decimal(1000), interest=Decimal(10))
    ContactFactory(customer=person)
    Interaction.objects.create(customer=person, channel="phone", subject="回访",
                               summary="客户家住某小区 3 栋")  # fmt: skip
    url = reverse("customers:privacy_erase", args=[person.pk])
    login(users["admin"]).post(url, {"reason": "PIPL-2026-017"})
    person = Customer.objects.get(pk=person.pk)
    assert person.id_number == f"ERASED-{person.pk}" and person.phone == ""
    assert person.name.startswith("已删除")
    assert not person.contacts.exists()
    assert Interaction.objects.get(customer=person).summary == ""
    assert Facility.objects.get(pk=facility.pk).installments.count() == 2  # kept
    assert AccessLog.objects.get(action="erase").reason == "PIPL-2026-017"


def test_erasure_is_refused_while_a_facility_runs(book, users, login):
    firm = book["a_company"]
    FacilityFactory(customer=firm, status="active")
    login(users["admin"]).post(
        reverse("customers:privacy_erase", args=[firm.pk]), {"reason": "PIPL-1"}
    )
    firm.refresh_from_db()
    assert firm.phone and not AccessLog.objects.filter(action="erase").exists()


def test_an_uploaded_document_is_served_only_to_who_may_see_the_client(book, users, login):
    application = ApplicationFactory(customer=book["a_company"])
    document = ApplicationDocument.objects.create(application=application, kind="business_licence")
    document.file.save("licence.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    url = reverse("financing:document_file", args=[document.pk])
    assert login(users["manager_b"]).get(url).status_code == 404
    response = login(users["manager_a"]).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert AccessLog.objects.filter(action="document", user=users["manager_a"]).exists()
