"""The policy page shows which inputs feed each sub-score of the value score (issue 21,
point 5), in Chinese, with the active version's weights."""

import pytest
from django.urls import reverse

from fincrm.analytics.tiering import value_inputs
from fincrm.evaluation.choices import VALUE_INPUT_LABELS
from fincrm.evaluation.services import policy_active, policy_config, policy_publish

pytestmark = pytest.mark.django_db


def test_the_policy_page_lists_every_input_of_every_sub_score(users, login):
    config = policy_active().config
    config["loyalty"]["satisfaction_weight"] = 0.35
    policy_publish(config=config, note="satisfaction counts more")
    page = login(users["admin"]).get(reverse("evaluation:policy"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    rows = page.context["inputs"]
    assert [r["input"] for r in rows] == [
        r["input"] for r in value_inputs(policy_config(policy_active()))
    ]
    assert {r["input"] for r in rows} == set(VALUE_INPUT_LABELS)  # every input has a label
    html = page.content.decode()
    assert 'id="value-inputs"' in html
    assert "满意度" in html and "0.35" in html  # the active version's weight
    assert "钱包份额" in html and "最近一次预测运行得出的下次需求时间及其置信度" in html
    assert login(users["manager_a"]).get(reverse("evaluation:policy")).status_code == 403
