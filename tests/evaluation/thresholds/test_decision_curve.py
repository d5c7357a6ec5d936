"""Net benefit against a slow transcription of the definition."""

from __future__ import annotations

import re

import numpy as np
import pytest

from clinai.evaluation import decision_curve, net_benefit, net_benefit_treat_all
from clinai.evaluation._inputs import THRESHOLD_MSG
from clinai.exceptions import DataError


def slow_net_benefit(y, p, t) -> float:
    n = len(y)
    tp = sum(1 for yi, pi in zip(y, p, strict=True) if pi >= t and yi == 1)
    fp = sum(1 for yi, pi in zip(y, p, strict=True) if pi >= t and yi == 0)
    return tp / n - fp / n * t / (1 - t)


def sample(n: int = 150, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = np.round(rng.beta(2, 4, size=n), 2)
    y = rng.binomial(1, p)
    y[:2] = [0, 1]
    return y, p


@pytest.mark.parametrize("threshold", [0.01, 0.1, 0.2, 0.33, 0.5, 0.9])
def test_net_benefit_matches_slow_loop(threshold: float) -> None:
    y, p = sample()
    assert net_benefit(y, p, threshold=threshold) == pytest.approx(
        slow_net_benefit(y, p, threshold), abs=1e-12
    )


def test_treat_all() -> None:
    y, _ = sample()
    prevalence = y.mean()
    for t in (0.05, 0.2, 0.5):
        expected = prevalence - (1 - prevalence) * t / (1 - t)
        assert net_benefit_treat_all(y, threshold=t) == pytest.approx(expected, abs=1e-12)
        # treating all equals the model that flags everybody
        assert net_benefit(y, np.ones_like(y, dtype=float), threshold=t) == pytest.approx(expected)


def test_perfect_model_has_net_benefit_equal_to_prevalence() -> None:
    y, _ = sample()
    for t in (0.1, 0.4):
        assert net_benefit(y, y.astype(float), threshold=t) == pytest.approx(y.mean())


def test_decision_curve_default_and_custom_thresholds() -> None:
    y, p = sample()
    curve = decision_curve(y, p)
    assert len(curve) == 50
    assert curve[0].threshold == pytest.approx(0.01)
    assert curve[-1].threshold == pytest.approx(0.5)
    for point in curve:
        assert point.net_benefit == pytest.approx(slow_net_benefit(y, p, point.threshold))
        assert point.net_benefit_treat_all == pytest.approx(
            net_benefit_treat_all(y, threshold=point.threshold)
        )
        entry = point.to_dict()
        assert set(entry) == {"threshold", "net_benefit", "net_benefit_treat_all"}
        assert all(type(v) is float for v in entry.values())
    custom = decision_curve(y, p, thresholds=[0.3, 0.1])
    assert [pt.threshold for pt in custom] == [0.3, 0.1]


@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.2])
def test_threshold_must_be_strictly_inside_unit_interval(threshold: float) -> None:
    message = THRESHOLD_MSG.format(
        name="threshold", interval="(0, 1) (strictly between 0 and 1)", value=threshold
    )
    with pytest.raises(DataError, match=re.escape(message)):
        net_benefit([0, 1], [0.2, 0.8], threshold=threshold)
    with pytest.raises(DataError, match=re.escape(message)):
        net_benefit_treat_all([0, 1], threshold=threshold)


def test_dca_thresholds_are_checked() -> None:
    message = THRESHOLD_MSG.format(
        name="dca_thresholds", interval="(0, 1) (strictly between 0 and 1)", value=1.0
    )
    with pytest.raises(DataError, match=re.escape(message)):
        decision_curve([0, 1], [0.2, 0.8], thresholds=[0.1, 1.0])
