import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fincrm.engagement.models import Interaction
from fincrm.testing.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _url(customer):
    return reverse("engagement:interaction_add", args=[customer.pk])


def test_a_manager_logs_a_visit_on_own_client(book, users, login):
    firm = book["a_company"]
    contact = ContactFactory(customer=firm)
    response = login(users["manager_a"]).post(
        _url(firm),
        {
            "channel": "visit",
            "contact": contact.pk,
            "subject": "上门回访",
            "summary": "了解扩产计划",
            "outcome": "interested",
            "next_step": "下周提交设备融资申请",
        },
    )
    assert response.status_code == 302
    logged = Interaction.objects.get(customer=firm)
    assert (logged.channel, logged.contact, logged.created_by) == (
        "visit",
        contact,
        users["manager_a"],
    )
    page = login(users["manager_a"]).get(firm.get_absolute_url()).content.decode()
    assert "上门回访" in page


@pytest.mark.parametrize("who", ["manager_b", "agent", "exec", "outsider"])
def test_others_cannot_log_on_manager_as_client(who, book, users, login):
    response = login(users[who]).post(_url(book["a_company"]), {"channel": "phone", "subject": "x"})
    assert response.status_code == 404
    assert not Interaction.objects.exists()


def test_a_contact_of_another_client_is_refused(book, users, login):
    other = ContactFactory(customer=book["b_company"])
    page = login(users["manager_a"]).post(
        _url(book["a_company"]), {"channel": "phone", "subject": "x", "contact": other.pk}
    )
    assert page.status_code == 200
    assert "contact" in page.context["form"].errors
    assert not Interaction.objects.exists()


def test_attachments_are_type_checked(book, users, login):
    upload = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    page = login(users["manager_a"]).post(
        _url(book["a_company"]), {"channel": "email", "subject": "x", "attachment": upload}
    )
    assert "attachment" in page.context["form"].errors
    assert not Interaction.objects.exists()
