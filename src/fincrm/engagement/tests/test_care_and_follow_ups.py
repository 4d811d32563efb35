from datetime import date

import pytest
from django.urls import reverse

from fincrm.engagement import care
from fincrm.engagement.models import Interaction, Task
from fincrm.financing.daily import maturity_follow_ups
from fincrm.financing.services import application_move_stage
from fincrm.loyalty.models import PointsEntry
from fincrm.surveys.models import Invitation, Survey
from fincrm.testing.factories import ApplicationFactory, ContactFactory, FacilityFactory

pytestmark = pytest.mark.django_db


def _tier(customer, tier):
    from django.utils import timezone

    from fincrm.evaluation.models import Classification

    now = timezone.now()
    Classification.objects.create(
        customer=customer, tier=tier, tier_since=now, value_score=50, grade="A",
        size_band="small", lifecycle="active", evaluated_at=now,
    )  # fmt: skip


def test_festivals_come_from_the_holidays_library():
    found = {(o.code, o.on) for o in care.festivals(date(2027, 1, 1), date(2027, 12, 31))}
    # 2027: Spring Festival 6 Feb, Dragon Boat 9 Jun, Mid-Autumn 15 Sep (lunar calendar).
    assert ("spring_festival", date(2027, 2, 6)) in found
    assert ("dragon_boat", date(2027, 6, 9)) in found
    assert ("mid_autumn", date(2027, 9, 15)) in found
    assert ("national_day", date(2027, 10, 1)) in found


def test_care_tasks_follow_each_tiers_plan_and_are_created_once(book, users):
    core, low = book["a_company"], book["b_company"]
    _tier(core, "core")
    _tier(low, "low")
    contact = ContactFactory(customer=core, is_key=True, birthday=date(1975, 9, 10), name="李总")
    as_of = date(2027, 9, 1)  # Mid-Autumn 15 Sep 2027; 李总's birthday 10 Sep
    created = care.care_tasks_plan(as_of=as_of)
    tasks = Task.objects.filter(kind="care")
    keys = {(t.customer_id, t.source_key) for t in tasks}
    assert (core.pk, "care:mid_autumn:2027") in keys  # core: every festival, 7 days ahead
    assert (core.pk, f"care:contact:{contact.pk}:2027") in keys
    assert (low.pk, "care:mid_autumn:2027") not in keys  # low: Spring Festival only
    mid_autumn = tasks.get(customer=core, source_key="care:mid_autumn:2027")
    assert mid_autumn.due_on == date(2027, 9, 8) and mid_autumn.owner == users["manager_a"]
    assert "中秋" in mid_autumn.detail and core.name in mid_autumn.detail
    assert created == tasks.count()
    Task.objects.filter(kind="care").update(status="done")
    assert care.care_tasks_plan(as_of=as_of) == 0  # done ones are not created again


def test_a_template_row_overrides_the_built_in_text(book):
    from fincrm.engagement.models import MessageTemplate

    MessageTemplate.objects.create(
        occasion="birthday", language="zh-hans", body="{contact}，生日快乐！{manager}敬上"
    )
    text = care.draft("birthday", language="zh-hans", channel="sms", contact="王总", manager="张")
    assert text == "王总，生日快乐！张敬上"
    english = care.draft("mid_autumn", language="en", channel="sms", contact="Ms Li", manager="Z")
    assert "Mid-Autumn" in english and "Ms Li" in english


def test_sending_care_is_logged_as_an_interaction(book, users, login):
    firm = book["a_company"]
    task = Task.objects.create(
        customer=firm, owner=users["manager_a"], kind="care", title="中秋节",
        due_on=date(2027, 9, 8), detail="中秋快乐", channel="wechat",
        source_key="care:mid_autumn:2027",
    )  # fmt: skip
    url = reverse("engagement:care_send", args=[task.pk])
    assert login(users["manager_b"]).get(url).status_code == 404
    response = login(users["manager_a"]).post(url, {"channel": "wechat", "message": "中秋快乐！"})
    assert response.status_code == 302
    logged = Interaction.objects.get(customer=firm)
    assert (logged.channel, logged.summary, logged.outcome) == ("wechat", "中秋快乐！", "info_sent")
    task.refresh_from_db()
    assert task.status == "done"


def test_a_disbursement_schedules_a_visit_a_survey_and_renewal_points(book, users):
    firm = book["a_company"]
    survey = Survey.objects.create(name="放款满意度", trigger="disbursement")
    FacilityFactory(customer=firm, start_date=date(2024, 1, 1))  # financed before
    application = ApplicationFactory(customer=firm, stage="contract")
    application_move_stage(application=application, to_stage="disbursed", user=users["manager_a"])
    task = Task.objects.get(source_key=f"disbursement:{application.pk}")
    assert (task.kind, task.owner) == ("visit", users["manager_a"])
    assert Invitation.objects.get(survey=survey).customer == firm
    assert PointsEntry.objects.get(customer=firm).reason == "renewal"


def test_maturing_facilities_get_one_follow_up_even_after_it_is_done(book):
    firm = book["a_company"]
    facility = FacilityFactory(customer=firm, start_date=date(2026, 1, 10), tenor_months=12)
    facility.maturity_date = date(2027, 1, 10)
    facility.save()
    assert maturity_follow_ups(as_of=date(2026, 12, 1)) == 1
    Task.objects.filter(source_key=f"maturity:{facility.pk}").update(status="done")
    assert maturity_follow_ups(as_of=date(2026, 12, 2)) == 0
    assert maturity_follow_ups(as_of=date(2026, 10, 1)) == 0  # the window is 60 days


def test_reassigning_a_client_moves_its_open_tasks(book, users):
    from fincrm.customers.services import customer_update

    firm = book["a_company"]
    open_task = Task.objects.create(
        customer=firm, owner=users["manager_a"], kind="follow_up", title="回访", due_on=date.today()
    )
    done = Task.objects.create(
        customer=firm, owner=users["manager_a"], kind="follow_up", title="旧", due_on=date.today(),
        status="done",
    )  # fmt: skip
    customer_update(
        customer=firm, data={"owner": users["manager_b"], "team": users["manager_b"].team}
    )
    open_task.refresh_from_db()
    done.refresh_from_db()
    assert open_task.owner == users["manager_b"] and done.owner == users["manager_a"]


def test_the_calendar_shows_my_open_tasks_on_their_day(book, users, login):
    Task.objects.create(
        customer=book["a_company"], owner=users["manager_a"], kind="visit", title="上门回访恒瑞",
        due_on=date(2027, 3, 17),
    )  # fmt: skip
    page = login(users["manager_a"]).get(reverse("engagement:task_calendar") + "?month=2027-03")
    assert "上门回访恒瑞" in page.content.decode()
    other = login(users["manager_b"]).get(reverse("engagement:task_calendar") + "?month=2027-03")
    assert "上门回访恒瑞" not in other.content.decode()


def test_annual_surveys_invite_every_client_once_a_year(book):
    from fincrm.surveys.daily import annual_surveys

    Survey.objects.create(name="年度调查", trigger="annual", channel="portal")
    assert annual_surveys(as_of=date(2026, 11, 25)) == 4
    assert annual_surveys(as_of=date(2026, 12, 1)) == 0
    assert annual_surveys(as_of=date(2027, 1, 5)) == 4
    assert Invitation.objects.count() == 8
