"""Discrimination and Brier scores against scikit-learn and slow reference loops."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score as sk_average_precision_score
from sklearn.metrics import brier_score_loss, roc_auc_score

from clinai.evaluation import (
    auroc_score,
    average_precision_score,
    brier_score,
    roc_curve_points,
    scaled_brier_score,
)
from clinai.evaluation._inputs import (
    EMPTY_MSG,
    LENGTH_MSG,
    ONE_CLASS_MSG,
    PROBABILITY_NON_FINITE_MSG,
    PROBABILITY_RANGE_MSG,
    Y_PROB_NOT_1D_MSG,
    Y_TRUE_NOT_BINARY_MSG,
)
from clinai.evaluation.discrimination._metrics import (
    _auroc_weighted,
    _average_precision_weighted,
    _brier_weighted,
    _scaled_brier_weighted,
)
from clinai.exceptions import DataError

METRICS = [auroc_score, average_precision_score, brier_score, scaled_brier_score]


def simulate(n: int, seed: int, *, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 5, size=n)
    if ties:
        p = np.round(p, 1)
    y = rng.binomial(1, np.clip(p * 1.3, 0, 1))
    y[:2] = [0, 1]
    return y, p


def auroc_pairwise(y: np.ndarray, p: np.ndarray) -> float:
    """Slow, obviously correct AUROC: compare every event with every non-event."""
    wins = 0.0
    pairs = 0
    for pi in p[y == 1]:
        for pj in p[y == 0]:
            pairs += 1
            if pi > pj:
                wins += 1.0
            elif pi == pj:
                wins += 0.5
    return wins / pairs


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_auroc_matches_sklearn_and_pairwise_loop(seed: int, ties: bool) -> None:
    y, p = simulate(150, seed, ties=ties)
    assert auroc_score(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert auroc_score(y, p) == pytest.approx(auroc_pairwise(y, p), abs=1e-12)


@pytest.mark.parametrize("ties", [False, True])
def test_average_precision_matches_sklearn(ties: bool) -> None:
    y, p = simulate(200, 3, ties=ties)
    assert average_precision_score(y, p) == pytest.approx(sk_average_precision_score(y, p))


def test_brier_and_scaled_brier_match_definitions() -> None:
    y, p = simulate(200, 4)
    brier = brier_score_loss(y, p)
    prevalence = y.mean()
    assert brier_score(y, p) == pytest.approx(brier, abs=1e-12)
    expected = 1 - brier / (prevalence * (1 - prevalence))
    assert scaled_brier_score(y, p) == pytest.approx(expected, abs=1e-12)
    # predicting the prevalence for everybody scores 0
    assert scaled_brier_score(y, np.full(y.shape, prevalence)) == pytest.approx(0.0, abs=1e-12)


def test_perfect_and_reversed_ranking() -> None:
    y = np.array([0, 0, 1, 1])
    assert auroc_score(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert auroc_score(y, [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert auroc_score(y, [0.5, 0.5, 0.5, 0.5]) == 0.5


def test_accepts_lists_series_and_bools() -> None:
    y, p = simulate(50, 5)
    expected = auroc_score(y, p)
    assert auroc_score(list(y), list(p)) == expected
    assert auroc_score(pd.Series(y, index=range(100, 150)), pd.Series(p)) == expected
    assert auroc_score(y.astype(bool), p) == expected


@pytest.mark.parametrize(
    "weighted, metric",
    [
        (_auroc_weighted, auroc_score),
        (_average_precision_weighted, average_precision_score),
        (_brier_weighted, brier_score),
        (_scaled_brier_weighted, scaled_brier_score),
    ],
)
def test_vectorised_versions_equal_metric_on_repeated_rows(weighted, metric) -> None:
    y, p = simulate(60, 6, ties=True)
    rng = np.random.default_rng(0)
    counts = rng.multinomial(60, np.full(60, 1 / 60), size=5).astype(float)
    values = weighted(y.astype(float), p, counts)
    for row, value in zip(counts, values, strict=True):
        index = np.repeat(np.arange(60), row.astype(int))
        assert value == pytest.approx(metric(y[index], p[index]), abs=1e-12)


def test_vectorised_versions_are_nan_for_one_class_resamples() -> None:
    y = np.array([0.0, 0.0, 1.0])
    p = np.array([0.2, 0.3, 0.6])
    counts = np.array([[2.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    for weighted in (_auroc_weighted, _average_precision_weighted, _brier_weighted):
        values = weighted(y, p, counts)
        assert np.isnan(values[0])
        assert np.isfinite(values[1])


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("value", [0, 1])
def test_one_class_is_refused(metric, value: int) -> None:
    with pytest.raises(DataError, match=re.escape(ONE_CLASS_MSG.format(value=value))):
        metric([value] * 4, [0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize("metric", METRICS)
def test_probabilities_outside_unit_interval_are_refused(metric) -> None:
    message = PROBABILITY_RANGE_MSG.format(low=-0.1, high=1.2)
    with pytest.raises(DataError, match=re.escape(message)):
        metric([0, 1, 0], [-0.1, 1.2, 0.5])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_probabilities_are_refused(bad: float) -> None:
    message = PROBABILITY_NON_FINITE_MSG.format(count=1)
    with pytest.raises(DataError, match=re.escape(message)):
        auroc_score([0, 1, 0], [0.1, bad, 0.5])


def test_other_input_errors() -> None:
    with pytest.raises(DataError, match=re.escape(LENGTH_MSG.format(n_true=3, n_prob=2))):
        auroc_score([0, 1, 0], [0.1, 0.2])
    with pytest.raises(DataError, match=re.escape(EMPTY_MSG)):
        brier_score([], [])
    with pytest.raises(DataError, match=re.escape(Y_PROB_NOT_1D_MSG.format(shape=(2, 2)))):
        auroc_score([0, 1], [[0.1, 0.9], [0.2, 0.8]])
    with pytest.raises(DataError, match=re.escape(Y_TRUE_NOT_BINARY_MSG.split("{")[0])):
        auroc_score([0, 2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="y_true must contain only 0"):
        auroc_score([0, np.nan, 1], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="y_true must contain only 0"):
        auroc_score(["no", "yes", "no"], [0.1, 0.2, 0.3])


def test_roc_curve_points_are_thinned_and_keep_the_ends() -> None:
    y, p = simulate(3000, 7)
    points = roc_curve_points(y, p)
    assert 2 <= len(points) <= 200
    assert (points[0].fpr, points[0].tpr) == (0.0, 0.0)
    assert (points[-1].fpr, points[-1].tpr) == (1.0, 1.0)
    fpr = [pt.fpr for pt in points]
    assert fpr == sorted(fpr)
    few = roc_curve_points([0, 1, 0, 1], [0.1, 0.9, 0.4, 0.3])
    assert len(few) <= 5


@st.composite
def samples(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(4, 40))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    y[0], y[1] = 0, 1
    grid = draw(st.lists(st.integers(0, 100), min_size=n, max_size=n))
    return y, np.array(grid) / 100.0


@settings(max_examples=30, deadline=None)
@given(samples())
def test_auroc_is_in_unit_interval_and_invariant_to_monotone_transforms(sample) -> None:
    y, p = sample
    value = auroc_score(y, p)
    assert 0.0 <= value <= 1.0
    assert auroc_score(y, p**2) == pytest.approx(value, abs=1e-12)
    assert auroc_score(y, np.sqrt(p)) == pytest.approx(value, abs=1e-12)
    assert auroc_score(y, 0.2 + 0.5 * p) == pytest.approx(value, abs=1e-12)
    assert auroc_score(y, 1.0 - p) == pytest.approx(1.0 - value, abs=1e-12)
