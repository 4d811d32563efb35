import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fincrm.engagement.models import Interaction

pytestmark = pytest.mark.django_db


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("interactions.csv", text.encode("utf-8"), content_type="text/csv")


def test_a_good_file_is_imported(book, users, login):
    firm = book["a_company"]
    text = (
        "客户,渠道,时间,主题,内容,结果\n"
        f"{firm.credit_code},电话,2026-11-02 10:30,续贷沟通,客户有续贷意向,Interested\n"
        f"{firm.name},wechat,2026-11-03,寄送资料,,info_sent\n"
    )
    response = login(users["manager_a"]).post(
        reverse("engagement:interaction_import"), {"file": _csv(text)}
    )
    assert response.status_code == 200
    logged = Interaction.objects.filter(customer=firm).order_by("occurred_at")
    assert [(i.channel, i.subject, i.outcome) for i in logged] == [
        ("phone", "续贷沟通", "interested"),
        ("wechat", "寄送资料", "info_sent"),
    ]


def test_one_bad_row_imports_nothing_and_every_problem_is_listed(book, users, login):
    firm, theirs = book["a_company"], book["b_company"]
    text = (
        "client,channel,time,subject\n"
        f"{firm.credit_code},phone,2026-11-02,ok\n"
        f"{theirs.credit_code},pigeon,yesterday,bad\n"
        f"{firm.credit_code},phone,2099-01-01,future\n"
    )
    response = login(users["manager_a"]).post(
        reverse("engagement:interaction_import"), {"file": _csv(text)}
    )
    errors = {(e.row, e.field) for e in response.context["result"].errors}
    assert errors == {(3, "client"), (3, "channel"), (3, "occurred_at"), (4, "occurred_at")}
    assert not Interaction.objects.exists()


def test_a_file_without_the_needed_columns_is_refused(users, login):
    response = login(users["manager_a"]).post(
        reverse("engagement:interaction_import"), {"file": _csv("foo,bar\n1,2\n")}
    )
    assert "subject" in response.content.decode()
    assert login(users["agent"]).get(reverse("engagement:interaction_import")).status_code == 403
