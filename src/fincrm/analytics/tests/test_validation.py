"""Model validation on small books whose figures are worked out by hand in each test."""

from math import erfc, log, sqrt

import numpy as np
import pytest

from fincrm.analytics.validation import (
    calibration_by_band,
    characteristic_stability,
    discrimination,
    gini,
    grade_agreement,
    hosmer_lemeshow,
    stability_verdict,
)


def test_gini_and_ks_of_four_clients():
    # Pairs (default, non-default) ranked right: (0.35, 0.1), (0.8, 0.1), (0.8, 0.4); wrong:
    # (0.35, 0.4). AUC 3/4, Gini 1/2. KS: at PD ≥ 0.8 half the defaults and no good client,
    # at ≥ 0.35 all defaults and half the good ones: 0.5 either way.
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    assert gini(y, p) == pytest.approx(0.5)
    assert discrimination(y, p) == pytest.approx({"auc": 0.75, "gini": 0.5, "ks": 0.5})


def test_discrimination_of_a_single_class_is_unknown_not_an_error():
    assert discrimination(np.array([0, 0, 0]), np.array([0.1, 0.2, 0.3])) == {
        "auc": None, "gini": None, "ks": None,
    }  # fmt: skip


def test_calibration_tests_each_band_against_its_mean_pd():
    # A: 10 clients at 10 %, 1 default: exactly as predicted, p = 1.
    # B: 4 clients at 10 %, 4 defaults: P(X = 4) = 0.1⁴ = 0.0001 and every other outcome is
    #    likelier, so p = 0.0001: too many.
    # C: 6 clients at 50 %, none defaulted: p = P(0) + P(6) = 2 / 64 = 0.03125: too few.
    # D: 5 clients at 50 %, none defaulted: p = 2 / 32 = 0.0625: consistent at 5 %.
    pd = [0.1] * 14 + [0.5] * 11
    y = [1] + [0] * 9 + [1] * 4 + [0] * 11
    band = ["A"] * 10 + ["B"] * 4 + ["C"] * 6 + ["D"] * 5
    table = calibration_by_band(pd, y, band, order=["A", "B", "C", "D", "E"])
    assert table["band"].to_list() == ["A", "B", "C", "D"]  # E has nobody: left out
    assert table["n"].to_list() == [10, 4, 6, 5]
    assert table["defaults"].to_list() == [1, 4, 0, 0]
    assert table["predicted"].to_list() == pytest.approx([0.1, 0.1, 0.5, 0.5])
    assert table["observed"].to_list() == pytest.approx([0.1, 1.0, 0.0, 0.0])
    assert table["p_value"].to_list() == pytest.approx([1.0, 0.0001, 0.03125, 0.0625])
    assert table["verdict"].to_list() == ["consistent", "too_many", "too_few", "consistent"]


def test_calibration_refuses_arrays_of_different_lengths():
    with pytest.raises(ValueError, match="same length"):
        calibration_by_band([0.1, 0.2], [0], ["A", "A"], order=["A"])


def test_hosmer_lemeshow_on_three_groups_of_two():
    # Sorted by PD: (0.1, 0.1) E 0.2 O 1: 0.64 / (0.2 · 0.9) = 32/9; (0.5, 0.5) E 1 O 1: 0;
    # (0.9, 0.9) E 1.8 O 2: 0.04 / (1.8 · 0.1) = 2/9. H = 34/9 on 1 degree of freedom, whose
    # survival function is erfc(√(H/2)).
    pd = [0.9, 0.1, 0.5, 0.1, 0.9, 0.5]
    y = [1, 0, 1, 1, 1, 0]
    result = hosmer_lemeshow(pd, y, groups=3)
    assert result["statistic"] == pytest.approx(34 / 9)
    assert result["df"] == 1 and result["groups"] == 3
    assert result["p_value"] == pytest.approx(erfc(sqrt(34 / 9 / 2)))


def test_hosmer_lemeshow_uses_fewer_groups_on_few_clients_and_needs_three():
    assert hosmer_lemeshow([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1], groups=10)["groups"] == 4
    with pytest.raises(ValueError, match="three"):
        hosmer_lemeshow([0.1, 0.2], [0, 1])


def test_characteristic_stability_from_counts():
    # Half and half in training, a quarter and three quarters today:
    # (0.25 − 0.5)·ln(0.5) + (0.75 − 0.5)·ln(1.5) = 0.25·ln 3.
    index, table = characteristic_stability({"low": 50, "high": 50}, {"low": 10, "high": 30})
    assert index == pytest.approx(0.25 * log(3))
    assert table["bin"].to_list() == ["low", "high"]
    assert table["expected"].to_list() == pytest.approx([0.5, 0.5])
    assert table["actual"].to_list() == pytest.approx([0.25, 0.75])
    assert table["contribution"].sum() == pytest.approx(index)
    assert stability_verdict(index) == "shifted"


def test_a_bin_seen_only_today_counts_with_a_floored_training_share():
    index, table = characteristic_stability({"a": 4}, {"a": 1, "new": 1})
    assert table["bin"].to_list() == ["a", "new"]
    assert table["expected"].to_list() == [1.0, 0.0]
    # (0.5 − 1)·ln(0.5) + (0.5 − 0.0001)·ln(0.5 / 0.0001)
    assert index == pytest.approx(-0.5 * log(0.5) + 0.4999 * log(5000))
    with pytest.raises(ValueError, match="member"):
        characteristic_stability({"a": 1}, {})


@pytest.mark.parametrize(
    ("index", "verdict"), [(0.0, "stable"), (0.099, "stable"), (0.1, "watch"),
                           (0.2499, "watch"), (0.25, "shifted")],
)  # fmt: skip
def test_stability_verdict_bands(index, verdict):
    assert stability_verdict(index) == verdict


def test_grade_agreement_share_rank_correlation_and_confusion():
    # Same grade for clients 1 and 3; client 2 one grade apart, client 4 two (C against A).
    # Ranks of the scores 1 2 3 4 against 1 3 2 4: Σd² = 2, ρ = 1 − 6·2 / (4·15) = 0.8.
    result = grade_agreement(
        ["A", "A", "B", "C"], ["A", "B", "B", "A"], [1, 2, 3, 4], [1, 3, 2, 4], ["A", "B", "C"]
    )
    assert result["n"] == 4
    assert result["same"] == 0.5 and result["within_one"] == 0.75
    assert result["spearman"] == pytest.approx(0.8)
    assert result["confusion"] == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


def test_grade_agreement_names_an_unknown_grade_and_a_constant_score_has_no_correlation():
    with pytest.raises(ValueError, match="'X'"):
        grade_agreement(["X"], ["A"], [1], [1], ["A"])
    result = grade_agreement(["A", "A"], ["A", "A"], [5, 5], [1, 2], ["A"])
    assert result["spearman"] is None and result["same"] == 1.0
