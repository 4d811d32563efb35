"""The model governance page (issue 21, point 2): champion and challenger side by side, the
hold-out validation stored with each, stability today, the maker–checker switch (audited; a
refused one changes nothing) and the scheduled retraining of a challenger."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fincrm.accounts.choices import Role
from fincrm.evaluation.choices import RunKind
from fincrm.evaluation.services import evaluation_run, policy_active, policy_config, policy_publish
from fincrm.financing.schedule import add_months
from fincrm.risk import services
from fincrm.risk.choices import ScoreMethod, SwitchStatus
from fincrm.risk.models import CreditAssessment, ModelSwitch, ScorecardModel
from fincrm.risk.selectors import next_retraining
from fincrm.risk.tests.test_scorecard_page import history  # noqa: F401  (the trained book)
from fincrm.testing.factories import UserFactory
from fincrm.testing.html import visible_text
from fincrm.web.audit import audit_trail

pytestmark = pytest.mark.django_db


@pytest.fixture
def risk2(teams):
    """A second risk officer: the checker of a switch the first one asks for."""
    return UserFactory(username="risk2", role=Role.RISK_OFFICER, team=teams["root"])


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_trained_scorecard_stores_its_hold_out_validation(history, users, login):  # noqa: F811
    login(users["risk"]).post(reverse("risk:scorecard"))
    model = ScorecardModel.objects.get(is_active=True)
    v = model.validation
    # The same hold-out, measured by two routes: the model row's AUC/KS and the validation.
    assert v["auc"] == pytest.approx(model.auc_holdout)
    assert v["ks"] == pytest.approx(model.ks_holdout)
    assert v["gini"] == pytest.approx(2 * model.auc_holdout - 1)
    # Calibration by grade partitions the hold-out: clients and defaults add up.
    assert sum(r["n"] for r in v["calibration"]) == v["n"]
    assert sum(r["defaults"] for r in v["calibration"]) == v["defaults"] > 0
    grades = [band.grade for band in policy_config(policy_active()).grades]
    assert [r["band"] for r in v["calibration"]] == [
        g for g in grades if g in {r["band"] for r in v["calibration"]}
    ]
    for row in v["calibration"]:
        assert row["observed"] == pytest.approx(row["defaults"] / row["n"])
        assert 0 <= row["p_value"] <= 1
    assert v["hosmer_lemeshow"]["df"] == v["hosmer_lemeshow"]["groups"] - 2 == 8
    # The expert card against the statistical one on the same clients.
    a = v["agreement"]
    assert a["n"] == v["n"] and a["grades"] == grades
    assert sum(map(sum, a["confusion"])) == v["n"]
    assert sum(a["confusion"][i][i] for i in range(len(grades))) == round(a["same"] * v["n"])
    assert a["spearman"] is not None and -1 <= a["spearman"] <= 1
    assert v["champion"] is None  # nothing was in use before it
    # Put in use on training (the first one), recorded in its audited history.
    assert model.activated_at is not None
    assert model.history.filter(is_active=True, history_user=users["risk"]).exists()


def test_who_sees_the_page_and_who_may_switch(users, login, client):
    for role in ("risk", "exec", "admin"):
        assert login(users[role]).get(reverse("risk:models")).status_code == 200
    for role in ("manager_a", "manager_b", "lead", "agent", "outsider"):
        assert login(users[role]).get(reverse("risk:models")).status_code == 403
    client.logout()
    assert "/login/" in client.get(reverse("risk:models"))["Location"]


def test_champion_challenger_switch_by_a_second_risk_officer(
    history,  # noqa: F811
    users,
    risk2,
    login,
):
    officer = login(users["risk"])
    officer.post(reverse("risk:scorecard"))
    champion = ScorecardModel.objects.get(is_active=True)
    evaluation_run(kind=RunKind.FULL)  # the champion scores the book

    # Training again gives a challenger: the scorecard in use stays.
    response = officer.post(reverse("risk:scorecard"), {"next": reverse("risk:models")})
    assert response["Location"] == reverse("risk:models")
    challenger = ScorecardModel.objects.latest("created_at")
    assert challenger.pk != champion.pk and not challenger.is_active
    champion.refresh_from_db()
    assert champion.is_active
    assert challenger.validation["champion"]["model"] == champion.pk
    assert challenger.validation["champion"]["auc"] is not None

    page = officer.get(reverse("risk:models"))
    html = page.content.decode()
    for marker in ('id="compare"', 'id="same-clients"', 'id="calibration-champion"',
                   'id="calibration-challenger"', 'id="csi"', 'id="psi-verdict"',
                   'id="agreement-champion"', 'id="request-switch"'):  # fmt: skip
        assert marker in html, marker
    # Chinese only: no Latin word but the metrics' names, grades, bin bounds and the site's name.
    grades = {band.grade for band in policy_config(policy_active()).grades}
    allowed = {"AUC", "Gini", "KS", "PSI", "CSI", "Hosmer", "Lemeshow", "p", "inf", "e", "API",
               "fin", "crm", users["risk"].username}  # fmt: skip
    latin = set(re.findall(r"[A-Za-z][A-Za-z_]*", visible_text(html)))
    assert not latin - allowed - grades, latin - allowed - grades
    csi = page.context["characteristics"]
    assert {c["feature"] for c in csi["features"]} == set(champion.params["selected"])
    scored = CreditAssessment.objects.filter(model=champion, method=ScoreMethod.SCORECARD)
    assert csi["n"] == scored.count()
    for c in csi["features"]:
        assert sum(b["expected"] for b in c["bins"]) == pytest.approx(1)
        assert sum(b["actual"] for b in c["bins"]) == pytest.approx(1)
        assert c["csi"] >= 0
    # An executive reads it but has no form, and cannot ask for a switch.
    exec_html = login(users["exec"]).get(reverse("risk:models")).content.decode()
    assert 'id="compare"' in exec_html and 'id="request-switch"' not in exec_html
    url = reverse("risk:model_switch_request", args=[challenger.pk])
    assert login(users["exec"]).post(url, {"reason": "更好"}).status_code == 404
    assert login(users["manager_a"]).post(url, {"reason": "更好"}).status_code == 404
    assert not ModelSwitch.objects.exists()

    # A request needs a reason.
    officer = login(users["risk"])
    response = officer.post(url, {"reason": "  "}, follow=True)
    assert _messages(response) == [str(services.MSG_SWITCH_REASON)]
    assert not ModelSwitch.objects.exists()
    officer.post(url, {"reason": "留出样本上区分度更高"}, follow=True)  # its message shown
    switch = ModelSwitch.objects.get()
    assert (switch.status, switch.champion, switch.requested_by) == (
        SwitchStatus.PENDING, champion, users["risk"],
    )  # fmt: skip
    decide = reverse("risk:model_switch_decide", args=[switch.pk])

    # The maker cannot check their own request; nothing moves.
    response = officer.post(decide, {"decision": "approve"}, follow=True)
    assert _messages(response) == [str(services.MSG_SWITCH_SAME_PERSON)]
    # Nor can an executive or a manager (the switch is not theirs to act on).
    assert login(users["exec"]).post(decide, {"decision": "approve"}).status_code == 404
    assert login(users["manager_a"]).post(decide, {"decision": "approve"}).status_code == 404

    # The checker refuses: a reason is needed, then nothing changes but the switch.
    checker = login(risk2)
    response = checker.post(decide, {"decision": "refuse"}, follow=True)
    assert _messages(response) == [str(services.MSG_SWITCH_REFUSAL_NOTE)]
    checker.post(decide, {"decision": "refuse", "note": "先观察一个季度"}, follow=True)
    switch.refresh_from_db()
    champion.refresh_from_db()
    challenger.refresh_from_db()
    assert (switch.status, switch.decided_by, switch.note) == (
        SwitchStatus.REFUSED, risk2, "先观察一个季度",
    )  # fmt: skip
    assert champion.is_active and not challenger.is_active
    assert not challenger.history.filter(is_active=True).exists()
    # Deciding it again is refused.
    response = checker.post(decide, {"decision": "approve"}, follow=True)
    assert _messages(response) == [str(services.MSG_SWITCH_DECIDED)]
    assert not ScorecardModel.objects.get(pk=challenger.pk).is_active

    # Asked again by the second officer, approved by the first: the challenger is in use.
    checker.post(url, {"reason": "季度观察期满"})
    second = ModelSwitch.objects.get(status=SwitchStatus.PENDING)
    login(users["risk"]).post(
        reverse("risk:model_switch_decide", args=[second.pk]), {"decision": "approve"}
    )
    second.refresh_from_db()
    champion.refresh_from_db()
    challenger.refresh_from_db()
    assert second.status == SwitchStatus.APPROVED and second.decided_by == users["risk"]
    assert challenger.is_active and not champion.is_active
    assert ScorecardModel.objects.filter(is_active=True).count() == 1
    # Audited: who asked, who decided, who put the model in use and took the other out.
    assert list(
        second.history.order_by("history_date").values_list("status", "history_user__username")
    ) == [("pending", "risk2"), ("approved", "risk")]
    put_in_use = challenger.history.filter(is_active=True).get()
    assert put_in_use.history_user == users["risk"]
    assert put_in_use.history_change_reason == f"switch {second.pk} approved"
    assert (
        champion.history.filter(is_active=False, history_type="~").get().history_user
        == (users["risk"])
    )
    trail = audit_trail(user_id=users["risk"].pk, customer_id=None, since=None, until=None)
    audited = {row["what"].split(" #")[0] for row in trail}
    assert {str(ScorecardModel._meta.verbose_name), str(ModelSwitch._meta.verbose_name)} <= audited

    # The next run scores the book with the new champion.
    evaluation_run(kind=RunKind.FULL)
    assert CreditAssessment.objects.filter(model=challenger).exists()


def test_a_switch_asked_before_the_champion_changed_cannot_be_approved(
    history,  # noqa: F811
    users,
    risk2,
):
    first = services.scorecard_retrain(user=users["risk"])
    a = services.scorecard_retrain(user=users["risk"])
    b = services.scorecard_retrain(user=users["risk"])
    assert first.is_active and not a.is_active and not b.is_active
    to_a = services.model_switch_request(challenger=a, user=users["risk"], reason="甲")
    to_b = services.model_switch_request(challenger=b, user=users["risk"], reason="乙")
    services.model_switch_decide(switch=to_b, user=risk2, approve=True)
    with pytest.raises(services.ValidationError) as error:
        services.model_switch_decide(switch=to_a, user=risk2, approve=True)
    assert error.value.code == "champion_changed"
    assert ScorecardModel.objects.get(is_active=True) == b
    assert ModelSwitch.objects.get(pk=to_a.pk).status == SwitchStatus.PENDING


def test_the_nightly_run_trains_a_challenger_when_retraining_is_due(
    history,  # noqa: F811
    users,
):
    config = policy_active().config
    config["scorecard"]["retrain_months"] = 6
    policy_publish(config=config, note="retrain twice a year")
    policy = policy_config(policy_active())
    assert next_retraining(policy=policy) is None  # nothing in use: the first run trains one

    evaluation_run(kind=RunKind.FULL)
    champion = ScorecardModel.objects.get()
    assert champion.is_active and champion.trained_by is None
    today = timezone.localdate()
    assert next_retraining(policy=policy) == add_months(today, 6)
    evaluation_run(kind=RunKind.FULL)  # not due yet: nothing trained
    assert ScorecardModel.objects.count() == 1

    # Seven months later (the champion's training moved back): due, a challenger, not in use.
    trained = timezone.now() - timedelta(days=213)
    ScorecardModel.objects.filter(pk=champion.pk).update(created_at=trained)
    assert next_retraining(policy=policy) == add_months(timezone.localdate(trained), 6) <= today
    evaluation_run(kind=RunKind.FULL)
    challenger = ScorecardModel.objects.latest("created_at")
    assert challenger.pk != champion.pk and not challenger.is_active
    assert ScorecardModel.objects.get(is_active=True) == champion
    assert next_retraining(policy=policy) == add_months(today, 6)

    # Retraining off: never due.
    config["scorecard"]["retrain_months"] = 0
    policy_publish(config=config, note="no retraining")
    assert next_retraining(policy=policy_config(policy_active())) is None


@pytest.mark.parametrize("calibrate", [False, True])
def test_calibration_in_the_large_is_the_policys_choice_and_the_page_shows_the_gap(
    history,  # noqa: F811
    users,
    login,
    calibrate,
):
    config = policy_active().config
    config["scorecard"]["calibrate_in_the_large"] = calibrate
    policy_publish(config=config, note="calibration in the large")
    client = login(users["risk"])
    client.post(reverse("risk:scorecard"))
    params = ScorecardModel.objects.get(is_active=True).params
    assert params["prior_weight"] > 0  # blended with the expert card: a gap to report
    assert params["train_mean_pd"] < params["train_default_rate"]
    assert params["calibration_gap"] > 0
    assert params["calibration_shift"] == (params["calibration_gap"] if calibrate else 0.0)
    page = visible_text(client.get(reverse("risk:models")).content.decode())
    assert "按本机构违约率校准 " + ("是" if calibrate else "否") + " 校准前平均违约概率" in page
    assert "训练样本违约率" in page
