"""Threshold metrics against a slow loop over patients."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from clinai.evaluation import threshold_metrics
from clinai.evaluation._inputs import THRESHOLD_MSG
from clinai.evaluation.thresholds._thresholds import THRESHOLD_METRIC_NAMES, _threshold_weighted
from clinai.exceptions import DataError


def slow_threshold_metrics(y, p, t) -> dict[str, float]:
    """Direct transcription of the definitions, one patient at a time."""
    tp = fp = tn = fn = 0
    for yi, pi in zip(y, p, strict=True):
        flagged = pi >= t
        if flagged and yi == 1:
            tp += 1
        elif flagged and yi == 0:
            fp += 1
        elif not flagged and yi == 0:
            tn += 1
        else:
            fn += 1
    return {
        "sensitivity": tp / (tp + fn),
        "specificity": tn / (tn + fp),
        "ppv": tp / (tp + fp) if tp + fp else math.nan,
        "npv": tn / (tn + fn) if tn + fn else math.nan,
        "flag_rate": (tp + fp) / len(y),
    }


def sample(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = np.round(rng.beta(2, 5, size=n), 2)  # ties, and values equal to the thresholds
    y = rng.binomial(1, p)
    y[:2] = [0, 1]
    return y, p


@pytest.mark.parametrize("threshold", [0.0, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0])
def test_threshold_metrics_match_slow_loop(threshold: float) -> None:
    y, p = sample()
    result = threshold_metrics(y, p, threshold=threshold)
    expected = slow_threshold_metrics(y, p, threshold)
    assert result.threshold == threshold
    for name in THRESHOLD_METRIC_NAMES:
        value = getattr(result, name)
        if math.isnan(expected[name]):
            assert math.isnan(value), name
        else:
            assert value == pytest.approx(expected[name], abs=1e-12), name


def test_a_probability_equal_to_the_threshold_is_flagged() -> None:
    result = threshold_metrics([0, 1, 0, 1], [0.1, 0.2, 0.2, 0.4], threshold=0.2)
    assert result.flag_rate == 0.75
    assert result.sensitivity == 1.0
    assert result.specificity == 0.5


def test_ppv_and_npv_undefined_when_nobody_or_everybody_is_flagged() -> None:
    nobody = threshold_metrics([0, 1, 0], [0.1, 0.2, 0.3], threshold=0.9)
    assert math.isnan(nobody.ppv)
    assert nobody.to_dict()["ppv"] is None
    assert nobody.flag_rate == 0.0
    everybody = threshold_metrics([0, 1, 0], [0.1, 0.2, 0.3], threshold=0.05)
    assert math.isnan(everybody.npv)
    assert everybody.flag_rate == 1.0


def test_vectorised_version_equals_loop_over_resamples() -> None:
    y, p = sample(60, 1)
    thresholds = np.array([0.1, 0.2, 0.3])
    rng = np.random.default_rng(2)
    counts = rng.multinomial(60, np.full(60, 1 / 60), size=4).astype(float)
    values = _threshold_weighted(y.astype(float), p, counts, thresholds)
    assert values.shape == (4, 3, 5)
    for b, row in enumerate(counts):
        index = np.repeat(np.arange(60), row.astype(int))
        for k, t in enumerate(thresholds):
            expected = slow_threshold_metrics(y[index], p[index], t)
            np.testing.assert_allclose(
                values[b, k], [expected[m] for m in THRESHOLD_METRIC_NAMES], atol=1e-12
            )


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "high"])
def test_threshold_outside_unit_interval_is_refused(threshold) -> None:
    message = THRESHOLD_MSG.format(name="threshold", interval="[0, 1]", value=threshold)
    with pytest.raises(DataError, match=re.escape(message)):
        threshold_metrics([0, 1], [0.2, 0.8], threshold=threshold)
