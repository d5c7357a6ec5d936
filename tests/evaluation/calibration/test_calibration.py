"""Calibration intercept, slope, O/E and ICI against statsmodels."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.optimize import brentq
from scipy.special import expit, logit
from statsmodels.nonparametric.smoothers_lowess import lowess

from clinai.evaluation import (
    calibration_errors,
    calibration_intercept,
    calibration_slope,
    lowess_calibration_curve,
    oe_ratio,
)
from clinai.evaluation._inputs import ONE_CLASS_MSG
from clinai.evaluation.calibration._calibration import (
    FRAC_MSG,
    N_POINTS_MSG,
    _intercept_weighted,
    _oe_weighted,
    _slope_weighted,
)
from clinai.exceptions import DataError


def miscalibrated(
    n: int, seed: int, *, scale: float, shift: float
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lp = rng.normal(-1.0, 1.2, size=n)
    y = rng.binomial(1, 1 / (1 + np.exp(-(shift + scale * lp))))
    return y.astype(float), 1 / (1 + np.exp(-lp))


def glm_intercept(y: np.ndarray, p: np.ndarray) -> float:
    offset = logit(np.clip(p, 1e-6, 1 - 1e-6))
    model = sm.GLM(y, np.ones((y.shape[0], 1)), family=sm.families.Binomial(), offset=offset)
    return float(model.fit(tol=1e-12).params[0])


def glm_slope(y: np.ndarray, p: np.ndarray) -> float:
    x = sm.add_constant(logit(np.clip(p, 1e-6, 1 - 1e-6)))
    return float(sm.GLM(y, x, family=sm.families.Binomial()).fit(tol=1e-12).params[1])


@pytest.mark.parametrize(
    "seed, scale, shift", [(0, 1.0, 0.0), (1, 0.6, -0.5), (2, 1.5, 0.8), (3, 0.2, 0.0)]
)
def test_intercept_and_slope_equal_statsmodels_glm(seed: int, scale: float, shift: float) -> None:
    y, p = miscalibrated(400, seed, scale=scale, shift=shift)
    assert calibration_intercept(y, p) == pytest.approx(glm_intercept(y, p), abs=1e-6)
    assert calibration_slope(y, p) == pytest.approx(glm_slope(y, p), abs=1e-6)


def test_probabilities_of_zero_and_one_are_clipped_before_the_logit() -> None:
    y, p = miscalibrated(300, 4, scale=0.8, shift=0.2)
    p[:3] = [0.0, 1.0, 0.0]
    assert math.isfinite(calibration_intercept(y, p))
    assert calibration_intercept(y, p) == pytest.approx(glm_intercept(y, p), abs=1e-6)
    assert calibration_slope(y, p) == pytest.approx(glm_slope(y, p), abs=1e-6)


def test_risks_of_only_zero_and_one_equal_statsmodels_glm() -> None:
    # A vendor's class labels passed as risks: logits of +-13.8 only. Newton from the
    # calibrated start (0, 1) wandered in the flat tails and returned NaN; statsmodels
    # (IRLS from the null model) finds the maximum.
    rng = np.random.default_rng(1)
    y = rng.binomial(1, 0.3, 400)
    labels = np.where(rng.random(400) < 0.8, y, 1 - y).astype(float)
    with np.errstate(over="ignore"):  # statsmodels' exp of the +-13.8 logits' products
        slope = glm_slope(y, labels)
    assert calibration_slope(y, labels) == pytest.approx(slope, abs=1e-6)
    # statsmodels' offset-only IRLS diverges here (-8e14); the intercept's score equation
    # sum(y) = sum(expit(a + offset)) has one root, found by bracketing
    offset = logit(np.clip(labels, 1e-6, 1 - 1e-6))
    root = brentq(lambda a: y.sum() - expit(a + offset).sum(), -40.0, 40.0, xtol=1e-14)
    assert calibration_intercept(y, labels) == pytest.approx(root, abs=1e-6)


@pytest.mark.parametrize(
    ("y", "p"),
    [
        ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]),  # complete: Newton stopped at 39.7 before
        ([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9]),  # quasi-complete: a tie at the border
        ([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]),  # reversed: the slope runs to minus infinity
    ],
)
def test_slope_is_nan_under_any_separation(y: list[int], p: list[float]) -> None:
    assert math.isnan(calibration_slope(y, p))


def test_perfectly_calibrated_sample() -> None:
    rng = np.random.default_rng(2024)
    p = rng.beta(1.5, 6, size=20000)
    y = rng.binomial(1, p)
    assert calibration_slope(y, p) == pytest.approx(1.0, abs=0.08)
    assert calibration_intercept(y, p) == pytest.approx(0.0, abs=0.06)
    assert oe_ratio(y, p) == pytest.approx(1.0, abs=0.05)
    errors = calibration_errors(y, p)
    assert errors.ici < 0.01
    assert errors.e50 <= errors.e90 < 0.03


def test_overfitted_predictions_have_slope_below_one() -> None:
    y, p = miscalibrated(2000, 5, scale=0.5, shift=0.0)
    assert calibration_slope(y, p) == pytest.approx(0.5, abs=0.1)


def test_oe_ratio_is_observed_over_expected() -> None:
    y, p = miscalibrated(200, 6, scale=1.0, shift=0.5)
    assert oe_ratio(y, p) == pytest.approx(y.sum() / p.sum(), rel=1e-12)


def test_slope_is_nan_when_it_does_not_exist() -> None:
    # perfect separation: the likelihood has no finite maximum
    assert math.isnan(calibration_slope([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9]))
    # constant prediction: logit(p) is collinear with the intercept
    assert math.isnan(calibration_slope([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]))
    assert calibration_intercept([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]) == pytest.approx(
        -logit(0.3), abs=1e-9
    )


def reference_errors(y: np.ndarray, p: np.ndarray) -> tuple[float, float, float]:
    """ICI, E50, E90 computed directly from statsmodels' lowess (Austin & Steyerberg 2019)."""
    smooth = lowess(y, p, frac=0.75, it=0, delta=0.01 * (p.max() - p.min()), return_sorted=False)
    error = np.abs(p - smooth)
    return error.mean(), np.median(error), np.quantile(error, 0.9)


