"""The applications list (issue 19, point 4): sorted by column header, exported as the
reader sees it (their scope, filters and order; every page)."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fincrm.testing.factories import ApplicationFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _rows(response) -> list[int]:
    return [a.pk for a in response.context["object_list"]]


def test_applications_sort_by_column_header(book, users, login, clock):
    product = ProductFactory()
    small = ApplicationFactory(
        customer=book["a_company"], product=product, amount=Decimal("600000")
    )
    big = ApplicationFactory(customer=book["a_person"], product=product, amount=Decimal("9000000"))
    client = login(users["manager_a"])
    url = reverse("financing:applications")
    assert _rows(client.get(url + "?ordering=amount")) == [small.pk, big.pk]
    assert _rows(client.get(url + "?ordering=-amount")) == [big.pk, small.pk]
    page = client.get(url + "?ordering=amount").content.decode()
    assert "ordering=-amount" in page  # the header pressed again reverses


def test_the_export_is_every_page_scoped_filtered_and_in_the_readers_language(
    book, users, login, clock
):
    product = ProductFactory()
    for i in range(27):  # more than a page of 25
        ApplicationFactory(customer=book["a_company"], product=product,
                           amount=Decimal(1_000_000 + i * 1000))  # fmt: skip
    ApplicationFactory(customer=book["b_company"], product=product)  # manager_b's
    client = login(users["manager_a"])
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("financing:applications") + "?ordering=-amount&export=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "fincrm-applications-" in response["Content-Disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "排序" and "金额" in rows[0][1]  # the sort applied, written on top
    header = next(i for i, r in enumerate(rows) if r and r[0] == "编号")
    body = [r for r in rows[header + 1 :] if r and r[0]]
    assert len(body) == 27
    assert {r[1] for r in body} == {book["a_company"].name}
    assert [r[3] for r in body] == sorted((r[3] for r in body), reverse=True)
    assert body[0][3] == 1_026_000 and body[0][0].startswith("SQ")
    assert sheet.cell(row=header + 2, column=4).number_format == "#,##0"
    assert sheet.freeze_panes == f"A{header + 2}"
