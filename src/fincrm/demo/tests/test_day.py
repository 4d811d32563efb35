"""A week of the demo book's life after its last nightly run (``demo.day``)."""

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F, Sum

from fincrm.customers.models import Customer
from fincrm.demo.day import DECISIONS_PER_OFFICER, TASKS_PER_CLIENT_DAY, advance_book
from fincrm.engagement.models import Interaction, Task
from fincrm.evaluation.services import evaluation_run, policy_active, policy_config
from fincrm.financing.models import Facility, Installment, Payment
from fincrm.risk.models import Alert, ControlProposal

pytestmark = pytest.mark.django_db(transaction=False)

AS_OF = date(2026, 6, 30)
WEEK = [AS_OF + timedelta(days=d) for d in range(1, 8)]


@pytest.fixture
def lived_week():
    call_command(
        "demo-data", customers=400, seed=3, as_of=AS_OF, stdout=StringIO(), stderr=StringIO()
    )
    evaluation_run(kind="full", as_of=AS_OF)
    # As if the night's grades had moved for a few clients: their pending control proposals.
    controls = policy_config(policy_active()).grade_controls
    for customer in Customer.objects.filter(facilities__status="active").distinct()[:12]:
        ControlProposal.objects.create(
            customer=customer, from_grade="A", to_grade="BB",
            controls=controls["BB"].model_dump(mode="json"),
        )  # fmt: skip
    before = {
        "drawn": dict(Facility.objects.values_list("pk", "drawn_amount")),
        "open_alerts": set(Alert.objects.filter(status="open").values_list("pk", flat=True)),
        "pending": set(
            ControlProposal.objects.filter(status="pending").values_list("pk", flat=True)
        ),
        "due_in_week": list(
            Installment.objects.filter(
                due_date__in=WEEK, paid_off_on__isnull=True, facility__days_past_due=0,
                facility__status="active",
            ).values_list("pk", "due_date")
        ),
        "interactions": Interaction.objects.count(),
        "open_tasks_due": Task.objects.filter(status="open", due_on__lte=WEEK[-1]).count(),
    }  # fmt: skip
    return before, advance_book(start=WEEK[0], end=WEEK[-1], seed=3)


def test_good_payers_pay_on_the_due_day_and_the_money_adds_up(lived_week):
    before, advance = lived_week
    assert [d.day for d in advance.days] == WEEK
    due = before["due_in_week"]
    assert len(due) > 30  # enough instalments to measure on (defaulters pay none)
    paid = dict(Installment.objects.filter(pk__in=[pk for pk, _ in due]).values_list(
        "pk", "paid_off_on"
    ))  # fmt: skip
    on_time = sum(paid[pk] == day for pk, day in due)
    assert on_time / len(due) > 0.9
    settled = Installment.objects.filter(paid_off_on__in=WEEK)
    assert settled.count() == advance.total("installments_paid")
    # Each paid instalment is paid in full; the week's payments are exactly those amounts.
    # (to the cent: SQLite keeps decimals as floats)
    for owed, paid_amount in settled.values_list(
        F("principal_due") + F("interest_due"), "amount_paid"
    ):
        assert abs(owed - paid_amount) < Decimal("0.005")
    payments = Payment.objects.filter(paid_on__in=WEEK)
    assert payments.count() == advance.total("payments")
    total_paid = payments.aggregate(s=Sum("amount"))["s"]
    assert (
        abs(total_paid - settled.aggregate(s=Sum("amount_paid"))["s"])
        < Decimal("0.01") * payments.count()
    )
    for day in WEEK:  # one payment per paying facility and day, on its day
        day_payments = payments.filter(paid_on=day)
        assert day_payments.count() == day_payments.values("facility").distinct().count()
    # The drawn amount falls by the principal repaid (to nothing when the facility closes).
    repaid = settled.order_by().values("facility").annotate(p=Sum("principal_due"))
    now = {f.pk: f for f in Facility.objects.filter(pk__in=[r["facility"] for r in repaid])}
    for row in repaid:
        facility = now[row["facility"]]
        expected = (
            Decimal(0) if facility.status == "closed" else before["drawn"][facility.pk] - row["p"]
        )
        assert abs(facility.drawn_amount - max(expected, Decimal(0))) < Decimal("0.01")


