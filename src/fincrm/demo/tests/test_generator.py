import hashlib
from datetime import date, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from stdnum.cn import ric, uscc

from fincrm.accounts.choices import Role
from fincrm.accounts.models import User
from fincrm.analytics.delinquency import classify
from fincrm.customers.models import Customer, FinancialStatement
from fincrm.financing.choices import Stage
from fincrm.financing.models import Application, ApplicationStageChange, Facility, Payment

pytestmark = pytest.mark.django_db(transaction=False)

AS_OF = date(2026, 6, 30)


def _load(n=300, seed=7, reset=False) -> str:
    out = StringIO()
    call_command(
        "demo-data", customers=n, seed=seed, as_of=AS_OF, reset=reset, stdout=out, stderr=StringIO()
    )
    return out.getvalue()


def _digest() -> str:
    rows = Customer.objects.order_by("credit_code", "id_number").values_list(
        "name", "credit_code", "id_number", "city", "annual_revenue", "owner__username"
    )
    facilities = Facility.objects.order_by("contract_number").values_list(
        "contract_number", "approved_limit", "days_past_due"
    )
    payments = Payment.objects.order_by("reference").values_list("reference", "paid_on", "amount")
    text = repr((list(rows), list(facilities), list(payments)))
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_same_seed_gives_the_same_book_and_another_seed_another():
    _load()
    first = _digest()
    _load(reset=True)
    assert _digest() == first
    _load(seed=8, reset=True)
    assert _digest() != first
    assert Customer.objects.count() == 300


def test_every_identifier_is_valid_and_unique():
    _load()
    codes = list(Customer.objects.exclude(credit_code=None).values_list("credit_code", flat=True))
    ids = list(Customer.objects.exclude(id_number=None).values_list("id_number", flat=True))
    assert codes and ids
    assert all(uscc.is_valid(c) for c in codes)
    assert all(ric.is_valid(i) for i in ids)
    assert len(set(codes)) == len(codes) and len(set(ids)) == len(ids)


def test_applications_reach_every_stage_along_the_pipeline():
    _load()
    stages = set(Application.objects.values_list("stage", flat=True))
    assert stages == set(Stage.values)
    # Each application's history ends where the application is.
    for application in Application.objects.filter(stage=Stage.REJECTED)[:20]:
        path = list(application.stage_changes.values_list("to_stage", flat=True))
        assert path[0] == Stage.LEAD and path[-1] == Stage.REJECTED
    assert ApplicationStageChange.objects.count() > Application.objects.count()


def test_nothing_in_the_book_happened_after_its_day():
    from zoneinfo import ZoneInfo

    from fincrm.financing.models import ApprovalVote

    _load()
    end = datetime.combine(AS_OF + timedelta(days=1), time(0), tzinfo=ZoneInfo("Asia/Shanghai"))
    events = {
        "stage changes": ApplicationStageChange.objects.filter(changed_at__gte=end),
        "submissions": Application.objects.filter(submitted_at__gte=end),
        "decisions": Application.objects.filter(decided_at__gte=end),
        "votes": ApprovalVote.objects.filter(created_at__gte=end),
        "applications": Application.objects.filter(created_at__gte=end),
        "facility starts": Facility.objects.filter(start_date__gt=AS_OF),
        "payments": Payment.objects.filter(paid_on__gt=AS_OF),
    }
    assert {name: qs.count() for name, qs in events.items() if qs.exists()} == {}
    assert ApplicationStageChange.objects.filter(changed_at__gte=end - timedelta(days=7)).exists()


def test_some_clients_pay_late_and_a_few_default():
    _load()
    late = Facility.objects.filter(days_past_due__gt=0)
    defaulted = Facility.objects.filter(days_past_due__gte=90)
    assert late.exists() and defaulted.exists()
    assert late.count() < Facility.objects.count() / 4
    for facility in late:
        assert facility.loan_class == classify(facility.days_past_due)


def test_statements_are_internally_consistent():
    _load()
    statements = list(FinancialStatement.objects.all())
    for s in statements:
        assert s.current_assets <= s.total_assets
        assert s.inventory + s.receivables <= s.current_assets
        assert s.current_liabilities <= s.total_liabilities
    # A minority of firms is deteriorating: loss-making at the gross level is rare, not absent.
    losing = sum(s.cost >= s.revenue for s in statements)
    assert losing < len(statements) * 0.1


def test_every_role_has_a_user_and_the_passwords_are_printed():
    output = _load(n=50)
    roles = set(User.objects.exclude(portal_account__isnull=False).values_list("role", flat=True))
    assert roles == set(Role.values)
    # And a client's portal login, tied to a client with an open application.
    client = User.objects.get(username="client1")
    assert client.check_password("demo-client1-2026") and "demo-client1-2026" in output
    assert client.portal_account.customer.applications.exists()
    manager = User.objects.get(username="manager1")
    assert manager.check_password("demo-manager1-2026")
    assert "demo-manager1-2026" in output and "demo-admin-2026" in output
    assert User.objects.get(username="admin").is_superuser


def test_reset_replaces_the_book_and_refuses_to_mix_without_it():
    _load(n=60)
    _load(n=40, reset=True)
    assert Customer.objects.count() == 40
    with pytest.raises(Exception, match="--reset"):
        _load(n=40)
    owners = Customer.objects.values("owner__role").annotate(n=Count("pk"))
    assert {row["owner__role"] for row in owners} == {Role.ACCOUNT_MANAGER}


def test_the_portal_demo_client_has_a_running_facility_an_open_survey_and_points(client):
    """Issue 19, point 10: the portal's demo login shows a facility with its schedule, a
    survey to answer and points, on the book's day."""
    from zoneinfo import ZoneInfo

    import time_machine

    from fincrm.loyalty.models import PointsEntry

    _load(n=300, seed=5)
    user = User.objects.get(username="client1")
    customer = user.portal_account.customer
    facility = Facility.objects.filter(customer=customer, status="active").first()
    assert facility is not None and facility.installments.count() >= 3
    assert sum(PointsEntry.objects.filter(customer=customer).values_list("points", flat=True)) > 0
    noon = datetime.combine(AS_OF, time(12), tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(noon, tick=False):
        client.force_login(user)
        html = client.get("/portal/").content.decode()
        invitation = customer.survey_invitations.get(cause="portal_demo")
        assert invitation.is_open
    assert facility.contract_number in html and "还款计划" in html
    assert invitation.survey.name in html and "暂无待填写问卷" not in html
    assert "可用积分" in html
