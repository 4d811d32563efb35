"""The policy store in core: the first read makes the shipped default v1; a publication moves it."""

import pytest

from fincrm.analytics.policy import default_policy
from fincrm.core.policy import policy_active, policy_current

pytestmark = pytest.mark.django_db


def test_the_first_read_stores_the_shipped_default_as_version_1():
    config, number = policy_current()

    assert number == 1
    assert config == default_policy()
    assert policy_active().number == 1  # read again: the same version, not a second one


def test_a_published_version_is_what_every_app_reads_next():
    from fincrm.evaluation.services import policy_publish

    policy_current()
    changed = default_policy().model_dump(mode="json")
    changed["tiers"]["core"] = 70.0
    policy_publish(config=changed, note="fewer core clients")

    config, number = policy_current()
    assert number == 2
    assert config.tiers.core == 70.0
