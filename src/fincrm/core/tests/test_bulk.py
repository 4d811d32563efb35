from datetime import UTC, date, datetime

import polars as pl
import pytest

from fincrm.core.bulk import MAX_PARAMS, insert_frame, insert_rows
from fincrm.engagement.choices import Priority, TaskKind, TaskStatus
from fincrm.engagement.models import Notification, Task
from fincrm.evaluation.models import Classification, EvaluationRun, PolicyVersion, TierChange
from fincrm.testing.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def test_rows_land_with_types_round_tripped_and_defaults_filled():
    user = UserFactory()
    customer = CustomerFactory(owner=user)
    sent = insert_rows(
        Notification,
        ["recipient_id", "customer_id", "kind", "data", "created_at"],
        [(user.pk, customer.pk, "tier_changed", {"from": "key", "to": "core", "n": [1, 2]}, WHEN)],
    )

    assert sent == 1
    note = Notification.objects.get()
    assert note.data == {"from": "key", "to": "core", "n": [1, 2]}
    assert note.created_at == WHEN
    assert note.read_at is None  # nullable, not given
    assert note.message == ""  # blank default


def test_many_rows_are_split_below_the_parameter_limit():
    user = UserFactory()
    customers = CustomerFactory.create_batch(3, owner=user)
    per_row = 8 + 5  # given fields + defaulted ones (status, detail, created_at, ...)
    n = MAX_PARAMS // per_row * 2 + 7  # at least three statements
    rows = [
        (customers[i % 3].pk, user.pk, TaskKind.FOLLOW_UP, f"t{i}", "phone", Priority.NORMAL,
         date(2026, 3, 1), f"k{i}")
        for i in range(n)
    ]  # fmt: skip
    insert_rows(
        Task,
        ["customer_id", "owner_id", "kind", "title", "channel", "priority", "due_on", "source_key"],
        rows,
    )
    assert Task.objects.count() == n
    assert set(Task.objects.values_list("status", flat=True)) == {TaskStatus.OPEN}


def test_ignore_conflicts_skips_rows_that_break_a_partial_unique_constraint():
    user = UserFactory()
    customer = CustomerFactory(owner=user)
    fields = ["customer_id", "owner_id", "kind", "title", "channel", "priority", "due_on"]
    fields += ["source_key"]
    row = (customer.pk, user.pk, TaskKind.REPORT, "r", "email", "normal", date(2026, 3, 1), "p:r")

    assert insert_rows(Task, fields, [row], ignore_conflicts=True) == 1
    assert insert_rows(Task, fields, [row, row], ignore_conflicts=True) == 0  # counts writes
    assert Task.objects.count() == 1

    Task.objects.update(status=TaskStatus.DONE)  # a done task no longer blocks a new one
    assert insert_rows(Task, fields, [row], ignore_conflicts=True) == 1
    assert Task.objects.filter(status=TaskStatus.OPEN).count() == 1


def test_upsert_overwrites_only_the_listed_fields():
    customer = CustomerFactory()
    policy = PolicyVersion.objects.create(number=1, config={}, is_active=True)
    run = EvaluationRun.objects.create(kind="full", policy=policy, as_of=date(2026, 3, 1))
    fields = ["customer_id", "tier", "tier_since", "value_score", "grade", "size_band"]
    fields += ["lifecycle", "segments", "cluster", "run", "evaluated_at"]
    first = (customer.pk, "key", WHEN, 55.0, "A", "small", "active", ["x"], 2, run.pk, WHEN)
    insert_rows(Classification, fields, [first], conflict=["customer"], update=fields[1:])
    later = datetime(2026, 4, 1, tzinfo=UTC)
    second = (customer.pk, "core", later, 70.5, "AA", "small", "active", [], None, run.pk, later)
    insert_rows(Classification, fields, [second], conflict=["customer"], update=["tier", "cluster"])

    row = Classification.objects.get()
    assert (row.tier, row.cluster) == ("core", None)  # updated
    assert (row.value_score, row.grade, row.segments) == (55.0, "A", ["x"])  # kept
    assert row.tier_since == WHEN


