"""D-calibration and A-calibration: by-definition versions, null distribution, power."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import chisquare

from clinai.evaluation import a_calibration, d_calibration, survival_at_own_time
from clinai.evaluation.survival._distribution_calibration import N_BINS_MSG, SURVIVAL_RANGE_MSG
from clinai.exceptions import DataError
from tests.evaluation.survival._simulation import exponential_cohort


def _slow_d_calibration(event: np.ndarray, s: np.ndarray, k: int) -> np.ndarray:
    """Haider et al.'s bin totals, patient by patient and bin by bin."""
    totals = np.zeros(k)
    for si, ei in zip(s, event, strict=True):
        for j in range(k):
            low, high = j / k, (j + 1) / k
            if ei:
                totals[j] += low <= si < high or (j == k - 1 and si == 1.0)
            elif si == 0.0:
                totals[j] += j == 0
            elif low < si:  # the share of U(0, s) that falls in [low, high)
                totals[j] += (min(high, si) - low) / si
    return totals


def _slow_a_calibration(event: np.ndarray, s: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Events and integrated hazard of U(0,1) while at risk, per slice of F = 1 - S."""
    u = 1.0 - s
    observed, expected = np.zeros(k), np.zeros(k)
    for ui, ei in zip(u, event, strict=True):
        for j in range(k):
            low, high = j / k, (j + 1) / k
            observed[j] += ei and (low <= ui < high)
            if ui > low:
                expected[j] += quad(lambda v: 1.0 / (1.0 - v), low, min(ui, high))[0]
    # report in survival order: S in [0, 1/k) first, i.e. F in the last slice
    return observed[::-1], expected[::-1]


@pytest.mark.parametrize("seed", [0, 1])
def test_d_calibration_equals_its_definition(seed: int) -> None:
    cohort = exponential_cohort(seed, n=150, censor_max=8.0)
    s = cohort.survival_at_own_time(scale=1.3)
    s[:3] = [0.0, 1.0, 0.5]
    result = d_calibration(cohort.time, cohort.event.astype(int), s, n_bins=10)
    totals = _slow_d_calibration(cohort.event, s, 10)
    np.testing.assert_allclose(result.observed, totals, atol=1e-12)
    assert result.observed.sum() == pytest.approx(150)
    expected = chisquare(totals, np.full(10, 15.0))
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert result.df == 9
    json.dumps(result.to_dict(), allow_nan=False)


def test_d_calibration_without_censoring_is_pearson_on_the_histogram() -> None:
    cohort = exponential_cohort(2, n=400, censor_max=np.inf)
    s = cohort.survival_at_own_time()
    counts, _ = np.histogram(s, bins=np.linspace(0, 1, 6))
    result = d_calibration(cohort.time, cohort.event.astype(int), s, n_bins=5)
    assert result.observed.tolist() == counts.tolist()
    assert result.p_value == pytest.approx(chisquare(counts).pvalue)


def test_a_calibration_equals_its_definition() -> None:
    cohort = exponential_cohort(4, n=60, censor_max=8.0)
    s = cohort.survival_at_own_time(scale=0.8)
    result = a_calibration(cohort.time, cohort.event.astype(int), s, n_bins=4)
    observed, expected = _slow_a_calibration(cohort.event, s, 4)
    np.testing.assert_allclose(result.observed, observed)
    np.testing.assert_allclose(result.expected, expected, rtol=1e-8)
    assert result.statistic == pytest.approx(((observed - expected) ** 2 / expected).sum())
    assert result.df == 4
    # without censoring the expected counts add up to the events (sum of -log S = sum of hazards)
    assert result.expected.sum() == pytest.approx(-np.log(s).sum())


def test_calibrated_model_follows_the_null_and_miscalibration_is_rejected() -> None:
    statistics = {"A": [], "D": []}
    for seed in range(200):
        # n and censoring such that every slice expects >= 5 events (the chi-square regime)
        cohort = exponential_cohort(100 + seed, n=1000, censor_max=20.0)
        s = cohort.survival_at_own_time()
        event = cohort.event.astype(int)
        statistics["A"].append(a_calibration(cohort.time, event, s).statistic)
        statistics["D"].append(d_calibration(cohort.time, event, s).statistic)
    # chi-square with 10 df (A) has mean 10 and sd sqrt(20): the mean of 200 within +-1
    assert np.mean(statistics["A"]) == pytest.approx(10.0, abs=1.0)
    assert 0.01 <= np.mean(np.array(statistics["A"]) > 18.307) <= 0.1  # 5% critical value
    # D-calibration spreads the censored: conservative, far below its 9 df (measured 5.2)
    assert np.mean(statistics["D"]) < 7.0
    cohort = exponential_cohort(9, n=2000, censor_max=10.0)
    event = cohort.event.astype(int)
    for scale in (1.5, 0.7):
        s = cohort.survival_at_own_time(scale=scale)
        assert a_calibration(cohort.time, event, s).p_value < 1e-6
        assert d_calibration(cohort.time, event, s).p_value < 1e-3


def test_survival_at_own_time_reads_a_step_function() -> None:
    curves = np.array([[0.9, 0.7, 0.4], [0.8, 0.5, 0.2]])
    got = survival_at_own_time(curves, [1.0, 2.0, 3.0], [2.5, 3.0])
    assert got.tolist() == [0.7, 0.2]
    with pytest.raises(DataError, match="survival_curves must be a 2-D array"):
        survival_at_own_time(curves, [1.0, 2.0], [2.5, 3.0])


@pytest.mark.parametrize("test", [d_calibration, a_calibration])
def test_bad_inputs_raise_one_line(test) -> None:
    time, event = [1.0, 2.0, 3.0], [1, 0, 1]
    with pytest.raises(DataError, match=re.escape(N_BINS_MSG.format(value=1))):
        test(time, event, [0.5, 0.5, 0.5], n_bins=1)
    with pytest.raises(DataError, match=re.escape(SURVIVAL_RANGE_MSG.format(low=-0.2, high=0.5))):
        test(time, event, [0.5, -0.2, 0.5])
    with pytest.raises(DataError, match="survival_at_time has 1 missing"):
        test(time, event, [0.5, np.nan, 0.5])
