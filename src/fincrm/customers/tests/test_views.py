import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from fincrm.core.validators import MSG_BAD_USCC
from fincrm.customers.models import Customer
from fincrm.engagement.models import Interaction
from fincrm.testing.factories import (
    ApplicationFactory,
    ContactFactory,
    CustomerFactory,
    FacilityFactory,
    StatementFactory,
    make_ric,
    make_uscc,
    monthly_schedule,
)

pytestmark = pytest.mark.django_db


def _names(response):
    return [c.name for c in response.context["object_list"]]


def test_search_finds_by_name_code_and_contact_phone(users, book, login):
    client = login(users["risk"])
    url = reverse("customers:list")
    assert _names(client.get(url, {"q": "恒瑞"})) == ["苏州恒瑞精密机械有限公司"]
    code = book["b_company"].credit_code
    assert _names(client.get(url, {"q": code.lower()})) == [book["b_company"].name]
    ContactFactory(customer=book["b_person"], phone="13900001111")
    assert _names(client.get(url, {"q": "1390000111"})) == [book["b_person"].name]


def test_search_never_leaks_outside_the_book(users, book, login):
    client = login(users["manager_a"])
    response = client.get(reverse("customers:list"), {"q": "深圳华信"})
    assert _names(response) == []


def test_filters_and_sorting_combine(users, book, login):
    CustomerFactory(
        owner=users["manager_a"], name="北京甲", industry="F", annual_revenue=Decimal(1)
    )
    CustomerFactory(
        owner=users["manager_a"], name="北京乙", industry="F", annual_revenue=Decimal(9)
    )
    client = login(users["manager_a"])
    response = client.get(
        reverse("customers:list"), {"industry": "F", "ordering": "-annual_revenue"}
    )
    assert _names(response) == ["北京乙", "北京甲"]
    response = client.get(reverse("customers:list"), {"kind": "person"})
    assert _names(response) == ["王建国"]


def test_list_paginates_and_reports_the_total(users, login):
    for n in range(30):
        CustomerFactory(owner=users["manager_a"], name=f"客户{n:02d}")
    client = login(users["manager_a"])
    page1 = client.get(reverse("customers:list"))
    page2 = client.get(reverse("customers:list"), {"page": 2})
    assert len(page1.context["object_list"]) == 25
    assert len(page2.context["object_list"]) == 5
    assert page1.context["paginator"].count == 30


