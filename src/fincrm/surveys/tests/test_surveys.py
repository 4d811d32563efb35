from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from fincrm.engagement.models import Task
from fincrm.loyalty.models import PointsEntry
from fincrm.surveys import selectors, services
from fincrm.surveys.models import Invitation, Response

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(users):
    return services.survey_create(
        name="年度满意度调查",
        user=users["agent"],
        questions=[
            {"kind": "nps", "text": "您向朋友推荐我们的可能性？"},
            {"kind": "rating", "text": "总体满意度", "is_overall": True},
            {"kind": "rating", "text": "审批速度"},
            {"kind": "rating", "text": "服务态度"},
            {"kind": "single", "text": "主要联系渠道", "choices": ["电话", "微信"],
             "required": False},
            {"kind": "text", "text": "其他建议", "required": False},
        ],
    )  # fmt: skip


def _q(survey):
    return {q.text: f"q{q.pk}" for q in survey.questions.all()}


def _answers(survey, nps=9, overall=5, speed=4, attitude=5, text=""):
    q = _q(survey)
    return {
        q["您向朋友推荐我们的可能性？"]: [str(nps)],
        q["总体满意度"]: [str(overall)],
        q["审批速度"]: [str(speed)],
        q["服务态度"]: [str(attitude)],
        q["其他建议"]: [text],
    }


def test_a_token_works_once_only_for_its_client(survey, book, client):
    invitation, token = services.survey_invite(
        survey=survey, customer=book["a_company"], cause="manual:1"
    )
    assert token and invitation.token_hash != token  # only the hash is stored
    page = client.get(reverse("survey_answer", args=[token]))
    assert page.status_code == 200 and "审批速度" in page.content.decode()
    response = client.post(
        reverse("survey_answer", args=[token]), _answers(survey, text="审批很快，服务专业")
    )
    assert "survey-thanks" in response.content.decode()
    saved = Response.objects.get(invitation=invitation)
    assert (saved.customer, saved.nps_score, saved.rating) == (book["a_company"], 9, 5)
    assert saved.sentiment == "positive"
    again = client.post(reverse("survey_answer", args=[token]), _answers(survey))
    assert again.status_code == 410 and Response.objects.count() == 1
    assert client.get(reverse("survey_answer", args=["not-a-token"])).status_code == 404


def test_an_expired_token_is_refused(survey, book, client):
    invitation, token = services.survey_invite(
        survey=survey, customer=book["a_company"], cause="manual:1",
        now=timezone.now() - timedelta(days=survey.valid_days + 1),
    )  # fmt: skip
    assert client.get(reverse("survey_answer", args=[token])).status_code == 410
    with pytest.raises(ValidationError):
        services.survey_answer(invitation=invitation, data=_answers(survey))


def test_a_portal_client_cannot_answer_another_clients_invitation(survey, book, client):
    from fincrm.portal.models import PortalAccount
    from fincrm.testing.factories import UserFactory

    other, _t = services.survey_invite(survey=survey, customer=book["b_company"], cause="x")
    mine, _t = services.survey_invite(survey=survey, customer=book["a_company"], cause="x")
    user = UserFactory(username="client_a", role="")
    PortalAccount.objects.create(user=user, customer=book["a_company"])
    client.force_login(user)
    assert client.get(reverse("portal:survey", args=[other.pk])).status_code == 404
    client.post(reverse("portal:survey", args=[other.pk]), _answers(survey))
    assert not Response.objects.filter(invitation=other).exists()
    response = client.post(reverse("portal:survey", args=[mine.pk]), _answers(survey))
    assert response.status_code == 302 and Response.objects.filter(invitation=mine).exists()


def test_bad_answers_name_the_question_and_save_nothing(survey, book):
    invitation, _t = services.survey_invite(survey=survey, customer=book["a_company"], cause="x")
    q = _q(survey)
    data = {**_answers(survey), q["审批速度"]: ["7"], q["主要联系渠道"]: ["邮件"]}
    del data[q["服务态度"]]
    with pytest.raises(ValidationError) as caught:
        services.survey_answer(invitation=invitation, data=data)
    assert set(caught.value.message_dict) == {q["审批速度"], q["主要联系渠道"], q["服务态度"]}
    assert not Response.objects.exists()
    invitation.refresh_from_db()
    assert invitation.answered_at is None


