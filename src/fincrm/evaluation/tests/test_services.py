from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from fincrm.analytics.policy import default_policy
from fincrm.engagement.choices import NotificationKind, TaskStatus
from fincrm.engagement.models import Notification, Task
from fincrm.evaluation import services
from fincrm.evaluation.choices import RunKind, RunStatus
from fincrm.evaluation.models import (
    Classification,
    EvaluationRun,
    PolicyVersion,
    Snapshot,
    TierChange,
)
from fincrm.financing.services import payment_record

from .conftest import AS_OF

pytestmark = pytest.mark.django_db


def _everyone_core() -> dict:
    config = default_policy().model_dump(mode="json")
    config["tiers"] = {"method": "absolute", "core": 0.0, "key": 0.0, "ordinary": 0.0}
    return config


def test_a_full_run_classifies_every_client_and_records_why(rich_book):
    run = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)

    assert run.status == RunStatus.SUCCEEDED
    assert run.customers_evaluated == 4
    assert Classification.objects.count() == 4
    snapshot = Snapshot.objects.get(customer=rich_book["a_company"])
    assert 0 <= snapshot.value_score <= 100
    for score in (snapshot.contribution, snapshot.potential, snapshot.loyalty, snapshot.risk):
        assert 0 <= score <= 100
    assert snapshot.reasons and all("code" in r and "points" in r for r in snapshot.reasons)
    assert snapshot.run.policy.is_active
    # The firm that pays interest contributes more than a client with no facility.
    idle = Snapshot.objects.get(customer=rich_book["b_person"])
    assert snapshot.contribution > idle.contribution
    # First classification of each client is an event on its timeline.
    assert TierChange.objects.filter(from_tier="").count() == 4


def test_re_running_creates_no_duplicate_tasks(rich_book):
    first = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    open_tasks = Task.objects.filter(status=TaskStatus.OPEN).count()
    second = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)

    assert first.tasks_created == open_tasks > 0
    assert second.tasks_created == 0
    assert Task.objects.filter(status=TaskStatus.OPEN).count() == open_tasks
    owners = set(Task.objects.values_list("owner__username", flat=True))
    assert owners == {"manager_a", "manager_b"}


CLASS_FIELDS = ("tier", "value_score", "grade", "size_band", "lifecycle", "segments", "cluster")


def _values_of(rows) -> dict:
    return {row["customer_id"]: tuple(row[f] for f in CLASS_FIELDS) for row in rows}


def _classifications_are_the_snapshots_of(run) -> bool:
    """What a run that rewrote every row would leave: each client's values of this run (the
    value score to the classification's one decimal)."""
    stored = _values_of(Classification.objects.values("customer_id", *CLASS_FIELDS))
    written = _values_of(Snapshot.objects.filter(run=run).values("customer_id", *CLASS_FIELDS))
    score = CLASS_FIELDS.index("value_score")
    assert {round(v[score], services.CLASSIFICATION_SCORE_DECIMALS) for v in stored.values()} == {
        v[score] for v in stored.values()
    }
    drop = [i for i in range(len(CLASS_FIELDS)) if i != score]
    return stored.keys() == written.keys() and all(
        [stored[c][i] for i in drop] == [written[c][i] for i in drop]
        and abs(stored[c][score] - written[c][score]) <= 0.05 + 1e-9
        for c in stored
    )


def test_a_re_run_rewrites_only_the_classifications_that_moved(rich_book):
    first = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    stamps = dict(Classification.objects.values_list("customer_id", "evaluated_at"))

    second = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)

    assert _classifications_are_the_snapshots_of(second)
    assert set(Classification.objects.values_list("run", flat=True)) == {first.pk}
    assert dict(Classification.objects.values_list("customer_id", "evaluated_at")) == stamps

    before = _values_of(Classification.objects.values("customer_id", *CLASS_FIELDS))
    later = AS_OF + timedelta(days=120)  # recency and tenure move every value score
    third = services.evaluation_run(kind=RunKind.FULL, as_of=later)

    assert _classifications_are_the_snapshots_of(third)
    after = _values_of(Classification.objects.values("customer_id", *CLASS_FIELDS))
    moved = {client for client, values in after.items() if values != before[client]}
    assert moved
    assert set(Classification.objects.filter(run=third).values_list("customer_id", flat=True)) == (
        moved
    )


def test_an_incremental_run_evaluates_only_changed_clients(rich_book):
    services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    payment_record(facility=rich_book["facility"], amount=Decimal("1065000"), paid_on=AS_OF)
    run = services.evaluation_run(kind=RunKind.INCREMENTAL, as_of=AS_OF)

    assert run.kind == RunKind.INCREMENTAL
    assert run.customers_evaluated == 1
    assert Snapshot.objects.filter(run=run).get().customer == rich_book["a_company"]


