"""External checks: each source against its local fake, findings recorded once and resolved
when no longer reported, the daily schedule, the CSV import, the alert and the permissions."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fincrm.checks import services
from fincrm.checks.models import ExternalCheck, Finding
from fincrm.checks.providers import JsonProvider, ProviderError, QichachaProvider
from fincrm.checks.providers import provider_from_url as from_url
from fincrm.testing.factories import ApplicationFactory, FacilityFactory, FindingFactory

from .fakes import APP_KEY, SECRET, json_handler, qcc_handler, serve

pytestmark = pytest.mark.django_db

SHIXIN = [
    {
        "CaseNo": "(2026)苏05执123号",
        "ActionRemark": "有履行能力而拒不履行",
        "Amount": "1,250,000",
        "LianDate": "2026-03-02 00:00:00",
    },
]
PENALTY = [
    {
        "DocNo": "苏市监罚〔2026〕18号",
        "PunishReason": "虚假宣传",
        "Amount": "50000",
        "PunishDate": "2026-01-10",
    }
]


def test_the_qichacha_adapter_signs_each_request_and_maps_the_rows(book):
    results = {"ShixinCheck/GetList": SHIXIN, "AdminPenaltyCheck/GetList": PENALTY}
    with serve(qcc_handler(results)) as (host, requests):
        provider = from_url(f"qcc+http://{APP_KEY}:{SECRET}@{host}")
        found = provider.lookup(identifier=book["a_company"].credit_code, name="x")

    assert isinstance(provider, QichachaProvider)
    assert {r["path"] for r in requests} == {
        "ShixinCheck/GetList",
        "ZhixingCheck/GetList",
        "JudgeDocCheck/GetList",
        "AdminPenaltyCheck/GetList",
        "ECIChange/GetList",
        "ECIPartnerChange/GetList",
    }
    assert all(r["query"]["searchKey"] == book["a_company"].credit_code for r in requests)
    assert [(f.category, f.key, f.amount, f.occurred_on) for f in found] == [
        ("dishonest", "(2026)苏05执123号", 1_250_000, date(2026, 3, 2)),
        ("penalty", "苏市监罚〔2026〕18号", 50_000, date(2026, 1, 10)),
    ]


def test_the_qichacha_adapter_reports_the_providers_errors():
    with (
        serve(qcc_handler({}, quota=True)) as (host, _requests),
        pytest.raises(ProviderError, match="301 套餐额度不足"),
    ):
        from_url(f"qcc+http://{APP_KEY}:{SECRET}@{host}").lookup(identifier="x", name="x")
    with (
        serve(qcc_handler({})) as (host, _requests),
        pytest.raises(ProviderError, match="101 鉴权失败"),
    ):
        from_url(f"qcc+http://{APP_KEY}:wrong@{host}").lookup(identifier="x", name="x")


def test_the_generic_json_source_and_its_errors():
    findings = [
        {
            "category": "litigation",
            "key": "(2026)沪0115民初1号",
            "title": "买卖合同纠纷",
            "amount": 300000,
            "date": "2026-04-01",
        }
    ]
    with serve(json_handler(findings)) as (host, requests):
        provider = from_url(f"http://{host}/lookup")
        found = provider.lookup(identifier="91320500MA1", name="恒瑞")
    assert isinstance(provider, JsonProvider)
    assert requests == [{"identifier": "91320500MA1", "name": "恒瑞"}]
    assert [(f.category, f.key, f.title) for f in found] == [
        ("litigation", "(2026)沪0115民初1号", "买卖合同纠纷")
    ]
    with (
        serve(json_handler([], code=503)) as (host, _requests),
        pytest.raises(ProviderError, match="HTTP 503"),
    ):
        from_url(f"http://{host}/lookup").lookup(identifier="x", name="x")
    with (
        serve(json_handler([{"category": "gossip", "key": "1"}])) as (host, _requests),
        pytest.raises(ProviderError, match="unknown category"),
    ):
        from_url(f"http://{host}/lookup").lookup(identifier="x", name="x")
    assert from_url("") is None
    with pytest.raises(ValueError, match="unknown scheme"):
        from_url("ftp://x")


def test_a_finding_is_recorded_once_and_resolved_when_no_longer_reported(book, settings):
    customer = book["a_company"]
    with serve(qcc_handler({"ShixinCheck/GetList": SHIXIN})) as (host, _r):
        settings.FINCRM_CHECKS_URL = f"qcc+http://{APP_KEY}:{SECRET}@{host}"
        first = services.check_run(customer=customer, reason="onboarding")
        again = services.check_run(customer=customer, reason="monthly")
    assert (first.new_count, again.new_count) == (1, 0)
    finding = Finding.objects.get()
    assert finding.resolved_at is None and finding.first_seen == first

    with serve(qcc_handler({})) as (host, _r):
        settings.FINCRM_CHECKS_URL = f"qcc+http://{APP_KEY}:{SECRET}@{host}"
        cleared = services.check_run(customer=customer, reason="monthly")
    finding.refresh_from_db()
    assert cleared.findings_count == 0 and finding.resolved_at is not None
    # audited: created, seen again by the second check, then no longer reported
    assert finding.history.count() == 3


def test_a_failed_lookup_is_recorded_and_changes_no_finding(book, settings):
    FindingFactory(customer=book["a_company"])
    with serve(qcc_handler({}, quota=True)) as (host, _r):
        settings.FINCRM_CHECKS_URL = f"qcc+http://{APP_KEY}:{SECRET}@{host}"
        check = services.check_run(customer=book["a_company"], reason="monthly")
    assert check.status == "failed" and "301" in check.error
    assert Finding.objects.get().resolved_at is None


def test_the_daily_schedule_onboarding_then_before_approval_then_monthly(book, settings, clock):
    today = timezone.localdate()
    long_ago = timezone.now() - timedelta(days=40)
    for key in ("a_company", "b_company", "a_person"):
        ExternalCheck.objects.create(
            customer=book[key],
            provider="qcc",
            reason="onboarding",
            status="done",
            checked_at=long_ago,
        )
    ApplicationFactory(customer=book["a_company"], stage="credit_review")
    FacilityFactory(customer=book["b_company"])  # live: the monthly recheck is due
    # a_person: checked 40 days ago, nothing live, nothing at review: not due.
    with serve(qcc_handler({})) as (host, _r):
        settings.FINCRM_CHECKS_URL = f"qcc+http://{APP_KEY}:{SECRET}@{host}"
        counts = services.checks_due(as_of=today)
        assert services.checks_due(as_of=today) == {
            "onboarding": 0,
            "pre_approval": 0,
            "monthly": 0,
        }
    assert counts == {"onboarding": 1, "pre_approval": 1, "monthly": 1}  # b_person never checked
    assert set(
        ExternalCheck.objects.filter(checked_at__gt=long_ago).values_list(
            "customer__name", "reason"
        )
    ) == {
        (book["b_person"].name, "onboarding"),
        (book["a_company"].name, "pre_approval"),
        (book["b_company"].name, "monthly"),
    }


def test_the_csv_import_is_all_or_nothing_and_names_each_bad_row(book):
    a = book["a_company"]
    good = (
        "证件号码,类别,编号,标题,金额,日期,来源\n"
        f"{a.credit_code},失信被执行人,X1,拒不履行,100,2026-02-01,报告\n"
    )
    result = services.findings_import(data=good.encode())
    assert (result.checks, result.findings, result.new) == (1, 1, 1)
    assert Finding.objects.get().category == "dishonest"

    bad = (
        "identifier,category,key,title,amount,date\n"
        f"{a.credit_code},litigation,L1,纠纷,abc,2026-02-01\n"
        f"NOBODY,penalty,P1,罚款,,\n"
        f"{a.credit_code},gossip,G1,传闻,,2026-13-01\n"
    )
    with pytest.raises(Exception) as raised:
        services.findings_import(data=bad.encode())
    messages = raised.value.messages
    assert any("2" in m and "amount" in m for m in messages)
    assert any("3" in m and "identifier" in m for m in messages)
    assert any("4" in m and "category" in m for m in messages)
    assert any("4" in m and "date" in m for m in messages)
    assert Finding.objects.count() == 1  # nothing of the bad file


def test_a_new_finding_raises_the_early_warning_alert(book, clock):
    from fincrm.evaluation.choices import RunKind
    from fincrm.evaluation.services import evaluation_run
    from fincrm.risk.models import Alert

    # early warning watches borrowers: a live facility each
    for key in ("a_company", "b_company"):
        FacilityFactory(customer=book[key], start_date=date(2026, 1, 15))
    FindingFactory(customer=book["a_company"], first_seen_at=timezone.now())
    FindingFactory(customer=book["b_company"], first_seen_at=timezone.now() - timedelta(days=90))
    evaluation_run(kind=RunKind.FULL, as_of=timezone.localdate())

    fired = Alert.objects.filter(rule_code="external_finding")
    assert list(fired.values_list("customer_id", flat=True)) == [book["a_company"].pk]


def test_pages_and_api_follow_the_clients_scope(book, users, login, bearer):
    a, b = book["a_company"], book["b_company"]
    FindingFactory(customer=a, key="K-A")
    FindingFactory(customer=b, key="K-B")
    client = login(users["manager_a"])
    page = client.get(reverse("checks:customer", args=[a.pk])).content.decode()
    assert "K-A" in page and "K-B" not in page
    assert client.get(reverse("checks:customer", args=[b.pk])).status_code == 404
    assert client.get(reverse("checks:import")).status_code == 403

    api = client.get(f"/api/v1/checks/customers/{a.pk}", **bearer(users["manager_a"]))
    assert [f["key"] for f in api.json()["findings"]] == ["K-A"]
    assert (
        client.get(f"/api/v1/checks/customers/{b.pk}", **bearer(users["manager_a"])).status_code
        == 404
    )
    no_source = client.post(f"/api/v1/checks/customers/{a.pk}", **bearer(users["manager_a"]))
    assert no_source.status_code == 422
