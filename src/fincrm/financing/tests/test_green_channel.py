"""The core tier's green channel: one approval level fewer, its own queue, an SLA clock from
submission for review to the decision."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fincrm.analytics.policy import default_policy
from fincrm.financing import services
from fincrm.financing.approval import application_decide, required_roles
from fincrm.financing.choices import DocumentStatus, Route, Stage
from fincrm.financing.models import Application
from fincrm.testing.factories import ProductFactory, StatementFactory, UserFactory

from .test_lending import graded

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(db):
    return ProductFactory(
        code="PF01", name="项目融资", product_type="project", min_amount=Decimal(1_000_000),
        max_amount=Decimal(500_000_000), min_tenor_months=24, max_tenor_months=120,
    )  # fmt: skip


def _at_review(customer, product, maker, amount=Decimal(50_000_000)) -> Application:
    application = services.application_create(
        customer=customer, product=product, amount=amount, tenor_months=24, created_by=maker,
        check_bounds=True,
    )  # fmt: skip
    for document in application.documents.all():
        services.document_set_status(document=document, status=DocumentStatus.ACCEPTED)
    for stage in ("submitted", "documents", "due_diligence", "credit_review"):
        if stage in services.allowed_stages(application):  # a stage the route skips is not
            services.application_move_stage(application=application, to_stage=stage, user=maker)
            application.refresh_from_db()
    assert application.stage == Stage.CREDIT_REVIEW
    return application


def test_a_core_client_above_the_committee_line_needs_one_approval_fewer(users, book, project):
    core = graded(book["a_company"], "AA", tier="core")
    other = graded(book["b_company"], "AA", tier="ordinary")
    for firm in (core, other):
        StatementFactory(customer=firm, revenue=Decimal(500_000_000))
    green = _at_review(core, project, users["risk"])
    standard = _at_review(other, project, users["risk"])
    assert (green.route, standard.route) == (Route.GREEN, Route.STANDARD)
    # The green route passes due diligence by.
    assert not green.stage_changes.filter(to_stage=Stage.DUE_DILIGENCE).exists()
    assert standard.stage_changes.filter(to_stage=Stage.DUE_DILIGENCE).exists()

    second = UserFactory(username="risk2", role="risk", team=users["risk"].team)
    for application in (green, standard):
        services.application_move_stage(
            application=application, to_stage=Stage.APPROVED, user=second
        )
        application.refresh_from_db()
    # 50,000,000 CNY: risk officer and executive — on the green channel the risk officer alone.
    assert green.stage == Stage.APPROVED
    assert list(green.votes.values_list("role", flat=True)) == ["risk"]
    assert standard.stage == Stage.CREDIT_REVIEW


def test_the_policy_sets_how_many_approvals_the_green_channel_saves(users, book, project):
    core = graded(book["a_company"], "AA", tier="core")
    StatementFactory(customer=core, revenue=Decimal(500_000_000))
    application = _at_review(core, project, users["risk"])
    policy = default_policy()
    committee = policy.lending.approval_authority[-1]
    assert committee.roles == ["risk", "exec"]
    assert required_roles(application, committee, policy) == ["risk"]
    lending = policy.lending.model_copy(update={"green_channel_fewer_approvers": 0})
    strict = policy.model_copy(update={"lending": lending})
    assert required_roles(application, committee, strict) == ["risk", "exec"]
    second = UserFactory(username="risk2", role="risk", team=users["risk"].team)
    application_decide(application=application, user=second, vote="approve", policy=strict)
    application.refresh_from_db()
    assert application.stage == Stage.CREDIT_REVIEW  # waits for the executive


def test_the_queue_counts_down_each_clock_and_keeps_its_word(client, users, book, project, clock):
    now = timezone.now()
    core = graded(book["a_company"], "A", tier="core")
    late = _at_review(core, project, users["risk"], amount=Decimal(2_000_000))
    fresh = _at_review(core, project, users["risk"], amount=Decimal(3_000_000))
    waiting = services.application_create(
        customer=core, product=project, amount=Decimal(4_000_000), tenor_months=24,
        created_by=users["manager_a"],
    )  # fmt: skip
    decided = services.application_create(
        customer=core, product=project, amount=Decimal(5_000_000), tenor_months=24,
        created_by=users["manager_a"],
    )  # fmt: skip
    Application.objects.filter(pk=late.pk).update(submitted_at=now - timedelta(hours=50))
    Application.objects.filter(pk=fresh.pk).update(submitted_at=now - timedelta(hours=10))
    Application.objects.filter(pk=decided.pk).update(
        stage=Stage.APPROVED,
        submitted_at=now - timedelta(days=3),
        decided_at=now - timedelta(days=3) + timedelta(hours=20),
    )
    standard = graded(book["b_company"], "A", tier="ordinary")
    services.application_create(
        customer=standard, product=project, amount=Decimal(6_000_000), tenor_months=24,
        created_by=users["manager_b"],
    )  # fmt: skip

    client.force_login(users["risk"])
    page = client.get("/financing/applications/green/")
    assert page.status_code == 200
    html = page.content.decode()
    numbers = re.findall(r'class="mono" href="/financing/applications/(\d+)/"', html)
    # Running clocks by deadline, then those not submitted yet; the standard route is not here.
    assert numbers == [str(late.pk), str(fresh.pk), str(waiting.pk)]
    assert re.search(r'id="green-open">3<', html)
    assert re.search(r'id="green-overdue">1<', html)
    assert re.search(r'id="green-within">100.0%<', html)
    assert re.search(r'id="green-median">20<', html)
    assert "已超时 2 小时" in html  # 50 hours after submission, 48 given
    assert "剩余 38 小时" in html  # the fresh one: 48 - 10
    assert "尚未提交" in html

    # A manager sees only the queue of the clients they may see.
    client.force_login(users["manager_b"])
    html = client.get("/financing/applications/green/").content.decode()
    assert not re.findall(r'class="mono" href="/financing/applications/(\d+)/"', html)
    assert re.search(r'id="green-open">0<', html)


def test_until_a_decision_starts_the_route_follows_the_clients_tier(users, book, project):
    from fincrm.financing.routing import routes_follow_tiers

    firm = graded(book["a_company"], "AA", tier="ordinary")
    StatementFactory(customer=firm, revenue=Decimal(500_000_000))
    waiting = _at_review(firm, project, users["risk"], amount=Decimal(2_000_000))
    at_due_diligence = services.application_create(
        customer=firm, product=project, amount=Decimal(3_000_000), tenor_months=24,
        created_by=users["manager_a"],
    )  # fmt: skip
    Application.objects.filter(pk=at_due_diligence.pk).update(stage=Stage.DUE_DILIGENCE)
    voted = _at_review(firm, project, users["risk"], amount=Decimal(40_000_000))
    second = UserFactory(username="risk2", role="risk", team=users["risk"].team)
    services.application_move_stage(application=voted, to_stage=Stage.APPROVED, user=second)
    assert Application.objects.get(pk=voted.pk).stage == Stage.CREDIT_REVIEW  # exec pending

    graded(firm, "AA", tier="core")  # the nightly run made it a core client
    assert routes_follow_tiers() == {"green": 1, "standard": 0}
    routes = dict(Application.objects.values_list("pk", "route"))
    assert routes[waiting.pk] == Route.GREEN
    # Due diligence is a stage the green route passes by; a decision has started on the other.
    assert routes[at_due_diligence.pk] == routes[voted.pk] == Route.STANDARD
    assert Application.objects.get(pk=waiting.pk).history.first().history_change_reason
    assert routes_follow_tiers() == {"green": 0, "standard": 0}  # nothing moves twice

    graded(firm, "AA", tier="key")  # and back
    assert routes_follow_tiers() == {"green": 0, "standard": 1}
    assert Application.objects.get(pk=waiting.pk).route == Route.STANDARD
