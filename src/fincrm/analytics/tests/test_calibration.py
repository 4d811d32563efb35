"""Calibration, Brier score and reliability table on small exact data."""

import re

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from fincrm.analytics.calibration import (
    BAD_BANDS,
    NOT_BINARY,
    NOT_FITTED,
    RELIABILITY_SCHEMA,
    IsotonicCalibrator,
    PlattCalibrator,
    band_index,
    brier_score,
    calibrator_for,
    reliability_table,
)


def test_brier_score_is_the_mean_squared_error_of_the_probabilities():
    assert brier_score([0, 1, 1, 0], [0.1, 0.9, 0.6, 0.4]) == pytest.approx(0.085, abs=1e-12)
    assert brier_score([1, 1], [1.0, 1.0]) == 0.0
    # Predicting the base rate r for everyone scores r(1 - r).
    assert brier_score([1, 0, 0, 0], [0.25] * 4) == pytest.approx(0.1875, abs=1e-12)


def test_brier_score_refuses_labels_that_are_not_0_or_1_and_probabilities_outside_0_1():
    with pytest.raises(ValueError, match=NOT_BINARY):
        brier_score([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError):
        brier_score([0, 1], [0.1, 1.2])


def test_the_reliability_table_counts_each_band_and_compares_the_rates():
    table = reliability_table([0, 0, 1, 1, 1], [0.05, 0.15, 0.12, 0.95, 1.0])
    expected = pl.DataFrame(
        {
            "lower": [0.0, 0.1, 0.9],
            "upper": [0.1, 0.2, 1.0],
            "n": [1, 2, 2],
            "events": [0, 1, 2],
            "mean_predicted": [0.05, 0.135, 0.975],
            "observed_rate": [0.0, 0.5, 1.0],
        },
        schema=RELIABILITY_SCHEMA,
    )
    assert_frame_equal(table, expected, abs_tol=1e-12)


def test_the_reliability_table_takes_other_bands_and_refuses_bad_ones():
    table = reliability_table([0, 1, 1], [0.2, 0.5, 0.7], bands=[0, 0.5, 1])
    assert table.select("lower", "n", "events").rows() == [(0.0, 1, 0), (0.5, 2, 2)]
    assert band_index([0.0, 0.49, 0.5, 1.0], [0, 0.5, 1]).tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="increasing edges"):
        reliability_table([0], [0.1], bands=[0, 0.6, 0.5, 1])
    assert BAD_BANDS.startswith("bands must")


def test_platt_leaves_calibrated_probabilities_as_they_are():
    # Observed rates equal the probabilities (1 of 5 at 0.2, 2 of 4 at 0.5, 4 of 5 at 0.8):
    # the maximum-likelihood map is the identity, slope 1 and intercept 0.
    p = [0.2] * 5 + [0.5] * 4 + [0.8] * 5
    y = [1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0]  # by group of p
    platt = PlattCalibrator().fit(p, y)
    assert platt.slope_ == pytest.approx(1.0, abs=1e-3)
    assert platt.intercept_ == pytest.approx(0.0, abs=1e-3)
    assert platt.n_ == 14
    assert platt.predict([0.2, 0.5, 0.8]) == pytest.approx([0.2, 0.5, 0.8], abs=1e-3)


def test_platt_pulls_an_over_confident_model_towards_the_middle_and_keeps_its_ranking():
    # Says 1 % or 99 %, right only three times in four.
    p = [0.01] * 4 + [0.99] * 4
    y = [0, 0, 0, 1, 1, 1, 1, 0]
    platt = PlattCalibrator().fit(p, y)
    calibrated = platt.predict(p)
    assert calibrated[:4] == pytest.approx([0.25] * 4, abs=1e-3)
    assert calibrated[4:] == pytest.approx([0.75] * 4, abs=1e-3)
    assert 0 < platt.slope_ < 1
    assert brier_score(y, calibrated) < brier_score(y, p)
    assert np.all(np.diff(platt.predict([0.1, 0.3, 0.6, 0.9])) > 0)


def test_platt_on_one_class_only_learns_the_level():
    platt = PlattCalibrator().fit([0.2, 0.7, 0.9], [0, 0, 0])
    assert platt.slope_ == 0.0
    assert platt.predict([0.1, 0.9]) == pytest.approx([1e-6, 1e-6], abs=1e-9)


def test_isotonic_pools_adjacent_violators():
    iso = IsotonicCalibrator().fit([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])
    assert iso.predict([0.1, 0.2, 0.3, 0.4]).tolist() == [0.0, 0.5, 0.5, 1.0]
    # Outside the knots the map is flat; between them linear.
    assert iso.predict([0.0, 0.35, 0.9]).tolist() == pytest.approx([0.0, 0.75, 1.0])


def test_a_calibrator_used_before_fit_says_so():
    with pytest.raises(RuntimeError, match=re.escape(NOT_FITTED.format(name="PlattCalibrator"))):
        PlattCalibrator().predict([0.5])
    with pytest.raises(RuntimeError, match=re.escape(NOT_FITTED.format(name="IsotonicCalibrator"))):
        IsotonicCalibrator().predict([0.5])
    with pytest.raises(ValueError, match="C must be > 0"):
        PlattCalibrator(C=0).fit([0.1, 0.9], [0, 1])


def test_few_rows_get_platt_and_many_the_isotonic_map():
    assert isinstance(calibrator_for(999), PlattCalibrator)
    assert isinstance(calibrator_for(1_000), IsotonicCalibrator)