def test_a_low_score_opens_a_follow_up_and_answering_earns_points(survey, book, users):
    invitation, _t = services.survey_invite(survey=survey, customer=book["a_company"], cause="x")
    services.survey_answer(
        invitation=invitation, data=_answers(survey, nps=3, overall=2, text="放款太慢，很失望")
    )
    task = Task.objects.get(source_key=f"survey:{invitation.pk}")
    assert (task.owner, task.priority) == (users["manager_a"], "high")
    entry = PointsEntry.objects.get(customer=book["a_company"])
    assert (entry.reason, entry.points) == ("survey_answered", 50)


def test_an_invitation_is_sent_once_per_cause(survey, book):
    first, token = services.survey_invite(survey=survey, customer=book["a_company"], cause="c")
    again, no_token = services.survey_invite(survey=survey, customer=book["a_company"], cause="c")
    assert first.pk == again.pk and token and no_token is None


def test_results_by_tier_match_hand_counts_and_drivers_are_estimated(survey, book, users):
    answers = [  # nps, overall, speed, attitude
        (10, 5, 5, 4), (9, 4, 4, 5), (6, 2, 1, 3), (8, 4, 3, 4), (3, 1, 1, 2),
        (10, 5, 4, 5), (7, 3, 2, 4), (9, 4, 4, 3),
    ]  # fmt: skip
    customers = [book["a_company"], book["a_person"], book["b_company"], book["b_person"]]
    for i, (nps, overall, speed, attitude) in enumerate(answers):
        invitation, _t = services.survey_invite(
            survey=survey, customer=customers[i % 4], cause=f"c{i}"
        )
        services.survey_answer(
            invitation=invitation, data=_answers(survey, nps, overall, speed, attitude)
        )
    services.survey_invite(survey=survey, customer=customers[0], cause="unanswered")
    results = selectors.survey_results(user=users["agent"], survey=survey, by="period")
    overall = results["overall"]
    # promoters 10, 9, 10, 9 = 4; detractors 6, 3 = 2; 8 answers → NPS 25.
    assert (overall["sent"], overall["answered"], overall["nps"]) == (9, 8, 25.0)
    assert overall["csat"] == pytest.approx(100 * 5 / 8)  # ratings ≥ 4: 5, 4, 4, 5, 4
    drivers = results["drivers"]
    assert drivers["n"] == 8 and drivers["warning"]  # fewer than 30 responses
    assert {e["label"] for e in drivers["effects"]} == {"审批速度", "服务态度"}
    mine = selectors.survey_results(user=users["manager_a"], survey=survey, by="tier")
    assert mine["overall"]["sent"] == 5  # manager A sees only own clients' invitations


def test_the_builder_refuses_a_choice_question_without_options(users, login):
    client = login(users["agent"])
    data = {"name": "S", "trigger": "manual", "channel": "portal", "valid_days": 30,
            "q-TOTAL_FORMS": 1, "q-INITIAL_FORMS": 0, "q-0-kind": "single",
            "q-0-text": "渠道?", "q-0-choices": "电话", "q-0-required": "on"}  # fmt: skip
    response = client.post(reverse("surveys:create"), data)
    assert response.status_code == 200
    from fincrm.surveys.models import Survey

    assert not Survey.objects.exists()
    data["q-0-choices"] = "电话\n微信"
    assert client.post(reverse("surveys:create"), data).status_code == 302
    assert login(users["manager_a"]).get(reverse("surveys:create")).status_code == 403


def test_a_manager_invites_own_client_from_the_client_page(survey, book, users, login):
    client = login(users["manager_a"])
    url = reverse("surveys:invite", args=[book["a_company"].pk])
    response = client.post(url, {"survey": survey.pk}, follow=True)
    assert "/s/" in response.content.decode()  # the link, shown once
    assert Invitation.objects.filter(customer=book["a_company"]).count() == 1
    other = reverse("surveys:invite", args=[book["b_company"].pk])
    assert client.post(other, {"survey": survey.pk}).status_code == 404
    assert client.post(url, {"survey": "x"}).status_code == 404


def test_an_email_survey_sends_its_link(
    book, users, mailoutbox, django_capture_on_commit_callbacks
):
    survey = services.survey_create(
        name="邮件调查", channel="email", questions=[{"kind": "nps", "text": "推荐意愿"}]
    )
    book["a_company"].email = "cfo@example.com"
    book["a_company"].save()
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = services.survey_invite(
            survey=survey, customer=book["a_company"], cause="x"
        )
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["cfo@example.com"]
    assert f"/s/{token}/" in mailoutbox[0].body
