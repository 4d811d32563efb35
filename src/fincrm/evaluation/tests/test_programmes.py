"""Strategies at work (issue 24, point 1): programme tasks, idempotent per period; the 360°
page explains the strategy; campaigns reach a programme; the policy page lists them."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from fincrm.campaigns.services import audience_ids
from fincrm.engagement.choices import TaskStatus
from fincrm.engagement.models import Task
from fincrm.evaluation import services
from fincrm.evaluation.choices import RunKind
from fincrm.evaluation.models import Classification, Snapshot
from fincrm.evaluation.programmes import programme_tasks_plan

from .conftest import AS_OF

pytestmark = pytest.mark.django_db


def _classify(customer, *, lifecycle: str, segments: list[str], tier: str = "key"):
    Classification.objects.update_or_create(
        customer=customer,
        defaults={"tier": tier, "tier_since": timezone.now(), "value_score": 50.0, "grade": "A",
                  "size_band": "small", "lifecycle": lifecycle, "segments": segments,
                  "evaluated_at": timezone.now()},
    )  # fmt: skip


def _programme_tasks():
    return sorted(
        Task.objects.filter(source_key__startswith="prog:").values_list(
            "customer__name", "source_key", "status"
        )
    )


@pytest.fixture
def classified(book):
    _classify(book["a_company"], lifecycle="new", segments=["startup"])
    _classify(book["a_person"], lifecycle="dormant", segments=[])
    _classify(book["b_company"], lifecycle="active", segments=["growing", "watch"])
    _classify(book["b_person"], lifecycle="active", segments=[])
    return book


def test_the_nightly_job_gives_each_client_its_programmes_task_once_per_period(classified):
    created = programme_tasks_plan(as_of=date(2026, 5, 10))

    assert {k: v for k, v in created.items() if v} == {
        "onboarding": 1, "startup_coaching": 1, "reactivation": 1, "risk_watch": 1,
    }  # fmt: skip
    assert _programme_tasks() == [
        ("深圳华信供应链管理有限公司", "prog:risk_watch:2026-05", "open"),
        ("王建国", "prog:reactivation:2026Q2", "open"),
        ("苏州恒瑞精密机械有限公司", "prog:onboarding:1", "open"),
        ("苏州恒瑞精密机械有限公司", "prog:startup_coaching:2026H1", "open"),
    ]
    task = Task.objects.get(source_key="prog:onboarding:1")
    assert task.title == "新客户入门计划：首访：介绍产品与服务渠道，核对资料，约定联系方式"
    assert (task.kind, task.channel, task.due_on) == ("visit", "visit", date(2026, 5, 17))
    assert task.owner == classified["a_company"].owner
    assert task.detail == "新客户：做好入门服务，建立信任"
    assert Task.objects.get(source_key="prog:risk_watch:2026-05").priority == "high"


def test_a_second_run_in_the_period_creates_nothing_even_after_the_task_is_done(classified):
    programme_tasks_plan(as_of=date(2026, 5, 10))
    Task.objects.filter(source_key="prog:reactivation:2026Q2").update(status=TaskStatus.DONE)
    before = _programme_tasks()

    assert sum(programme_tasks_plan(as_of=date(2026, 6, 30)).values()) == 1  # a new month
    assert set(before) <= set(_programme_tasks())
    assert [k for _n, k, _s in _programme_tasks()].count("prog:reactivation:2026Q2") == 1
    assert sum(programme_tasks_plan(as_of=date(2026, 6, 30)).values()) == 0


def test_the_next_period_brings_the_next_task_and_onboarding_stays_once(classified):
    programme_tasks_plan(as_of=date(2026, 5, 10))
    created = programme_tasks_plan(as_of=date(2026, 7, 1))
    assert {k: v for k, v in created.items() if v} == {
        "startup_coaching": 1, "reactivation": 1, "risk_watch": 1,
    }  # fmt: skip


def test_clients_without_an_account_manager_get_no_task(classified):
    firm = classified["a_company"]
    firm.owner = None
    firm.save(update_fields=["owner"])
    programme_tasks_plan(as_of=date(2026, 5, 10))
    assert not Task.objects.filter(customer=firm, source_key__startswith="prog:").exists()


def test_daily_runs_the_programme_job(classified):
    from fincrm.evaluation.programmes import programme_tasks_plan as plan

    assert sum(plan(as_of=date(2026, 5, 10)).values()) == 4
    # ``fincrm daily`` counts the programme tasks among its jobs (a second call: nothing new).
    from fincrm.engagement.daily import run_daily

    assert run_daily(as_of=date(2026, 5, 10))["programme_tasks"] == 0


def test_a_campaign_can_reach_the_clients_of_a_programme(classified, users):
    programme_tasks_plan(as_of=date(2026, 5, 10))
    admin = users["admin"]
    firm = classified["a_company"]
    assert audience_ids(spec={"programmes": ["startup_coaching"]}, user=admin) == [firm.pk]
    Task.objects.filter(source_key__startswith="prog:startup_coaching:").update(
        status=TaskStatus.CANCELLED
    )
    assert audience_ids(spec={"programmes": ["startup_coaching"]}, user=admin) == []
    # A manager's campaign still reaches only their own clients.
    both = {"programmes": ["onboarding", "risk_watch"]}
    assert audience_ids(spec=both, user=users["manager_b"]) == [classified["b_company"].pk]


def test_the_360_page_explains_the_clients_strategy_in_chinese(rich_book, users, login):
    services.evaluation_run(kind=RunKind.FULL, as_of=AS_OF)
    firm = rich_book["a_company"]
    Snapshot.objects.filter(customer=firm).update(lifecycle="new", segments=["growing"])
    Classification.objects.filter(customer=firm).update(lifecycle="new", segments=["growing"])
    programme_tasks_plan(as_of=AS_OF)

    page = login(users["manager_a"]).get(reverse("customers:detail", args=[firm.pk]))

    html = page.content.decode()
    assert (
        "成长型企业：优先推荐设备融资租赁、流动资金贷款。推出中长期贷款产品，支持业务扩张" in html
    )
    assert "新客户：优先推荐流动资金贷款。做好入门服务，建立信任" in html
    assert "成长规划会谈</strong> · 下一项任务：成长规划会谈：会谈了解扩张计划" in html
    assert "新客户入门计划</strong> · 下一项任务：新客户入门计划：首访" in html
    assert "会谈了解扩张计划，评估中长期资金需求（2026-07-21 到期）" in html  # 21 days on
    assert "至少每 30 天联系一次" in html  # an ordinary client (90 days), new (30), growing (45)
    # The firm holds one working-capital loan: a basic need, a steady appetite.
    assert "需求层次</dt><dd>基础型 · 建议：<strong>基础型</strong>" in html
    assert '建议：<strong>稳健型</strong> <span class="muted">（依据所持产品中风险最高者）' in html
    assert "产品推荐按较保守者执行：稳健型。" in html
    for code in ("expansion_review", "onboarding", "growing", "working_capital"):
        assert code not in html.split('id="client-strategy"')[1].split("</section>")[0]


def test_the_policy_page_lists_the_strategies(users, login):
    page = login(users["admin"]).get(reverse("evaluation:policy"))
    html = page.content.decode()
    assert 'id="strategies"' in html
    assert "创业辅导计划" in html and "投资者论坛" in html and "每半年" in html


def test_a_policy_whose_strategy_names_an_unknown_programme_is_not_published(users):
    from django.core.exceptions import ValidationError

    from fincrm.analytics.policy import default_policy

    config = default_policy().model_dump(mode="json")
    config["strategies"]["segments"]["startup"]["programmes"] = ["bootcamp"]
    with pytest.raises(ValidationError, match=r"segments\.startup: unknown programme 'bootcamp'"):
        services.policy_publish(config=config, user=users["admin"])


def test_the_campaign_form_offers_the_policys_programmes_as_an_audience(classified, users):
    from django.utils import translation

    from fincrm.campaigns.forms import CampaignForm
    from fincrm.core.policy import policy_active, policy_config

    programmes = policy_config(policy_active()).strategies.programmes
    manager = users["manager_a"]
    with translation.override("zh-hans"):
        choices = dict(CampaignForm(user=manager).fields["programmes"].choices)
    assert choices == {code: p.name_zh for code, p in programmes.items()}
    with translation.override("en"):
        choices = dict(CampaignForm(user=manager).fields["programmes"].choices)
    assert choices["startup_coaching"] == programmes["startup_coaching"].name_en
    data = {"name": "创业辅导沙龙", "programmes": ["startup_coaching"], "control_share": "0",
            "conversion_days": "30"}  # fmt: skip
    form = CampaignForm(data, user=manager)
    assert form.is_valid(), form.errors
    assert form.audience() == {"programmes": ["startup_coaching"]}
    programme_tasks_plan(as_of=date(2026, 5, 10))
    assert audience_ids(spec=form.audience(), user=users["admin"]) == [classified["a_company"].pk]
    refused = CampaignForm({**data, "programmes": ["no_such_programme"]}, user=manager)
    assert not refused.is_valid() and "programmes" in refused.errors


def test_an_event_invites_a_programmes_clients(classified, users):
    """An investor forum or a coaching seminar is the programme's event: the event form
    offers the same programmes and its audience is the enrolled clients."""
    from fincrm.events.forms import EventForm
    from fincrm.events.services import event_audience

    data = {"kind": "seminar", "title": "创业辅导沙龙", "starts_at": "2026-06-01 14:00",
            "place": "上海浦东", "capacity": "30", "channel": "sms",
            "programmes": ["startup_coaching"]}  # fmt: skip
    form = EventForm(data)
    assert "startup_coaching" in dict(form.fields["programmes"].choices)
    assert form.is_valid(), form.errors
    event = form.save(commit=False)
    event.audience, event.organiser = form.audience(), users["admin"]
    event.save()
    assert event.audience == {"programmes": ["startup_coaching"]}
    programme_tasks_plan(as_of=date(2026, 5, 10))
    assert event_audience(event=event, user=users["admin"]) == [classified["a_company"].pk]
    edit = EventForm(instance=event)
    assert edit.initial["programmes"] == ["startup_coaching"]


def test_a_client_that_leaves_a_programme_keeps_no_open_task_of_it(classified):
    """The new client became active and left its startup stage, the dormant one came back:
    their open onboarding, coaching and reactivation tasks are cancelled; a done task and the
    tasks of clients still in their programme stay."""
    from fincrm.evaluation.programmes import programme_tasks_withdraw

    programme_tasks_plan(as_of=date(2026, 5, 10))
    Task.objects.filter(source_key="prog:startup_coaching:2026H1").update(status=TaskStatus.DONE)
    assert programme_tasks_withdraw() == 0  # nobody moved: nothing cancelled

    _classify(classified["a_company"], lifecycle="active", segments=["growing"])
    _classify(classified["a_person"], lifecycle="active", segments=[])
    assert programme_tasks_withdraw() == 2
    assert _programme_tasks() == [
        ("深圳华信供应链管理有限公司", "prog:risk_watch:2026-05", "open"),
        ("王建国", "prog:reactivation:2026Q2", "cancelled"),
        ("苏州恒瑞精密机械有限公司", "prog:onboarding:1", "cancelled"),
        ("苏州恒瑞精密机械有限公司", "prog:startup_coaching:2026H1", "done"),
    ]
    assert programme_tasks_withdraw() == 0


def test_withdrawal_within_given_clients_leaves_the_others(classified):
    from fincrm.evaluation.programmes import programme_tasks_withdraw

    programme_tasks_plan(as_of=date(2026, 5, 10))
    _classify(classified["a_person"], lifecycle="active", segments=[])
    _classify(classified["b_company"], lifecycle="active", segments=[])
    assert programme_tasks_withdraw(customer_ids=[classified["a_person"].pk]) == 1
    assert Task.objects.get(source_key="prog:risk_watch:2026-05").status == "open"