def test_an_incremental_run_gives_the_scores_a_full_run_gives(rich_book):
    full = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    event = services.evaluation_run(
        kind=RunKind.EVENT, customer_ids=[rich_book["a_company"].pk], as_of=AS_OF
    )
    before = Snapshot.objects.get(run=full, customer=rich_book["a_company"])
    after = Snapshot.objects.get(run=event, customer=rich_book["a_company"])
    assert (after.value_score, after.tier, after.grade) == (
        before.value_score,
        before.tier,
        before.grade,
    )


def test_without_a_full_run_an_incremental_run_becomes_full(rich_book):
    run = services.evaluation_run(kind=RunKind.INCREMENTAL, as_of=AS_OF)
    assert run.kind == RunKind.FULL
    assert run.customers_evaluated == 4


def test_a_failed_run_leaves_previous_results_intact(rich_book, monkeypatch):
    good = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    snapshots = Snapshot.objects.count()
    classes = list(Classification.objects.order_by("pk").values_list("pk", "run_id", "tier"))

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.run, "_write_tier_changes", boom)
    with pytest.raises(RuntimeError):
        services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)

    failed = EvaluationRun.objects.exclude(pk=good.pk).get()
    assert failed.status == RunStatus.FAILED
    assert "disk full" in failed.error
    assert Snapshot.objects.count() == snapshots
    assert list(Classification.objects.order_by("pk").values_list("pk", "run_id", "tier")) == (
        classes
    )


def test_a_failed_arrears_refresh_fails_the_run_with_its_error(rich_book, monkeypatch):
    from fincrm.financing import services as financing

    def boom(**kwargs):
        raise RuntimeError("lock timeout")

    monkeypatch.setattr(financing, "delinquency_refresh", boom)
    with pytest.raises(RuntimeError):
        services.evaluation_run(kind=RunKind.FULL)  # today: the arrears are refreshed first
    run = EvaluationRun.objects.get()
    assert (run.status, run.error) == (RunStatus.FAILED, "RuntimeError: lock timeout")
    assert not Snapshot.objects.exists()


def test_a_tier_change_is_an_event_and_notifies_the_owner(rich_book, users):
    services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    before = dict(Classification.objects.values_list("customer_id", "tier"))
    services.policy_publish(config=_everyone_core(), user=users["admin"], note="all core")
    services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)

    moved = [pk for pk, tier in before.items() if tier != "core"]
    assert moved, "the default policy should not put every client in the core tier"
    assert set(Classification.objects.values_list("tier", flat=True)) == {"core"}
    changes = TierChange.objects.exclude(from_tier="")
    assert sorted(changes.values_list("customer_id", flat=True)) == sorted(moved)
    note = Notification.objects.filter(kind=NotificationKind.TIER_CHANGED).first()
    assert note.recipient == note.customer.owner
    assert note.data["to"] == "core"


def test_a_bad_policy_is_refused_and_the_active_one_stays(users):
    active = services.policy_active()
    config = default_policy().model_dump(mode="json")
    config["weights"]["contribution"] += 0.1

    with pytest.raises(ValidationError) as error:
        services.policy_publish(config=config, user=users["admin"])

    assert any("weights" in m for m in error.value.messages)
    assert PolicyVersion.objects.get(is_active=True) == active
    assert PolicyVersion.objects.count() == 1


def test_publishing_makes_a_new_active_version(users):
    first = services.policy_active()
    second = services.policy_publish(config=_everyone_core(), user=users["admin"], note="test")
    assert (first.number, second.number) == (1, 2)
    assert list(PolicyVersion.objects.filter(is_active=True)) == [second]


def test_the_preview_counts_clients_that_would_change_tier(rich_book):
    services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    not_core = Classification.objects.exclude(tier="core").count()

    preview = services.policy_preview(config=_everyone_core())

    assert preview["errors"] == []
    assert preview["clients"] == 4
    assert preview["changed"] == not_core
    assert Classification.objects.exclude(tier="core").count() == not_core  # nothing written


def test_a_payment_triggers_an_event_run_for_that_client(
    rich_book, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    with django_capture_on_commit_callbacks(execute=True):
        payment_record(facility=rich_book["facility"], amount=Decimal("1000"), paid_on=AS_OF)

    event = EvaluationRun.objects.filter(kind=RunKind.EVENT).get()
    assert event.status == RunStatus.SUCCEEDED
    assert list(Snapshot.objects.filter(run=event).values_list("customer_id", flat=True)) == [
        rich_book["a_company"].pk
    ]
