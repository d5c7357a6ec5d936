"""The model beside a score's alert thresholds, checked against direct counting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix

from clinai.evaluation import compare_operating_points
from clinai.exceptions import DataError


def _reference(y: np.ndarray, flags: np.ndarray) -> dict[str, float]:
    tn, fp, fn, tp = confusion_matrix(y, flags, labels=[0, 1]).ravel()
    return {
        "sensitivity": tp / (tp + fn),
        "specificity": tn / (tn + fp),
        "ppv": tp / (tp + fp),
        "flag_rate": (tp + fp) / len(y),
    }


@pytest.fixture(scope="module")
def ward():
    rng = np.random.default_rng(3)
    n = 2_000
    risk = rng.beta(1, 8, size=n)
    y = rng.binomial(1, risk)
    news2 = np.clip(np.round(risk * 20 + rng.normal(0, 2.5, size=n)), 0, 20)
    patients = np.repeat(np.arange(n // 4), 4)
    return y, risk, news2, patients


def test_rates_match_confusion_matrix(ward):
    y, p, score, _ = ward
    result = compare_operating_points(y, p, score, baseline_thresholds=[5, 7], n_boot=0)
    for point, k in zip(result.points, (5, 7), strict=True):
        base_flags = (score >= k).astype(int)
        model_flags = (p >= point.model_threshold).astype(int)
        for rate, value in _reference(y, base_flags).items():
            assert point.baseline[rate].estimate == pytest.approx(value, rel=1e-12)
        for rate, value in _reference(y, model_flags).items():
            assert point.model[rate].estimate == pytest.approx(value, rel=1e-12)
        gain = point.model["sensitivity"].estimate - point.baseline["sensitivity"].estimate
        assert point.sensitivity_gain.estimate == pytest.approx(gain)
        # Matched flag rate: the model flags exactly as many rows (continuous p, no ties).
        assert model_flags.sum() == base_flags.sum()


def test_bootstrap_intervals_bracket_and_repeat(ward):
    y, p, score, patients = ward
    kwargs = dict(baseline_thresholds=[5], n_boot=200, random_state=11, patient_ids=patients)
    first = compare_operating_points(y, p, score, **kwargs)
    second = compare_operating_points(y, p, score, **kwargs)
    assert first.to_dict() == second.to_dict()
    point = first.points[0]
    for estimate in [*point.baseline.values(), *point.model.values(), point.sensitivity_gain]:
        assert estimate.ci_low <= estimate.estimate <= estimate.ci_high


def test_cut_off_flagging_nobody_is_refused(ward):
    y, p, score, _ = ward
    with pytest.raises(DataError, match="NEWS2 >= 25 flags no row"):
        compare_operating_points(
            y, p, score, baseline_thresholds=[25], baseline_name="NEWS2", n_boot=0
        )


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_gain_is_invariant_to_monotone_transform_of_the_model(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.99, size=120)
    y = rng.binomial(1, p)
    if y.min() == y.max():
        return
    score = rng.integers(0, 10, size=120)
    k = float(np.median(score))
    a = compare_operating_points(y, p, score, baseline_thresholds=[k], n_boot=0)
    b = compare_operating_points(y, p**3, score, baseline_thresholds=[k], n_boot=0)
    assert a.points[0].sensitivity_gain.estimate == b.points[0].sensitivity_gain.estimate
