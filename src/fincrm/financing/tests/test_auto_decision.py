"""Fast decisions for small loans: the automatic-decision rule approves an application inside
it the moment it reaches credit review (a vote of the rule with its policy version), sends a
random sample to a person, refers everything else with the conditions it failed; the KPI
dashboard counts the rule's share and the hours to a decision."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fincrm.analytics.policy import default_policy
from fincrm.financing import services
from fincrm.financing.approval import application_auto_decide, sampled
from fincrm.financing.choices import AutoDecision, DocumentStatus, Stage
from fincrm.financing.models import Application
from fincrm.risk.models import Alert
from fincrm.testing.factories import ProductFactory, StatementFactory

from .test_lending import graded

pytestmark = pytest.mark.django_db


@pytest.fixture
def wc(db):
    return ProductFactory(code="WC01", min_amount=Decimal(100_000), max_tenor_months=36)


@pytest.fixture
def not_sampled(monkeypatch):
    """The rule's random sample (5 % by default) takes no application here: it draws from the
    application's id, which on PostgreSQL depends on the sequence's state, so a test that
    expects the rule to decide would fail one run in twenty."""
    monkeypatch.setattr("fincrm.financing.approval.sampled", lambda *args: False)


def _to_review(application, user) -> Application:
    for document in application.documents.all():
        services.document_set_status(document=document, status=DocumentStatus.ACCEPTED)
    for stage in ("submitted", "documents", "due_diligence", "credit_review"):
        if stage in services.allowed_stages(application):
            services.application_move_stage(application=application, to_stage=stage, user=user)
            application.refresh_from_db()
    return application


def _open(customer, product, amount, user) -> Application:
    return services.application_create(
        customer=customer, product=product, amount=Decimal(amount), tenor_months=12,
        created_by=user, check_bounds=True,
    )  # fmt: skip


def test_a_small_loan_to_a_good_client_is_approved_by_the_rule_through_the_api(
    client, users, book, wc, bearer, clock, not_sampled
):
    firm = graded(book["a_company"], "AA")
    StatementFactory(customer=firm, revenue=Decimal(50_000_000))
    application = _open(firm, wc, 200_000, users["manager_a"])
    for document in application.documents.all():
        services.document_set_status(document=document, status=DocumentStatus.ACCEPTED)
    headers = bearer(users["manager_a"])
    for stage in ("submitted", "documents", "due_diligence", "credit_review"):
        response = client.post(
            f"/api/v1/applications/{application.pk}/stage",
            {"to_stage": stage},
            content_type="application/json",
            **headers,
        )
        assert response.status_code == 200, response.content
    body = response.json()
    assert body["stage"] == Stage.APPROVED
    assert body["auto_decision"] == AutoDecision.APPROVED
    assert [(v["role"], v["vote"]) for v in body["votes"]] == [("rule", "approve")]
    version = services.policy_current()[1]
    assert body["votes"][0]["authority"] == f"自动审批规则，政策第 {version} 版"
    vote = Application.objects.get(pk=application.pk).votes.get()
    assert vote.user is None and vote.policy_version == services.policy_current()[1]
    # The maker did not decide: the rule did, recorded as such on the page.
    client.force_login(users["manager_a"])
    page = client.get(f"/financing/applications/{application.pk}/").content.decode()
    assert "自动审批规则" in page and "政策第" in page and 'id="auto-decision"' in page


def test_outside_the_rule_an_application_waits_for_the_approvers_with_the_reasons(users, book, wc):
    firm = graded(book["a_company"], "AA")
    StatementFactory(customer=firm, revenue=Decimal(50_000_000))
    big = _to_review(_open(firm, wc, 500_000, users["manager_a"]), users["manager_a"])
    Alert.objects.create(customer=firm, rule_code="cash_flow_drop", signal="cash_flow_change",
                         value=-0.4, threshold=-0.3, severity="medium",
                         raised_on=timezone.localdate())  # fmt: skip
    warned = _to_review(_open(firm, wc, 200_000, users["manager_a"]), users["manager_a"])
    weaker = graded(book["b_company"], "BBB")
    StatementFactory(customer=weaker, revenue=Decimal(50_000_000))
    bbb = _to_review(_open(weaker, wc, 200_000, users["manager_b"]), users["manager_b"])

    for application in (big, warned, bbb):
        assert application.stage == Stage.CREDIT_REVIEW
        assert application.auto_decision == AutoDecision.REFERRED
        assert not application.votes.exists()
    assert big.auto_decision_reasons == [{"code": "amount", "limit": "300,000"}]
    assert warned.auto_decision_reasons == [{"code": "alerts", "count": 1}]
    assert bbb.auto_decision_reasons == [{"code": "grade", "grade": "BBB", "worst": "A"}]
    from django.utils import translation

    from fincrm.financing.approval import describe_auto_reasons

    with translation.override("zh-hans"):
        assert describe_auto_reasons(bbb.auto_decision_reasons) == ["评级 BBB，规则要求 A 及以上"]
    # A risk officer approves the BBB one within the authority table as before.
    services.application_move_stage(application=bbb, to_stage=Stage.APPROVED, user=users["risk"])
    bbb.refresh_from_db()
    assert bbb.stage == Stage.APPROVED and bbb.votes.get().role == "risk"


def test_the_random_sample_goes_to_a_person_and_is_the_same_however_often_asked(users, book, wc):
    firm = graded(book["a_company"], "AA")
    StatementFactory(customer=firm, revenue=Decimal(50_000_000))
    policy = default_policy()
    everyone = policy.model_copy(
        update={
            "lending": policy.lending.model_copy(
                update={
                    "auto_approval": policy.lending.auto_approval.model_copy(
                        update={"sample_share": 1.0}
                    )
                }
            )
        }
    )
    application = _open(firm, wc, 200_000, users["manager_a"])
    for document in application.documents.all():
        services.document_set_status(document=document, status=DocumentStatus.ACCEPTED)
    Application.objects.filter(pk=application.pk).update(stage=Stage.CREDIT_REVIEW)
    outcome = application_auto_decide(application=application, policy=everyone, policy_version=9)
    application.refresh_from_db()
    assert outcome == AutoDecision.SAMPLED and application.stage == Stage.CREDIT_REVIEW
    assert not application.votes.exists()
    # About the policy's share of a thousand applications is sampled, the same each time.
    draws = [sampled(pk, 3, 0.05) for pk in range(1, 1001)]
    assert 30 <= sum(draws) <= 70 and draws == [sampled(pk, 3, 0.05) for pk in range(1, 1001)]


def test_the_dashboard_counts_the_rules_share_and_the_hours(users, book, wc, clock, not_sampled):
    from fincrm.insights.kpis import Filters, dashboard

    firm = graded(book["a_company"], "AA")
    StatementFactory(customer=firm, revenue=Decimal(50_000_000))
    automatic = _to_review(_open(firm, wc, 200_000, users["manager_a"]), users["manager_a"])
    assert automatic.stage == Stage.APPROVED
    manual = _to_review(_open(firm, wc, 900_000, users["manager_a"]), users["manager_a"])
    now = timezone.now()
    Application.objects.filter(pk=manual.pk).update(submitted_at=now - timedelta(hours=30))
    services.application_move_stage(application=manual, to_stage=Stage.APPROVED,
                                    user=users["risk"])  # fmt: skip
    today = timezone.localdate()
    filters = Filters(start=date(today.year, today.month, 1), end=today + timedelta(days=1))
    figure = {f.key: f for f in dashboard(user=users["risk"], filters=filters, use_cache=False)}
    (row,) = figure["decisions"].rows
    assert (row["decided"], row["automatic"]) == (2, 1)
    assert row["automatic_share"] == pytest.approx(50.0)
    assert row["hours_people"] == pytest.approx(30.0, abs=0.1)
    assert row["hours_automatic"] < 0.1
