"""Extension and restructuring on the 360° page: the request form, the pending request with
its approve/reject form for those with authority, a refusal that says why and changes
nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from fincrm.financing.choices import ModificationStatus
from fincrm.financing.models import FacilityModification
from fincrm.financing.tests.test_modifications import book_loan, decide, graded, request, rows

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def loan(book, clock):
    return book_loan(graded(book["a_company"], "BBB"))


def test_the_360_page_requests_and_decides_a_modification(client, loan, users):
    page = reverse("customers:detail", args=[loan.customer_id])
    client.force_login(users["manager_a"])
    html = client.get(page).content.decode()
    request_url = reverse("financing:modification_request", args=[loan.pk])
    assert f'action="{request_url}"' in html
    response = client.post(request_url, {"kind": "extension", "extension_months": "6",
                                         "reason": "回款周期延长"})  # fmt: skip
    assert response.status_code == 302
    modification = FacilityModification.objects.get()
    decide_url = reverse("financing:modification_decide", args=[modification.pk])
    html = client.get(page).content.decode()
    assert "回款周期延长" in html and f'action="{decide_url}"' not in html  # the maker

    client.force_login(users["lead"])
    html = client.get(page).content.decode()
    assert f'action="{decide_url}"' in html
    client.post(decide_url, {"vote": "approve", "note": "同意展期"})
    modification.refresh_from_db()
    assert modification.status == ModificationStatus.APPROVED
    assert len(rows(loan)) == 18
    html = client.get(page).content.decode()
    assert "2027-07-10" in html  # the new maturity


def test_a_refused_page_decision_says_why_and_changes_nothing(client, loan, users):
    modification = request(loan, users["manager_a"], kind="restructuring", new_rate=D(4))
    client.force_login(users["risk"])
    before = rows(loan)
    response = client.post(
        reverse("financing:modification_decide", args=[modification.pk]), {"vote": "approve"},
        follow=True,
    )  # fmt: skip
    assert "5.2" in response.content.decode()
    modification.refresh_from_db()
    assert modification.status == "pending" and rows(loan) == before


def test_the_360_page_speaks_chinese_about_modifications(client, loan, users):
    import re

    from fincrm.testing.html import visible_text

    for user, (last, first) in (("manager_a", ("王", "芳")), ("lead", ("李", "强"))):
        users[user].last_name, users[user].first_name = last, first
        users[user].save()
    restructured = request(loan, users["manager_a"], kind="restructuring", new_rate=D("5.5"),
                           new_method="equal_principal", extension_months=3)  # fmt: skip
    decide(restructured, users["lead"], note="同意")
    request(loan, users["manager_a"], extension_months=3)
    client.cookies["django_language"] = "zh-hans"
    client.force_login(users["lead"])
    html = client.get(reverse("customers:detail", args=[loan.customer_id])).content.decode()
    # The facility's modifications row (the rest of the page is the one-language crawl's).
    block = html.split('class="sub modifications"', 1)[1].split("</td></tr>", 1)[0]
    text = visible_text("<div " + block + "</div>")
    for phrase in ("展期", "重组", "待审批", "调整前的还款计划（7 期）", "利率 6.000% → 5.500%",
                   "剩余本金", "观察期至", "提交审批意见"):  # fmt: skip
        assert phrase in text, phrase
    codes = {"extension", "restructuring", "pending", "approved", "equal_principal",
             "equal_instalment"}  # fmt: skip
    words = set(re.findall(r"[A-Za-z_]+", text))
    assert not words & codes, words & codes
    assert not [w for w in words if re.fullmatch(r"[a-z]+(?:_[a-z]+)+", w)]


def test_the_requester_withdraws_a_request_others_cannot(client, loan, users):
    modification = request(loan, users["manager_a"], extension_months=6)
    url = reverse("financing:modification_cancel", args=[modification.pk])
    client.force_login(users["manager_b"])
    assert client.post(url).status_code == 404
    client.force_login(users["risk"])  # sees the client, may not change it
    assert client.post(url).status_code == 403
    client.force_login(users["manager_a"])
    client.post(url)
    modification.refresh_from_db()
    assert modification.status == ModificationStatus.CANCELLED
    assert modification.decided_by == users["manager_a"]
