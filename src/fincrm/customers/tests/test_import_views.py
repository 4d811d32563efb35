"""The import upload page: upload → mapping preview → import → result, and who may use it."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fincrm.customers import importer
from fincrm.customers.import_views import MSG_TOO_BIG
from fincrm.customers.models import Customer
from fincrm.testing.html import forms

from .test_importer import HEADERS, company, make_uscc, person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def csv_upload(rows, name="clients.csv", headers=HEADERS) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode("utf-8"), content_type="text/csv")


def upload(client, file) -> str:
    """Upload ``file``; the token of the preview it redirects to."""
    response = client.post(reverse("customers:import"), {"file": file})
    assert response.status_code == 302, response.content.decode()[:2000]
    return re.search(r"/import/([^/]+)/$", response["Location"]).group(1)


def preview_url(token: str) -> str:
    return reverse("customers:import_preview", args=[token])


def mapping_data(response, **changes) -> dict:
    """The mapping form as the page shows it, with ``changes`` applied."""
    form = response.context["form"]
    data = {name: form[name].value() or "" for name in form.fields if name.startswith("col_")}
    return data | changes


def test_a_manager_uploads_previews_imports_and_sees_the_counts(users, login, media_root):
    client = login(users["manager_a"])
    rows = [company(1, owner=""), company(2, industry="火星业"), person(3, owner="")]
    token = upload(client, csv_upload(rows))
    assert (media_root / "imports" / token / "source.csv").exists()

    page = client.get(preview_url(token))
    assert page.status_code == 200
    form = page.context["form"]
    assert form["col_0"].value() == "name"
    assert form["col_4"].value() == "industry"
    check = page.context["check"]
    assert (check.good_rows, check.bad_rows) == (2, 1)
    assert [(e["row"], e["column"]) for e in page.context["check_errors"]] == [(3, "行业")]
    assert len(page.context["rows"]) == 3
    assert not Customer.objects.exists()

    response = client.post(preview_url(token), mapping_data(page, action="import"))
    assert response.status_code == 302
    result_page = client.get(preview_url(token))
    assert result_page.status_code == 200
    assert result_page.context["result"]["created"] == 2
    assert result_page.context["result"]["bad_rows"] == 1
    body = result_page.content.decode()
    assert 'id="count-created">2<' in body
    assert 'id="count-bad">1<' in body
    assert set(Customer.objects.values_list("owner__username", flat=True)) == {"manager_a"}

    download = client.get(preview_url(token), {"download": "errors"})
    lines = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert [line[:2] for line in lines[1:]] == [["3", "行业"]]


def test_the_mapping_can_be_changed_before_importing(users, login):
    client = login(users["admin"])
    headers = ["Firm", "Code", "Type", "行业", "城市"]
    token = upload(client, csv_upload([["甲", make_uscc(1), "sme", "C", "上海"]], headers=headers))
    page = client.get(preview_url(token))
    assert page.context["problems"] == [str(importer.MSG_NO_KEY_COLUMN)]
    assert page.context["check"] is None

    data = mapping_data(page, col_0="name", col_1="credit_code", col_2="client_type")
    client.post(preview_url(token), data | {"action": "remap"})
    page = client.get(preview_url(token))
    assert page.context["problems"] == []
    assert page.context["check"].good_rows == 1
    assert not Customer.objects.exists()

    client.post(preview_url(token), mapping_data(page, action="import"))
    assert Customer.objects.get().name == "甲"


def test_all_or_nothing_from_the_page_writes_nothing(users, login):
    client = login(users["manager_a"])
    token = upload(client, csv_upload([company(1), company(2, industry="?")]))
    page = client.get(preview_url(token))
    client.post(preview_url(token), mapping_data(page, action="import", all_or_nothing="on"))
    result = client.get(preview_url(token))
    assert result.context["result"]["aborted"]
    assert not Customer.objects.exists()


def test_another_user_cannot_open_the_preview(users, login):
    client = login(users["manager_a"])
    token = upload(client, csv_upload([company(1)]))
    for other in ("manager_b", "lead", "admin"):
        client = login(users[other])
        assert client.get(preview_url(token)).status_code == 404
        assert client.post(preview_url(token), {"action": "import"}).status_code == 404
        assert client.get(preview_url(token), {"download": "errors"}).status_code == 404
    assert login(users["manager_a"]).get(preview_url("..")).status_code == 404
    assert not Customer.objects.exists()


@pytest.mark.parametrize("who", ["agent", "risk", "exec", "outsider"])
def test_other_roles_are_refused(users, login, who):
    client = login(users[who])
    assert client.get(reverse("customers:import")).status_code == 403
    response = client.post(reverse("customers:import"), {"file": csv_upload([company(1)])})
    assert response.status_code == 403
    assert client.get(preview_url("x" * 32)).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(reverse("customers:import"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.pdf", b"%PDF-1.7 ...", importer.MSG_BAD_EXTENSION),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", importer.MSG_NOT_CSV),
        ("book.xlsx", "名称,行业\n甲,C\n".encode(), importer.MSG_NOT_XLSX),
    ],
)
def test_a_file_that_is_not_csv_or_xlsx_gets_a_clear_error(
    users, login, media_root, name, content, message
):
    client = login(users["manager_a"])
    response = client.post(reverse("customers:import"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [str(message)]
    assert not list((media_root / "imports").glob("*/source.*"))


def test_a_file_over_the_size_limit_is_refused(users, login, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    client = login(users["manager_a"])
    response = client.post(reverse("customers:import"), {"file": csv_upload([company(1)] * 3)})
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [str(MSG_TOO_BIG % {"max": "100\xa0字节"})]


def test_the_upload_page_renders_for_each_importing_role(users, login):
    for who in ("manager_a", "lead", "admin"):
        response = login(users[who]).get(reverse("customers:import"))
        assert response.status_code == 200
        assert 'enctype="multipart/form-data"' in response.content.decode()


def test_the_preview_opens_with_all_or_nothing_ticked(users, login):
    client = login(users["manager_a"])
    token = upload(client, csv_upload([company(1), company(2, industry="火星业")]))
    page = client.get(preview_url(token))
    assert page.context["form"]["all_or_nothing"].value() is True
    posted = [f for f in forms(page.content.decode()) if f.method == "post"]
    assert any(("all_or_nothing", "on") in f.fields for f in posted)  # untouched, it is on