def test_a_required_field_without_a_value_is_refused_before_any_sql():
    with pytest.raises(ValueError, match=r"Task\.owner has no default"):
        insert_rows(Task, ["customer_id"], [(1,)])


def test_a_frame_lands_as_its_rows_would_with_empty_text_nulls_json_and_upserts():
    customers = [CustomerFactory(), CustomerFactory()]
    policy = PolicyVersion.objects.create(number=1, config={}, is_active=True)
    run = EvaluationRun.objects.create(kind="full", policy=policy, as_of=date(2026, 3, 1))
    changes = pl.DataFrame(
        {"customer_id": [c.pk for c in customers], "from_tier": ["", "key"], "to_tier": "core"}
    )
    assert insert_frame(TierChange, changes, constants={"run": run.pk, "changed_at": WHEN}) == 2
    stored = TierChange.objects.order_by("customer_id").values_list("from_tier", "changed_at")
    assert list(stored) == [("", WHEN), ("key", WHEN)]  # "" stays text, not NULL

    later = datetime(2026, 4, 1, 23, 59, 59, 123456, tzinfo=UTC)
    fields = {"customer_id": pl.Int64, "tier": pl.String, "tier_since": pl.Datetime("us", "UTC")}
    fields |= {"value_score": pl.Float64, "grade": pl.String, "size_band": pl.String}
    fields |= {"lifecycle": pl.String, "segments": pl.String, "cluster": pl.Int64}
    rows = [
        (customers[0].pk, "key", WHEN, 0.1 + 0.2, "A", "small", "active", '["x","y \\"z\\""]', 2),
        (customers[1].pk, "core", later, 55.0, "AA", "", "active", "[]", None),
    ]
    frame = pl.DataFrame(rows, schema=fields, orient="row")
    options = {
        "constants": {"run": run.pk, "evaluated_at": later},
        "json_text": ["segments"],
        "conflict": ["customer"],
        "update": [*list(fields)[1:], "run", "evaluated_at"],
    }
    assert insert_frame(Classification, frame, **options) == 2
    assert insert_frame(Classification, frame.with_columns(tier=pl.lit("ordinary")), **options) == 2

    got = Classification.objects.order_by("customer_id").values_list(*fields, "evaluated_at")
    quoted = ["x", 'y "z"']
    assert list(got) == [
        (customers[0].pk, "ordinary", WHEN, 0.1 + 0.2, "A", "small", "active", quoted, 2, later),
        (customers[1].pk, "ordinary", later, 55.0, "AA", "", "active", [], None, later),
    ]


def test_decimals_held_as_text_land_exactly():
    from decimal import Decimal

    from fincrm.customers.models import Customer

    frame = pl.DataFrame(
        {
            "kind": ["company", "company"],
            "name": ["甲", "乙"],
            "credit_code": ["91320505000000001X", "91320505000000002X"],
            "industry": ["C", "C"],
            "province": ["江苏", "江苏"],
            "city": ["苏州", "苏州"],
            "city_tier": ["new1", "new1"],
            "client_type": ["sme", "sme"],
            "registered_capital": ["123456789012.34", None],
        }
    )
    assert insert_frame(Customer, frame, constants={"created_at": WHEN, "updated_at": WHEN}) == 2
    stored = dict(Customer.objects.values_list("name", "registered_capital"))
    assert stored == {"甲": Decimal("123456789012.34"), "乙": None}


