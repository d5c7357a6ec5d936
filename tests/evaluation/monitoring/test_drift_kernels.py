"""The compiled drift counts equal numpy's bit for bit, per period and for a whole column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinai.evaluation.monitoring import count_bins, count_bins_by_period, drift_reference

N_PERIODS = 5
ABSENT = 2  # no row of the data below belongs to this period


def _numpy_counts(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The counts as numpy computed them before the compiled loop (searchsorted, bincount)."""
    x = np.where(np.isinf(values), np.nan, values)
    missing = np.isnan(x)
    observed = x[~missing]
    index = np.searchsorted(edges, observed, side="right")
    k = edges.size + 1
    bins = np.bincount(index, minlength=k).astype("float64")
    sums = np.bincount(index, weights=observed, minlength=k)
    tails = [sums[0], sums[-1]] if k > 1 else [0.0, 0.0]
    return np.concatenate([bins, [float(missing.sum()), float(sums.sum())], tails])


def _with_gaps(values: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Values with NaN and infinities spread in, and period codes (-1: a skipped row)."""
    rng = np.random.default_rng(seed)
    x = values.astype("float64").copy()
    x[rng.random(x.size) < 0.05] = np.nan
    x[rng.random(x.size) < 0.01] = np.inf
    x[rng.random(x.size) < 0.01] = -np.inf
    period = rng.choice(np.array([-1, 0, 1, 3, 4], dtype=np.int16), size=x.size)
    return x, period


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).normal(size=20_000),
        np.round(np.random.default_rng(2).normal(50, 10, size=20_000), 1),  # ties, on edges
        np.random.default_rng(3).lognormal(0.0, 3.0, size=20_000),  # crowded: binary search
        1e9 + np.random.default_rng(4).uniform(size=20_000),  # large offset, small range
        np.full(20_000, 7.0),  # one value: no edges to search
    ],
)
def test_counts_per_period_equal_numpy_bit_for_bit(values: np.ndarray) -> None:
    reference = drift_reference(pd.DataFrame({"x": values[:5_000]}))
    edges = reference.get("x").edges
    x, period = _with_gaps(values, seed=int(values.size))
    found = count_bins_by_period(reference, "x", x, period, N_PERIODS)
    for g in range(N_PERIODS):
        if g == ABSENT:
            assert found[g] is None
            continue
        expected = _numpy_counts(edges, x[period == g])
        assert found[g] is not None
        assert found[g].tobytes() == expected.tobytes()  # same bins, same sums to the bit
    assert count_bins(reference, "x", x).tobytes() == _numpy_counts(edges, x).tobytes()


def test_categorical_counts_per_period_equal_count_bins() -> None:
    rng = np.random.default_rng(5)
    ward = rng.choice(np.array(["icu", "ward", "ed", None], dtype=object), size=2_000)
    reference = drift_reference(pd.DataFrame({"ward": ward[:1_000]}), categorical=["ward"])
    period = rng.choice(np.array([-1, 0, 1], dtype=np.int16), size=ward.size)
    found = count_bins_by_period(reference, "ward", ward, period, 3)
    for g in range(2):
        assert np.array_equal(found[g], count_bins(reference, "ward", ward[period == g]))
    assert found[2] is None


def test_an_empty_column_counts_nothing() -> None:
    reference = drift_reference(pd.DataFrame({"x": np.arange(100.0)}))
    counts = count_bins(reference, "x", np.zeros(0))
    assert counts.shape == (reference.get("x").edges.size + 5,)
    assert not counts.any()
