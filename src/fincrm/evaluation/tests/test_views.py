import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from fincrm.analytics.policy import default_policy
from fincrm.engagement.choices import TaskStatus
from fincrm.engagement.models import Task
from fincrm.evaluation import services
from fincrm.evaluation.choices import RunKind
from fincrm.evaluation.models import Classification, PolicyVersion
from fincrm.testing.factories import ApplicationFactory

from .conftest import AS_OF

pytestmark = pytest.mark.django_db


@pytest.fixture
def evaluated(rich_book):
    services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    return rich_book


def test_the_360_page_shows_tier_sub_scores_and_reasons(evaluated, login, users):
    firm = evaluated["a_company"]
    with translation.override("en"):  # the label in the language the page is asked in
        tier = str(Classification.objects.get(customer=firm).get_tier_display())
    page = (
        login(users["manager_a"])
        .get(firm.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )

    assert 'id="value-tier"' in page and str(tier) in page
    assert 'id="tier-reasons"' in page
    assert page.count("<meter") == 4
    assert 'id="tier-history"' in page


def test_the_client_list_filters_by_tier(evaluated, login, users):
    tier = Classification.objects.get(customer=evaluated["a_company"]).tier
    client = login(users["manager_a"])
    page = client.get(reverse("customers:list"), {"tier": tier}).content.decode()
    assert evaluated["a_company"].name in page
    others = [c for c in ("core", "key", "ordinary", "low") if c != tier]
    page = client.get(reverse("customers:list"), {"tier": others[0]}).content.decode()
    assert evaluated["a_company"].name not in page


@pytest.mark.parametrize("who", ["manager_a", "lead", "risk", "agent", "exec"])
def test_only_admins_may_open_the_policy_page(who, login, users):
    assert login(users[who]).get(reverse("evaluation:policy")).status_code == 403


def test_the_policy_page_previews_then_publishes(evaluated, login, users):
    client = login(users["admin"])
    assert client.get(reverse("evaluation:policy")).status_code == 200
    config = default_policy().model_dump(mode="json")
    config["tiers"] = {"method": "absolute", "core": 0.0, "key": 0.0, "ordinary": 0.0}
    text = json.dumps(config)
    not_core = Classification.objects.exclude(tier="core").count()

    page = client.post(reverse("evaluation:policy"), {"config": text, "preview": "1"})
    assert f'id="preview-changed">{not_core}<' in page.content.decode()
    assert PolicyVersion.objects.count() == 1

    response = client.post(
        reverse("evaluation:policy"), {"config": text, "note": "all core", "publish": "1"}
    )
    assert response.status_code == 302
    assert PolicyVersion.objects.get(is_active=True).note == "all core"


def test_the_policy_page_names_what_is_wrong(login, users):
    client = login(users["admin"])
    config = default_policy().model_dump(mode="json")
    config["weights"]["risk"] = 0.9
    page = client.post(
        reverse("evaluation:policy"), {"config": json.dumps(config), "publish": "1"}
    ).content.decode()
    assert 'id="policy-errors"' in page and "weights" in page
    page = client.post(
        reverse("evaluation:policy"), {"config": "{not json", "publish": "1"}
    ).content.decode()
    assert "第 1 行第 2 列" in page  # zh-hans is the default language
    page = client.post(
        reverse("evaluation:policy"),
        {"config": "{not json", "publish": "1"},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "line 1, column 2" in page
    assert PolicyVersion.objects.count() <= 1


def test_segments_and_runs_pages(evaluated, login, users):
    services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    client = login(users["manager_a"])
    assert client.get(reverse("evaluation:segments")).status_code == 200
    page = client.get(reverse("evaluation:runs")).content.decode()
    assert 'id="migration"' in page


@pytest.mark.django_db(transaction=True, databases=["default", "reporting"])
def test_segments_and_runs_pages_count_on_the_replica(evaluated, login, users, replica):
    """Their book-wide aggregates read the ``reporting`` alias (docs/scaling.md), with the
    user's scope; the same figures as on the primary."""
    services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    client = login(users["manager_a"])
    with replica() as seen:
        segments = client.get(reverse("evaluation:segments"))
        runs = client.get(reverse("evaluation:runs"))
    assert segments.status_code == runs.status_code == 200
    for table in ("evaluation_segmentsize", "evaluation_snapshot"):
        assert any(f'"{table}"' in sql for sql in seen["reporting"]), table
        assert not any(f'"{table}"' in sql for sql in seen["default"]), table
    from fincrm.evaluation.selectors import runs_for_matrix, tier_migration

    after, before = list(runs_for_matrix()[:2])
    assert sum(sum(r["counts"]) for r in tier_migration(
        user=users["manager_a"], before=before, after=after)["rows"]) == 2  # fmt: skip


def test_the_migration_matrix_counts_only_visible_clients(evaluated, users):
    from fincrm.evaluation.selectors import runs_for_matrix, tier_migration

    services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    after, before = list(runs_for_matrix()[:2])
    mine = tier_migration(user=users["manager_a"], before=before, after=after)
    everyone = tier_migration(user=users["risk"], before=before, after=after)
    assert sum(sum(r["counts"]) for r in mine["rows"]) == 2
    assert sum(sum(r["counts"]) for r in everyone["rows"]) == 4


def test_my_tasks_lists_overdue_first_and_only_mine(evaluated, login, users):
    mine = Task.objects.filter(owner=users["manager_a"], status=TaskStatus.OPEN)
    assert mine.exists()
    late = mine.first()
    late.due_on = timezone.localdate() - timedelta(days=3)
    late.save()
    page = login(users["manager_a"]).get(reverse("engagement:tasks")).content.decode()
    assert 'id="overdue-count"' in page
    assert page.index(late.customer.name) < page.index("</tbody>")
    assert evaluated["b_company"].name not in page


def test_a_manager_cannot_close_another_managers_task(evaluated, login, users):
    task = Task.objects.filter(owner=users["manager_b"]).first()
    response = login(users["manager_a"]).post(reverse("engagement:task_done", args=[task.pk]))
    assert response.status_code == 404
    response = login(users["manager_b"]).post(reverse("engagement:task_done", args=[task.pk]))
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


def test_green_channel_applications_come_first_with_a_badge(evaluated, login, users):
    firm, person = evaluated["a_company"], evaluated["a_person"]
    Classification.objects.filter(customer=firm).update(tier="core")
    Classification.objects.filter(customer=person).update(tier="ordinary")
    ApplicationFactory(customer=person)
    ApplicationFactory(customer=firm)
    page = login(users["manager_a"]).get(reverse("financing:applications")).content.decode()
    assert page.index(firm.name) < page.index(person.name)
    assert page.count('class="badge green"') == 1


def _live_segment_counts(user):
    from collections import Counter

    rows = Classification.objects.restrict(user, "view")
    sizes = Counter(code for segs in rows.values_list("segments", flat=True) for code in segs)
    tiers = Counter(rows.values_list("tier", flat=True))
    return rows.count(), dict(sizes), dict(tiers)


def test_segment_sizes_are_stored_by_the_full_run_per_visible_client(evaluated, users):
    from fincrm.evaluation.models import SegmentSize
    from fincrm.evaluation.selectors import segment_overview, tier_counts

    run = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    assert SegmentSize.objects.filter(run=run).exists()
    # Right after the run the stored counts are the live ones, for each role's clients.
    for user in (users["manager_a"], users["manager_b"], users["risk"]):
        total, sizes, tiers = _live_segment_counts(user)
        overview = segment_overview(user=user)
        assert overview["counted_at"] == run
        assert overview["total"] == total > 0
        assert {s["code"]: s["size"] for s in overview["segments"] if s["size"]} == sizes
        assert tier_counts(user=user) == tiers
        assert sum(c["visible"] for c in overview["clusters"]) in (0, total)
    assert _live_segment_counts(users["risk"])[1], "the book has a client in a segment"


def test_the_segments_page_shows_the_last_full_runs_counts_until_the_next(evaluated, users, login):
    from fincrm.evaluation.models import SegmentSize
    from fincrm.evaluation.selectors import segment_overview

    run = services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    before = {s["code"]: s["size"] for s in segment_overview(user=users["risk"])["segments"]}
    Classification.objects.update(segments=["startup_owner"])  # between runs
    after = segment_overview(user=users["risk"])
    assert {s["code"]: s["size"] for s in after["segments"]} == before
    page = login(users["risk"]).get(reverse("evaluation:segments")).content.decode()
    assert f"按第 {run.pk} 次评估统计" in page
    # A run that stored no counts (from before them): counted live, no "as counted" line.
    SegmentSize.objects.all().delete()
    live = segment_overview(user=users["risk"])
    assert live["counted_at"] is None
    total, sizes, _tiers = _live_segment_counts(users["risk"])
    assert sizes == {"startup_owner": total}
    assert {s["code"]: s["size"] for s in live["segments"] if s["size"]} == sizes
    page = login(users["risk"]).get(reverse("evaluation:segments")).content.decode()
    assert "次评估统计" not in page