def test_list_query_count_does_not_grow_with_rows(users, login, django_assert_max_num_queries):
    client = login(users["admin"])
    CustomerFactory.create_batch(3, owner=users["manager_a"])
    # Session, user, portal account, the count (on PostgreSQL an estimate by EXPLAIN first),
    # owners and teams for the filters, the reader's saved views, the page's rows.
    with django_assert_max_num_queries(9) as small:
        client.get(reverse("customers:list"))
    CustomerFactory.create_batch(22, owner=users["manager_b"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("customers:list"))


def _rich_customer(owner, years: int):
    """A client of ``years`` years: each year a statement, a contact, an application and a
    facility; all but the last year's are decided (disbursed) and closed."""
    customer = CustomerFactory(owner=owner)
    for y in range(years):
        last = y == years - 1
        StatementFactory(customer=customer, period_end=date(2016 + y, 12, 31))
        ContactFactory(customer=customer)
        app = ApplicationFactory(customer=customer, stage="lead" if last else "disbursed")
        app.stage_changes.create(from_stage="", to_stage="lead")
        facility = FacilityFactory(
            customer=customer,
            start_date=date(2016 + y, 1, 15),
            status="active" if last else "closed",
        )
        monthly_schedule(facility, months=12, principal=Decimal(250000), interest=Decimal(16000))
        Interaction.objects.create(customer=customer, channel="phone", subject=f"回访{y}")
    return customer


def test_360_query_count_is_constant_in_history_length(users, login, django_assert_max_num_queries):
    client = login(users["manager_a"])
    short = _rich_customer(users["manager_a"], 1)
    # 51: the after-disbursement card (postloan.selectors.customer_postloan) reads its rows
    # in one query; 53: the referrals both ways and the loyalty card's unrewarded ones.
    with django_assert_max_num_queries(53) as baseline:
        client.get(reverse("customers:detail", args=[short.pk]))
    long = _rich_customer(users["manager_a"], 6)
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = client.get(reverse("customers:detail", args=[long.pk]))
    assert response.status_code == 200


def test_360_page_of_a_long_history_lists_open_work_and_loads_closed_schedules_on_demand(
    users, login
):
    customer = _rich_customer(users["manager_a"], 14)  # 13 decided applications, 1 open
    client = login(users["manager_a"])
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    shown = response.context["applications"]
    assert len(shown) == 11  # the open one and the latest 10 decided
    assert [a.stage for a in shown].count("lead") == 1
    assert response.context["applications_total"] == 14
    html = response.content.decode()
    assert f"{reverse('financing:applications')}?customer={customer.pk}" in html
    live, *closed = response.context["facilities"]
    assert live.status == "active" and live.schedule_inline
    assert len(closed) == 13 and not any(f.schedule_inline for f in closed)
    schedule_url = reverse("financing:facility_schedule", args=[closed[0].pk])
    assert f'hx-get="{schedule_url}"' in html
    assert html.count('<table class="table inner">') == 1  # only the live schedule inline
    # The closed facility's schedule, when opened: its twelve instalments.
    part = client.get(schedule_url)
    assert part.status_code == 200
    # (a row may carry a class: an unpaid instalment past its due date is marked overdue)
    assert len(re.findall(r"<tr[^>]*><td>", part.content.decode())) == 12
    # The application list filtered to the client shows all fourteen.
    listed = client.get(reverse("financing:applications"), {"customer": customer.pk})
    assert len(listed.context["object_list"]) == 14
    # Another manager's client: neither its schedule nor its applications.
    other = login(users["manager_b"])
    assert other.get(schedule_url).status_code == 404
    listed = other.get(reverse("financing:applications"), {"customer": customer.pk})
    assert len(listed.context["object_list"]) == 0


def test_industry_medians_are_cached_until_a_statement_is_added(users, django_assert_num_queries):
    from fincrm.risk.selectors import industry_ratio_medians

    peers = [CustomerFactory(owner=users["manager_a"], industry="C") for _ in range(3)]
    for n, peer in enumerate(peers):
        StatementFactory(customer=peer, net_profit=Decimal(1_000_000 * (n + 1)))
    first = industry_ratio_medians("C")
    assert first["net_margin"] == pytest.approx(0.04)  # median of 1, 2, 3 M over 50 M revenue
    with django_assert_num_queries(2):  # the two cache-key lookups, no statement read
        assert industry_ratio_medians("C") == first
    StatementFactory(
        customer=peers[0], period_end=date(2026, 12, 31), net_profit=Decimal("5000000")
    )
    # The first peer's latest statement is now the new one: 5, 2, 3 M → median 3 M.
    assert industry_ratio_medians("C")["net_margin"] == pytest.approx(0.06)


def test_360_page_shows_every_part_of_the_client(users, book, login):
    customer = book["a_company"]
    StatementFactory(customer=customer, period_end=date(2024, 12, 31))
    ContactFactory(customer=customer, name="赵财务", phone="13712345678")
    app = ApplicationFactory(customer=customer, purpose="采购原材料")
    app.stage_changes.create(from_stage="", to_stage="lead")
    facility = FacilityFactory(customer=customer, contract_number="HT-360-1")
    monthly_schedule(facility, months=3, principal=Decimal(1000000), interest=Decimal(16250))
    Interaction.objects.create(customer=customer, channel="wechat", subject="续贷意向沟通")
    html = (
        login(users["manager_a"])
        .get(reverse("customers:detail", args=[customer.pk]))
        .content.decode()
    )
    for text in [
        "赵财务",
        "13712345678",
        "HT-360-1",
        "续贷意向沟通",
        "fin-chart-data",
        customer.credit_code,
    ]:
        assert text in html


def test_agents_see_masked_id_numbers_and_phones(users, book, login):
    person = book["a_person"]
    html = login(users["agent"]).get(reverse("customers:detail", args=[person.pk])).content.decode()
    assert person.id_number not in html
    assert person.id_number[:3] + "*" * 11 + person.id_number[-4:] in html
    assert person.phone not in html
    html = (
        login(users["manager_a"])
        .get(reverse("customers:detail", args=[person.pk]))
        .content.decode()
    )
    assert person.id_number in html


def _form_data(users, **overrides):
    data = {
        "kind": "company",
        "name": "杭州云帆信息技术有限公司",
        "credit_code": make_uscc(777, "330106"),
        "id_number": "",
        "phone": "13600000000",
        "email": "",
        "client_type": "sme",
        "industry": "I",
        "province": "浙江",
        "city": "杭州",
        "address": "",
        "registered_capital": "5000000",
        "annual_revenue": "20000000",
        "employee_count": "80",
        "needs_level": "basic",
        "risk_appetite": "steady",
        "source_channel": "referral",
        "owner": users["manager_a"].pk,
        "birthday": "",
        "founded_on": "2018-05-01",
    }
    data.update(overrides)
    return data


def test_a_manager_creates_a_client_with_city_tier_and_team_derived(users, login):
    client = login(users["manager_a"])
    response = client.post(reverse("customers:create"), _form_data(users))
    customer = Customer.objects.get(name="杭州云帆信息技术有限公司")
    assert response.status_code == 302
    assert customer.city_tier == "new1"
    assert customer.team == users["manager_a"].team
    assert customer.history.count() == 1


def test_a_bad_credit_code_is_refused_with_the_reason(users, login):
    client = login(users["manager_a"])
    response = client.post(
        reverse("customers:create"), _form_data(users, credit_code="91330106000000777A")
    )
    assert response.status_code == 200
    with translation.override("zh-hans"):
        expected = str(MSG_BAD_USCC)
    assert expected in response.content.decode()
    assert not Customer.objects.filter(name="杭州云帆信息技术有限公司").exists()


def test_a_city_in_the_wrong_province_is_refused(users, login):
    client = login(users["manager_a"])
    response = client.post(reverse("customers:create"), _form_data(users, province="江苏"))
    assert response.status_code == 200
    assert response.context["form"].errors["city"]


def test_a_duplicate_credit_code_is_refused(users, book, login):
    client = login(users["manager_a"])
    response = client.post(
        reverse("customers:create"), _form_data(users, credit_code=book["b_company"].credit_code)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["credit_code"]


def test_a_person_needs_an_id_number_not_a_credit_code(users, login):
    client = login(users["manager_a"])
    data = _form_data(
        users,
        kind="person",
        name="刘洋",
        credit_code="",
        client_type="sme_owner",
        id_number=make_ric(5, date(1985, 6, 1)),
        birthday="1985-06-01",
    )
    response = client.post(reverse("customers:create"), data)
    assert response.status_code == 302
    person = Customer.objects.get(name="刘洋")
    assert person.credit_code is None and person.id_number.startswith("110105")


def test_a_manager_cannot_assign_a_client_to_another_manager(users, login):
    client = login(users["manager_a"])
    response = client.post(
        reverse("customers:create"), _form_data(users, owner=users["manager_b"].pk)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["owner"]


def test_editing_records_who_changed_what(users, book, login):
    customer = book["a_company"]
    client = login(users["manager_a"])
    data = _form_data(
        users,
        name=customer.name,
        credit_code=customer.credit_code,
        province="江苏",
        city="苏州",
        annual_revenue="61000000",
    )
    assert client.post(reverse("customers:edit", args=[customer.pk]), data).status_code == 302
    latest = customer.history.first()
    assert latest.history_user == users["manager_a"]
    delta = latest.diff_against(latest.prev_record)
    changed = {c.field: (c.old, c.new) for c in delta.changes}
    assert changed["annual_revenue"] == (Decimal("52000000.00"), Decimal("61000000.00"))
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "61000000.00" in html


def test_risk_officer_cannot_post_an_edit(users, book, login):
    client = login(users["risk"])
    response = client.post(
        reverse("customers:edit", args=[book["a_company"].pk]), _form_data(users)
    )
    assert response.status_code == 404


def test_service_agent_cannot_create_clients(users, login):
    assert login(users["agent"]).get(reverse("customers:create")).status_code == 403


def test_pages_switch_to_english(users, book, login):
    client = login(users["manager_a"])
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("customers:list")).content.decode()
    assert "Clients" in html and '<html lang="en">' in html


def test_the_controls_in_force_are_named_in_chinese(book, users, login):
    FacilityFactory(
        customer=book["a_company"], contract_number="HT-CTRL-1",
        risk_controls={"grade": "A", "max_tenor_months": 36, "pricing_spread_bp": 150,
                       "guarantee": "guarantee_and_collateral", "margin_ratio": 0.1,
                       "review_frequency": "half_yearly"},
    )  # fmt: skip
    html = login(users["manager_a"]).get(book["a_company"].get_absolute_url()).content.decode()
    assert "担保加抵质押" in html and "每半年" in html
    assert "guarantee_and_collateral" not in html and "half_yearly" not in html
