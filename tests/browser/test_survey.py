"""End to end: a client answers a survey from its token link in headless Chromium, and the
answer is counted on the survey's results page."""

import pytest

from fincrm.surveys import services
from fincrm.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_client_answers_from_the_link_and_the_result_is_counted(page, book, users, log_in):
    survey = services.survey_create(
        name="放款服务满意度",
        questions=[
            {"kind": "nps", "text": "推荐意愿"},
            {"kind": "rating", "text": "总体满意度", "is_overall": True},
            {"kind": "multiple", "text": "您使用过的渠道", "choices": ["电话", "微信", "门户"]},
            {"kind": "text", "text": "建议", "required": False},
        ],
    )
    _invitation, token = services.survey_invite(
        survey=survey, customer=book["a_company"], cause="e2e"
    )
    page.set_viewport_size({"width": 390, "height": 844})  # a phone, no login
    page.goto(f"{page.base_url}/s/{token}/")
    questions = {q.text: f"q{q.pk}" for q in survey.questions.all()}
    page.click(f"#{questions['推荐意愿']} input[value='10']")
    page.click("#survey-submit")  # the rating and the channels are still missing
    assert page.locator(f"#{questions['总体满意度']} .error").is_visible()
    assert page.locator(f"#{questions['推荐意愿']} input[value='10']").is_checked()
    page.click(f"#{questions['总体满意度']} input[value='5']")
    page.click(f"#{questions['您使用过的渠道']} input[value='微信']")
    page.fill(f"#{questions['建议']} textarea", "放款及时，服务专业")
    page.click("#survey-submit")
    assert page.locator("#survey-thanks").is_visible()

    page.goto(f"{page.base_url}/s/{token}/")  # a token works once
    assert page.locator("#survey-closed").is_visible()

    page.set_viewport_size({"width": 1366, "height": 900})
    users["agent"].set_password(PASSWORD)
    users["agent"].save()
    log_in("agent", PASSWORD)
    page.goto(f"{page.base_url}/surveys/{survey.pk}/")
    assert page.locator("#kpi-answered").inner_text() == "1 / 1"
    assert page.locator("#kpi-nps").inner_text() == "100.0"
