"""DeLong's AUROC variance and test against a slow structural-components loop and mlstatkit."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, logit
from scipy.stats import norm

from clinai.evaluation import auroc_score, delong_ci, delong_test
from clinai.evaluation._inputs import SCORE_LENGTH_MSG, SCORE_NON_FINITE_MSG
from clinai.evaluation.discrimination._delong import TRANSFORM_MSG, _structural_components
from clinai.exceptions import DataError


def slow_components(y: np.ndarray, score: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """DeLong et al. (1988) by definition: psi(X_i, Y_j) for every event-non-event pair."""
    events = score[y == 1]
    non_events = score[y == 0]
    psi = np.zeros((events.shape[0], non_events.shape[0]))
    for i, x in enumerate(events):
        for j, v in enumerate(non_events):
            psi[i, j] = 1.0 if x > v else (0.5 if x == v else 0.0)
    return float(psi.mean()), psi.mean(axis=1), psi.mean(axis=0)


def slow_variance(v10: np.ndarray, v01: np.ndarray) -> float:
    m, n = v10.shape[0], v01.shape[0]
    s10 = sum((v - v10.mean()) ** 2 for v in v10) / (m - 1)
    s01 = sum((v - v01.mean()) ** 2 for v in v01) / (n - 1)
    return s10 / m + s01 / n


def sample(n: int, seed: int, *, ties: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.binomial(1, 0.35, size=n)
    y[:2] = [0, 1]
    a = rng.normal(size=n) + 1.0 * y
    b = 0.6 * a + rng.normal(size=n) * 0.8 + 0.3 * y
    if ties:
        a, b = np.round(a, 0), np.round(b, 0)
    return y, a, b


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_components_equal_the_pairwise_definition(seed: int, ties: bool) -> None:
    y, a, b = sample(90, seed, ties=ties)
    auc, v10, v01 = _structural_components(y, np.vstack([a, b]))
    for row, score in enumerate((a, b)):
        slow_auc, slow_v10, slow_v01 = slow_components(y, score)
        assert auc[row] == pytest.approx(slow_auc, abs=1e-12)
        np.testing.assert_allclose(v10[row], slow_v10, atol=1e-12)
        np.testing.assert_allclose(v01[row], slow_v01, atol=1e-12)


@pytest.mark.parametrize("ties", [False, True])
def test_interval_equals_the_slow_reference(ties: bool) -> None:
    y, a, _ = sample(120, 2, ties=ties)
    auc, v10, v01 = slow_components(y, a)
    se = math.sqrt(slow_variance(v10, v01))
    z = norm.ppf(0.975)
    plain = delong_ci(y, a, transform="none")
    assert plain.estimate == pytest.approx(auroc_score(y, expit(a)), abs=1e-12)
    assert plain.ci_low == pytest.approx(max(0.0, auc - z * se), abs=1e-12)
    assert plain.ci_high == pytest.approx(min(1.0, auc + z * se), abs=1e-12)
    logit_ci = delong_ci(y, a, ci_level=0.9)
    half = norm.ppf(0.95) * se / (auc * (1 - auc))
    assert logit_ci.ci_low == pytest.approx(expit(logit(auc) - half), abs=1e-12)
    assert logit_ci.ci_high == pytest.approx(expit(logit(auc) + half), abs=1e-12)


@pytest.mark.parametrize("ties", [False, True])
def test_paired_test_equals_the_slow_reference(ties: bool) -> None:
    y, a, b = sample(100, 3, ties=ties)
    auc_a, v10_a, v01_a = slow_components(y, a)
    auc_b, v10_b, v01_b = slow_components(y, b)
    variance = slow_variance(v10_a - v10_b, v01_a - v01_b)
    z = (auc_a - auc_b) / math.sqrt(variance)
    result = delong_test(y, a, b)
    assert result.auroc_diff == pytest.approx(auc_a - auc_b, abs=1e-12)
    assert result.z == pytest.approx(z, abs=1e-9)
    assert result.p_value == pytest.approx(2 * norm.sf(abs(z)), abs=1e-12)
    assert result.to_dict() == {
        "auroc_diff": result.auroc_diff,
        "z": result.z,
        "p_value": result.p_value,
    }


@pytest.mark.parametrize("ties", [False, True])
def test_agrees_with_mlstatkit(ties: bool) -> None:
    mlstatkit = pytest.importorskip("MLstatkit")
    y, a, b = sample(300, 4, ties=ties)
    z, p_value, ci_a, ci_b, auc_a, auc_b, info = mlstatkit.Delong_test(y, a, b, alpha=0.95)
    assert info["method"] == "delong"
    result = delong_test(y, a, b)
    assert result.z == pytest.approx(-z, rel=1e-9)  # mlstatkit's z is (B - A) / SE
    assert result.p_value == pytest.approx(p_value, rel=1e-9)
    for score, (low, high), auc in ((a, ci_a, auc_a), (b, ci_b, auc_b)):
        plain = delong_ci(y, score, transform="none")
        assert plain.estimate == pytest.approx(auc, abs=1e-12)
        assert (plain.ci_low, plain.ci_high) == (
            pytest.approx(low, abs=1e-12),
            pytest.approx(high, abs=1e-12),
        )


def test_any_score_scale_and_a_reversed_score() -> None:
    y, a, _ = sample(80, 5)
    points = np.round(3 * a + 10)  # an integer score like NEWS2
    assert delong_ci(y, points).estimate == pytest.approx(
        auroc_score(y, (points - points.min()) / np.ptp(points)), abs=1e-12
    )
    forward = delong_test(y, a, -a)
    assert forward.auroc_diff == pytest.approx(2 * auroc_score(y, expit(a)) - 1, abs=1e-12)


def test_degenerate_cases() -> None:
    y = np.array([0, 0, 0, 1, 1, 1])
    perfect = delong_ci(y, [0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    assert (perfect.estimate, perfect.ci_low, perfect.ci_high) == (1.0, 1.0, 1.0)
    single_event = delong_ci([0, 0, 0, 1], [0.1, 0.5, 0.3, 0.7])
    assert math.isnan(single_event.ci_low) and math.isnan(single_event.ci_high)
    same = delong_test(y, [0.1, 0.5, 0.3, 0.7, 0.2, 0.9], [1, 5, 3, 7, 2, 9])
    assert tuple(same) == (0.0, 0.0, 1.0)


def test_input_errors() -> None:
    y = [0, 1, 0, 1]
    with pytest.raises(DataError, match=re.escape(TRANSFORM_MSG.format(value="probit"))):
        delong_ci(y, [0.1, 0.2, 0.3, 0.4], transform="probit")  # type: ignore[arg-type]
    message = SCORE_NON_FINITE_MSG.format(name="y_prob_b", count=1)
    with pytest.raises(DataError, match=re.escape(message)):
        delong_test(y, [0.1, 0.2, 0.3, 0.4], [0.1, np.nan, 0.3, 0.4])
    message = SCORE_LENGTH_MSG.format(name="y_prob", n_score=3, n=4)
    with pytest.raises(DataError, match=re.escape(message)):
        delong_ci(y, [0.1, 0.2, 0.3])


@st.composite
def labelled_scores(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(6, 60))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    y[:2], y[2:4] = 0, 1
    score = np.array(draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)), dtype=float)
    return y, score


@settings(max_examples=30, deadline=None)
@given(labelled_scores(), st.sampled_from(["logit", "none"]), st.floats(0.5, 0.99))
def test_interval_brackets_the_estimate(sample_, transform: str, level: float) -> None:
    y, score = sample_
    est = delong_ci(y, score, ci_level=level, transform=transform)  # type: ignore[arg-type]
    assert 0.0 <= est.ci_low <= est.estimate <= est.ci_high <= 1.0