def test_staff_work_their_tasks_alerts_and_proposals(lived_week):
    before, advance = lived_week
    done = Task.objects.filter(status="done", completed_at__date__in=WEEK)
    assert done.count() == advance.total("tasks_done") > 0
    capacity = int(TASKS_PER_CLIENT_DAY * 400) + 1  # the staff's day, at 400 clients
    assert before["open_tasks_due"] > 7 * capacity  # the first night's backlog
    assert all(d.tasks_done == capacity for d in advance.days)
    logged = Interaction.objects.count() - before["interactions"]
    assert logged == advance.total("interactions") > 0
    assert Interaction.objects.filter(occurred_at__date__in=WEEK).count() == logged

    closed = Alert.objects.filter(
        pk__in=before["open_alerts"], status__in=["resolved", "dismissed"]
    )
    assert closed.count() == advance.total("alerts_closed") > 0
    for alert in closed[:20]:
        assert alert.closed_by_id and alert.closed_at.date() in WEEK and alert.resolution
        assert alert.history.filter(history_type="~").exists()  # audited

    decided = ControlProposal.objects.filter(pk__in=before["pending"]).exclude(status="pending")
    assert decided.count() == advance.total("proposals_decided") > 0
    assert max(d.proposals_decided for d in advance.days) <= DECISIONS_PER_OFFICER * 2
    approved = decided.filter(status="approved").first()
    assert approved.decided_by.role == "risk"
    live = Facility.objects.filter(customer_id=approved.customer_id, status="active")
    assert all(f.risk_controls.get("proposal") == approved.pk for f in live)


def test_the_next_night_sees_the_week(lived_week):
    """The run after the week: arrears as of its day, new grades from the payments."""
    overdue = Installment.objects.filter(
        facility__status="active", paid_off_on__isnull=True, due_date__lt=WEEK[-1]
    )
    stale = Facility.objects.filter(pk__in=overdue.values("facility"), days_past_due=0)
    assert stale.exists()  # nobody refreshed the arrears of the week's misses yet
    from fincrm.financing.services import delinquency_refresh

    assert delinquency_refresh(as_of=WEEK[-1]) > 0
    assert not stale.exists()
    for facility in Facility.objects.filter(status="active", days_past_due__gt=0)[:20]:
        assert facility.days_past_due == facility.compute_days_past_due(WEEK[-1])


def test_the_command_plays_the_days_since_the_last_night():
    from django.core.management.base import CommandError

    call_command(
        "demo-data", customers=60, seed=5, as_of=AS_OF, stdout=StringIO(), stderr=StringIO()
    )
    with pytest.raises(CommandError, match="no full evaluation run"):
        call_command("demo-day", to=WEEK[1], stdout=StringIO())
    evaluation_run(kind="full", as_of=AS_OF)
    with pytest.raises(CommandError, match="nothing to play"):
        call_command("demo-day", to=AS_OF, stdout=StringIO())
    out = StringIO()
    call_command("demo-day", to=WEEK[1], stdout=out)
    text = out.getvalue()
    assert WEEK[0].isoformat() in text and WEEK[1].isoformat() in text
    assert WEEK[2].isoformat() not in text
    assert Payment.objects.filter(paid_on__gt=AS_OF).exists()
    assert not Payment.objects.filter(paid_on__gt=WEEK[1]).exists()


def test_a_day_on_an_empty_book_does_nothing():
    from fincrm.demo.day import play_day

    stats = play_day(AS_OF)
    assert (stats.payments, stats.tasks_done, stats.interactions, stats.alerts_closed) == (0,) * 4
    assert not Interaction.objects.exists() and not Payment.objects.exists()
