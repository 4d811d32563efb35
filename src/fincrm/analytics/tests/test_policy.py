import pytest

from fincrm.analytics.policy import PolicyConfig, default_policy, policy_errors


def _config(**changes):
    config = default_policy().model_dump(mode="json")
    for path, value in changes.items():
        node = config
        *parents, leaf = path.split("__")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[leaf] = value
    return config


def test_the_default_policy_round_trips_through_json():
    config = default_policy().model_dump(mode="json")
    assert policy_errors(config) == []
    assert PolicyConfig.model_validate(config) == default_policy()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"weights__risk": 0.35}, "weights: must sum to 1 (got 1.10)"),
        ({"grades__1__max_pd": 0.0001}, "max_pd must increase"),
        ({"tiers__core": 40.0}, "100 ≥ core ≥ key ≥ ordinary"),
        ({"lifecycle__lost_days": 100}, "lost_days must be greater than dormant_days"),
        ({"scorecard__pdo": 0}, "scorecard.pdo"),
        ({"unknown_key": 1}, "unknown_key: Extra inputs are not permitted"),
    ],
)
def test_a_bad_policy_is_refused_with_a_clear_message(changes, expected):
    errors = policy_errors(_config(**changes))
    assert any(expected in e for e in errors), errors


def test_every_grade_needs_a_controls_row():
    config = _config()
    del config["grade_controls"]["BB"]
    assert any("no row for grade(s) BB" in e for e in policy_errors(config))


def test_warning_codes_must_be_unique():
    config = _config()
    config["early_warning"].append(dict(config["early_warning"][0]))
    assert any("duplicate rule code(s) dpd_1" in e for e in policy_errors(config))


def test_service_plans_only_know_the_four_tiers():
    config = _config()
    config["service_plans"]["vip"] = config["service_plans"]["core"]
    assert any("service_plans.vip" in e for e in policy_errors(config))


def test_quantile_shares_must_leave_room_for_the_low_tier():
    config = _config()
    config["tiers"] = {"method": "quantile", "core": 0.5, "key": 0.3, "ordinary": 0.3}
    assert any("sum to less than 1" in e for e in policy_errors(config))