def test_update_with_history_changes_only_the_given_fields_and_records_each_change():
    from fincrm.core.bulk import update_with_history
    from fincrm.risk.models import ControlProposal

    customers = [CustomerFactory() for _ in range(3)]
    proposals = [
        ControlProposal.objects.create(
            customer=c, from_grade="A", to_grade="BBB", controls={"limit": 1}, note="keep me"
        )
        for c in customers
    ]
    first, second, untouched = proposals
    first.to_grade, first.controls, first.note = "BB", {"limit": 2, "tenor": "12m"}, "not saved"
    second.to_grade, second.controls = "B", {"limit": 3}

    assert update_with_history([first, second], ControlProposal, ["to_grade", "controls"]) == 2

    rows = {p.pk: p for p in ControlProposal.objects.all()}
    assert (rows[first.pk].to_grade, rows[first.pk].controls) == (
        "BB",
        {"limit": 2, "tenor": "12m"},
    )
    assert rows[first.pk].note == "keep me"  # a field not listed is not written
    assert (rows[second.pk].to_grade, rows[second.pk].controls) == ("B", {"limit": 3})
    assert (rows[untouched.pk].to_grade, rows[untouched.pk].controls) == ("BBB", {"limit": 1})
    changes = ControlProposal.history.filter(history_type="~").order_by("id")
    assert [(h.id, h.to_grade) for h in changes] == [(first.pk, "BB"), (second.pk, "B")]
    assert not ControlProposal.history.filter(id=untouched.pk, history_type="~").exists()

    # The history row is the whole row as stored, with the given user and reason.
    officer = UserFactory()
    update_with_history(
        [first], ControlProposal, ["note"], default_user=officer, default_change_reason="why"
    )
    last = ControlProposal.history.filter(id=first.pk).latest("history_id")
    assert (last.history_type, last.history_user_id, last.history_change_reason) == (
        "~", officer.pk, "why",
    )  # fmt: skip
    assert (last.note, last.to_grade, last.controls, last.customer_id, last.status) == (
        "not saved", "BB", {"limit": 2, "tenor": "12m"}, first.customer_id, "pending",
    )  # fmt: skip
    # A model whose history leaves a field out (the client's updated_at).
    from fincrm.customers.models import Customer

    client = customers[0]
    client.name = "新名称有限公司"
    update_with_history([client], Customer, ["name"], default_user=officer)
    entry = Customer.history.filter(id=client.pk).latest("history_id")
    assert (entry.name, entry.credit_code, entry.owner_id, entry.history_user_id) == (
        "新名称有限公司", client.credit_code, client.owner_id, officer.pk,
    )  # fmt: skip


def test_update_rows_keeps_dates_times_and_decimals_as_their_types():
    """Dates and datetimes set by ``update_rows`` read back as such on SQLite too (a
    ``CAST(… AS date)`` there has numeric affinity: '2026-07-07' became 2026)."""
    from decimal import Decimal

    from fincrm.core.bulk import update_rows
    from fincrm.customers.models import Customer

    user = UserFactory()
    customer = CustomerFactory(owner=user, registered_capital=Decimal("1"))
    tasks = [
        Task.objects.create(
            customer=customer,
            owner=user,
            kind=TaskKind.OTHER,
            title=str(i),
            due_on=date(2026, 1, 1),
        )
        for i in range(3)
    ]
    rows = [(t.pk, date(2026, 7, 7 + i), WHEN, TaskStatus.DONE) for i, t in enumerate(tasks[:2])]
    assert update_rows(Task, ["due_on", "completed_at", "status"], rows) == 2
    stored = {t.pk: (t.due_on, t.completed_at, t.status) for t in Task.objects.all()}
    assert stored[tasks[0].pk] == (date(2026, 7, 7), WHEN, "done")
    assert stored[tasks[1].pk] == (date(2026, 7, 8), WHEN, "done")
    assert stored[tasks[2].pk] == (date(2026, 1, 1), None, "open")
    # Filters compare them as dates (a number would match nothing).
    assert Task.objects.filter(due_on__gte=date(2026, 7, 1)).count() == 2
    update_rows(Customer, ["registered_capital", "founded_on"], [(customer.pk, "12.50", None)])
    customer.refresh_from_db()
    assert (customer.registered_capital, customer.founded_on) == (Decimal("12.50"), None)