def test_calibration_errors_equal_statsmodels_lowess() -> None:
    y, p = miscalibrated(500, 7, scale=0.7, shift=0.3)
    errors = calibration_errors(y, p)
    ici, e50, e90 = reference_errors(y, p)
    assert errors.ici == pytest.approx(ici, abs=1e-12)
    assert errors.e50 == pytest.approx(e50, abs=1e-12)
    assert errors.e90 == pytest.approx(e90, abs=1e-12)
    # delta = 0.01 * range(p) barely moves the ICI from the exact smoother (delta = 0)
    exact = lowess(y, p, frac=0.75, it=0, return_sorted=False)
    assert errors.ici == pytest.approx(np.mean(np.abs(p - exact)), abs=2e-4)


def test_a_window_of_one_distinct_prediction_warns_nothing() -> None:
    """A bootstrap resample of 5 rows, four of them one row: statsmodels divides 0 by 0.

    Its RuntimeWarning reached the console of `clinai validate` (the suite turns it into
    an error); the smooth itself is statsmodels', unchanged.
    """
    y, p = np.array([0.0, 1, 0, 0, 1]), np.array([0.1, 0.1, 0.1, 0.1, 0.2])
    errors = calibration_errors(y, p)
    with np.errstate(invalid="ignore", divide="ignore"):
        smooth = lowess(y, p, frac=0.75, it=0, delta=0.001, return_sorted=False)
    assert errors.ici == pytest.approx(np.mean(np.abs(p - smooth)), abs=1e-12)


def test_calibration_errors_frac_is_passed_to_lowess() -> None:
    y, p = miscalibrated(300, 8, scale=1.0, shift=0.0)
    smooth = lowess(y, p, frac=0.3, it=0, delta=0.01 * np.ptp(p), return_sorted=False)
    assert calibration_errors(y, p, frac=0.3).ici == pytest.approx(np.mean(np.abs(p - smooth)))


def test_lowess_calibration_curve() -> None:
    y, p = miscalibrated(400, 9, scale=0.7, shift=0.4)
    curve = lowess_calibration_curve(y, p, n_points=15)
    assert curve.p.shape == curve.observed.shape == (15,)
    assert curve.p[0] == pytest.approx(p.min())
    assert curve.p[-1] == pytest.approx(p.max())
    assert np.all((curve.observed >= 0) & (curve.observed <= 1))
    fitted = lowess(y, p, frac=0.75, it=0, delta=0.01 * np.ptp(p))
    expected = np.clip(np.interp(curve.p, fitted[:, 0], fitted[:, 1]), 0, 1)
    np.testing.assert_allclose(curve.observed, expected, atol=1e-12)
    entries = curve.to_dict()
    assert len(entries) == 15
    assert set(entries[0]) == {"p", "observed"}


def test_constant_predictions_give_a_one_point_curve() -> None:
    curve = lowess_calibration_curve([0, 1, 1, 0], [0.4] * 4)
    assert curve.p.tolist() == [0.4]
    assert curve.observed.tolist() == [0.5]
    assert calibration_errors([0, 1, 1, 0], [0.4] * 4).ici == pytest.approx(0.1)


@pytest.mark.parametrize(
    "weighted, metric",
    [
        (_intercept_weighted, calibration_intercept),
        (_slope_weighted, calibration_slope),
        (_oe_weighted, oe_ratio),
    ],
)
def test_vectorised_fits_equal_fits_on_repeated_rows(weighted, metric) -> None:
    y, p = miscalibrated(80, 10, scale=0.8, shift=0.2)
    rng = np.random.default_rng(1)
    counts = rng.multinomial(80, np.full(80, 1 / 80), size=6).astype(float)
    values = weighted(y, p, counts)
    for row, value in zip(counts, values, strict=True):
        index = np.repeat(np.arange(80), row.astype(int))
        assert value == pytest.approx(metric(y[index], p[index]), abs=1e-8)


def test_input_errors() -> None:
    with pytest.raises(DataError, match=re.escape(ONE_CLASS_MSG.format(value=1))):
        calibration_slope([1, 1, 1], [0.2, 0.5, 0.7])
    with pytest.raises(DataError, match=re.escape(FRAC_MSG.format(value=0))):
        calibration_errors([0, 1, 0], [0.2, 0.5, 0.7], frac=0)
    with pytest.raises(DataError, match=re.escape(N_POINTS_MSG.format(value=1))):
        lowess_calibration_curve([0, 1, 0], [0.2, 0.5, 0.7], n_points=1)
