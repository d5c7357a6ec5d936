"""A large period's point ICI is the binned smooth's: near the exact one, from its size on."""

from __future__ import annotations

import numpy as np
import pytest

from clinai.evaluation import evaluate_predictions, period_performance
from clinai.evaluation.calibration._calibration import (
    LOWESS_FRAC,
    _errors_from_fit,
    _lowess_fit,
    calibration_grid,
)
from clinai.evaluation.resampling._fast_lowess import binned_errors
from clinai.evaluation.validate import _period


def _sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Miscalibrated risks (slope 1.3) rounded to 0.01: the hardest case measured."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    p = np.round(1 / (1 + np.exp(-(-2 + x))), 2)
    y = rng.binomial(1, 1 / (1 + np.exp(-(-2.3 + 1.3 * x)))).astype(float)
    return y, p


def test_binned_errors_are_within_reach_of_the_exact_smooth() -> None:
    # 1.4e-5 at 5 x 10^5 rows and more (BINNED_ICI_MIN_ROWS); the error shrinks with n
    y, p = _sample(60_000, 1)
    exact = np.array(_errors_from_fit(p, _lowess_fit(y, p, LOWESS_FRAC)))
    binned = np.array(binned_errors(y, p, calibration_grid(p, 20), LOWESS_FRAC))
    assert np.all(np.abs(binned - exact) < 1e-4)
    assert np.all(binned != exact)  # an approximation, not the exact smooth


def test_period_performance_uses_the_binned_ici_from_its_size_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    y, p = _sample(30_000, 2)
    arguments = {"threshold": 0.2, "n_boot": 20, "random_state": 3}
    monkeypatch.setattr(_period, "BINNED_ICI_MIN_ROWS", y.shape[0] + 1)
    below = period_performance(y, p, **arguments).to_dict()
    monkeypatch.setattr(_period, "BINNED_ICI_MIN_ROWS", y.shape[0])
    at = period_performance(y, p, **arguments).to_dict()
    exact = evaluate_predictions(
        y, p, thresholds=(0.2,), dca_thresholds=(0.2,), n_boot=20, random_state=3
    ).calibration.ici.estimate
    assert below["ici"]["estimate"] == exact
    grid = calibration_grid(p, 20)
    assert at["ici"]["estimate"] == binned_errors(y, p, grid, LOWESS_FRAC)[0]
    assert abs(at["ici"]["estimate"] - exact) < 1e-4
    assert {k: v for k, v in at.items() if k != "ici"} == {
        k: v for k, v in below.items() if k != "ici"
    }
