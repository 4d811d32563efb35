"""The client portal: a client sees only its own data, by any id; uploads are checked."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fincrm.engagement.models import Interaction
from fincrm.financing.models import ApplicationDocument
from fincrm.portal.models import PortalAccount
from fincrm.testing.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def portal(book, login):
    """A portal login for manager A's firm and one for manager B's; an application each
    with a missing business licence."""
    accounts = {}
    for key in ("a_company", "b_company"):
        customer = book[key]
        application = ApplicationFactory(customer=customer, amount=2_000_000)
        ApplicationDocument.objects.create(application=application, kind="business_licence")
        user = UserFactory(username=f"client_{key}", role="")
        accounts[key] = PortalAccount.objects.create(user=user, customer=customer)
    return accounts


def _doc(book, key):
    return ApplicationDocument.objects.get(application__customer=book[key])


def test_a_client_sees_its_own_applications_and_nobody_elses(book, portal, login):
    client = login(portal["a_company"].user)
    page = client.get(reverse("portal:home")).content.decode()
    a_app = book["a_company"].applications.get()
    b_app = book["b_company"].applications.get()
    assert f'id="application-{a_app.pk}"' in page and f'id="application-{b_app.pk}"' not in page
    assert f'id="document-{_doc(book, "a_company").pk}"' in page
    # Another client's document by id: not found, and nothing stored.
    other = _doc(book, "b_company")
    response = client.post(
        reverse("portal:upload", args=[other.pk]),
        {"file": SimpleUploadedFile("licence.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == "missing" and not other.file
    # The CRM's pages are out of reach: every one sends the client back to the portal.
    for url in ("/", "/customers/", f"/customers/{book['a_company'].pk}/", "/api/v1/docs"):
        assert client.get(url).url == reverse("portal:home"), url


def test_staff_cannot_use_the_portal(users, login):
    assert login(users["manager_a"]).get(reverse("portal:home")).status_code == 404


def test_an_upload_is_checked_then_received_and_the_owner_sees_it(book, portal, login):
    client = login(portal["a_company"].user)
    document = _doc(book, "a_company")
    url = reverse("portal:upload", args=[document.pk])
    fake = client.post(
        url, {"file": SimpleUploadedFile("licence.pdf", b"MZ\x90\x00", "x")}, follow=True
    )
    assert [m.level_tag for m in fake.context["messages"]] == ["error"]
    exe = client.post(url, {"file": SimpleUploadedFile("run.exe", PDF, "x")}, follow=True)
    assert [m.level_tag for m in exe.context["messages"]] == ["error"]
    document.refresh_from_db()
    assert document.status == "missing"

    ok = client.post(
        url, {"file": SimpleUploadedFile("licence.pdf", PDF, "application/pdf")}, follow=True
    )
    assert [m.level_tag for m in ok.context["messages"]] == ["success"]
    document.refresh_from_db()
    assert document.status == "received" and document.file.name.endswith(".pdf")
    assert Interaction.objects.filter(customer=book["a_company"], channel="portal").exists()
    # Received: no second upload for it.
    again = client.post(
        url, {"file": SimpleUploadedFile("again.pdf", PDF, "application/pdf")}, follow=True
    )
    assert [m.level_tag for m in again.context["messages"]] == ["error"]


def test_a_client_submits_a_complaint_follows_it_and_sees_its_points(book, portal, login):
    from fincrm.loyalty.services import points_earn
    from fincrm.service.models import Ticket

    points_earn(customer=book["a_company"], reason="referral", key="ref:1")
    points_earn(customer=book["b_company"], reason="renewal", key="ren:1")
    client = login(portal["a_company"].user)
    response = client.post(
        reverse("portal:complaint"),
        {"kind": "complaint", "subject": "还款提醒太晚", "description": "短信提醒在扣款后才收到"},
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.source, ticket.channel) == (
        book["a_company"],
        "portal",
        "portal",
    )
    page = client.get(reverse("portal:home")).content.decode()
    assert "还款提醒太晚" in page and 'id="portal-points">300<' in page
    assert client.post(reverse("portal:complaint"), {"kind": "complaint"}).status_code == 302
    assert Ticket.objects.count() == 1  # an incomplete form creates nothing


def test_a_client_applies_and_the_manager_is_notified(book, portal, login, users):
    from decimal import Decimal

    from fincrm.engagement.models import Notification
    from fincrm.financing.models import Application
    from fincrm.testing.factories import ProductFactory

    product = ProductFactory(
        code="PL01", min_amount=Decimal(100_000), max_amount=Decimal(5_000_000)
    )
    client = login(portal["a_company"].user)
    too_much = client.post(
        reverse("portal:apply"),
        {"product": product.pk, "amount": "9000000", "tenor_months": 12},
        follow=True,
    )
    assert not Application.objects.filter(channel="portal").exists()
    assert any("5,000,000" in str(m) for m in too_much.context["messages"])
    client.post(
        reverse("portal:apply"),
        {"product": product.pk, "amount": "800000", "tenor_months": 12, "purpose": "备货"},
    )
    application = Application.objects.get(channel="portal")
    assert application.customer == book["a_company"] and application.stage == "lead"
    note = Notification.objects.get(recipient=users["manager_a"], data__application=application.pk)
    assert "800,000" in note.message
    home = client.get(reverse("portal:home")).content.decode()
    assert f'id="application-{application.pk}"' in home
