"""Referrals in the value tiering (issue 21, point 5): the clients a client referred that
became active (hold or held a facility by the run's day) feed its loyalty sub-score with the
policy's weight, are named in its reasons and listed on the policy page."""

from datetime import date

import pytest
from django.urls import reverse

from fincrm.analytics.policy import default_policy
from fincrm.analytics.tiering import value_inputs
from fincrm.customers.models import Customer
from fincrm.evaluation.features import load_features
from fincrm.evaluation.models import Snapshot
from fincrm.evaluation.services import evaluation_run, policy_active, policy_publish
from fincrm.testing.factories import CustomerFactory, FacilityFactory

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


def _referred(referrer, *, starts=()):
    client = CustomerFactory(owner=referrer.owner)
    Customer.objects.filter(pk=client.pk).update(referred_by=referrer)
    for start in starts:
        FacilityFactory(customer=client, start_date=start)
    return client


def test_referrals_count_the_referred_clients_who_became_active_by_the_runs_day(users):
    referrer, nobody = (CustomerFactory(owner=users["manager_a"]) for _ in range(2))
    _referred(referrer, starts=[date(2025, 3, 1), date(2026, 2, 1)])  # counted once
    _referred(referrer, starts=[date(2024, 1, 10)])  # held one (matured): counted
    _referred(referrer, starts=[date(2026, 7, 2)])  # after the run's day
    _referred(referrer)  # never active
    rows = {
        r["customer_id"]: r["referrals"]
        for r in load_features(as_of=AS_OF, customer_ids=[referrer.pk, nobody.pk]).rows(named=True)
    }
    assert rows == {referrer.pk: 2, nobody.pk: 0}


def test_referrals_raise_the_loyalty_score_and_are_named_in_the_reasons(users):
    config = policy_active().config
    config["loyalty"]["referrals_weight"] = 2.0  # worth more than all other loyalty inputs
    policy_publish(config=config, note="referrals count most")
    owner = users["manager_a"]
    referrer, alone = (CustomerFactory(owner=owner) for _ in range(2))
    for firm in (referrer, alone):
        FacilityFactory(customer=firm, start_date=date(2025, 1, 15))
    for _ in range(3):
        _referred(referrer, starts=[date(2025, 9, 1)])
    evaluation_run(as_of=AS_OF)

    scored = {s.customer_id: s for s in Snapshot.objects.filter(customer__owner=owner)}
    assert scored[referrer.pk].loyalty > scored[alone.pk].loyalty
    reasons = {r["code"]: r for r in scored[referrer.pk].reasons}
    assert reasons["referrals"]["value"] == 3 and reasons["referrals"]["component"] == "loyalty"
    assert reasons["referrals"]["points"] > 0
    # Nobody referred: 0, known, so a reason that lowers the score (never "missing").
    alone_reasons = {r["code"]: r for r in scored[alone.pk].reasons}
    assert alone_reasons["referrals"]["value"] == 0 and alone_reasons["referrals"]["points"] < 0
    assert "missing_referrals" not in alone_reasons


def test_the_policy_page_lists_referrals_under_loyalty(users, login):
    row = next(r for r in value_inputs(default_policy()) if r["input"] == "referrals")
    assert (row["sub_score"], row["weight"], row["missing_reported"]) == ("loyalty", 0.1, False)
    page = login(users["admin"]).get(reverse("evaluation:policy"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert "其推荐的客户（客户档案中登记的推荐人）中持有或曾持有授信的客户数" in html
