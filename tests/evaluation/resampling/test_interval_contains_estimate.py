"""Every bootstrap interval in ``metrics.json`` contains its estimate (issue 13, item 9).

The reproducer is a perfectly calibrated model on 300 rows (seed 16): its ICI,
E50 and E90 sit on the smoother's positive noise floor, below nearly all of
their bootstrap replicates, so the plain percentile interval excluded them
(E90 0.0124 with the interval 0.0207-0.1230 before the fix, 0-0.1230 after).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from clinai.evaluation import bootstrap, evaluate_predictions
from clinai.evaluation.resampling.engine import CI_METHOD, contained_interval, percentile_interval

BOUNDS = ("ci_low", "ci_high")


def _calibrated(seed: int, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.6, size=n)
    return rng.binomial(1, p), p


def _intervals(node: Any, path: str = "") -> Iterator[tuple[str, float, float, float]]:
    """Yield ``(path, value, ci_low, ci_high)`` for every interval in a metrics.json tree."""
    if isinstance(node, dict):
        value_key = "estimate" if "estimate" in node else "observed" if "observed" in node else None
        if value_key is not None and all(key in node for key in BOUNDS):
            yield path, node[value_key], node["ci_low"], node["ci_high"]
        for key, child in node.items():
            yield from _intervals(child, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _intervals(child, f"{path}[{index}]")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    y, p = _calibrated(16)
    rng = np.random.default_rng(7)
    sex = pd.DataFrame({"sex": rng.choice(["F", "M"], size=y.shape[0])})
    baseline = np.clip(p + rng.normal(0.0, 0.1, size=y.shape[0]), 0.01, 0.99)
    result = evaluate_predictions(
        y,
        p,
        patient_ids=np.arange(y.shape[0]) // 2,
        sensitive_features=sex,
        y_baseline=baseline,
        n_boot=200,
        random_state=16,
    )
    # through JSON, as the file is written
    return json.loads(json.dumps(result.to_dict(), allow_nan=False))


def test_every_interval_in_metrics_json_contains_its_estimate(document) -> None:
    found = list(_intervals(document))
    assert len(found) > 40  # scalars, calibration, curve, thresholds, subgroups, baseline
    outside = [
        (path, value, low, high)
        for path, value, low, high in found
        if None not in (value, low, high) and not low <= value <= high
    ]
    assert outside == []


def test_the_reproducer_exercises_the_extension(document) -> None:
    # the percentile intervals of all three excluded their estimates on these data
    assert {"calibration.ici", "calibration.e50", "calibration.e90"} <= set(document["ci_extended"])
    e90 = document["calibration"]["e90"]
    assert e90["ci_low"] == 0.0 < e90["estimate"] < e90["ci_high"]
    assert document["ci_method"] == CI_METHOD


def test_same_seed_gives_the_same_intervals(document) -> None:
    y, p = _calibrated(16)
    again = evaluate_predictions(y, p, patient_ids=np.arange(300) // 2, n_boot=200, random_state=16)
    assert again.to_dict()["calibration"] == document["calibration"]


def test_fast_path_intervals_contain_their_estimates() -> None:
    # 20,000 rows take the fast bootstrap; on this seed its ICI interval excluded the estimate
    y, p = _calibrated(4, n=20_000)
    document = evaluate_predictions(y, p, n_boot=60, random_state=4).to_dict()
    assert "calibration.ici" in document["ci_extended"]
    outside = [
        path
        for path, value, low, high in _intervals(document)
        if None not in (value, low, high) and not low <= value <= high
    ]
    assert outside == []


def test_contained_interval_moves_only_the_bound_on_the_estimate_side() -> None:
    replicates = np.array([[1.0, 5.0, 2.0], [2.0, 6.0, 2.0], [3.0, 7.0, 2.0], [4.0, 8.0, 2.0]])
    low, high = percentile_interval(replicates, 0.5)
    estimate = np.array([0.5, 9.0, 2.0])
    new_low, new_high, moved = contained_interval(replicates, estimate, 0.5)
    assert moved.tolist() == [True, True, False]
    assert new_low.tolist() == [0.5, low[1], 2.0]
    assert new_high.tolist() == [high[0], 9.0, 2.0]
    # with a lower bound, an estimate below its replicates gets that bound as lower end
    floor_low, floor_high, _ = contained_interval(replicates, estimate, 0.5, lower_bound=0.0)
    assert floor_low.tolist() == [0.0, low[1], 2.0]
    assert floor_high.tolist() == new_high.tolist()


def test_contained_interval_edge_cases() -> None:
    # every replicate equals the estimate: the interval is the estimate itself, not "moved"
    low, high, moved = contained_interval(np.full((5, 1), 0.3), np.array([0.3]), 0.95)
    assert (low[0], high[0], bool(moved[0])) == (0.3, 0.3, False)
    # no finite replicate, or an undefined estimate: NaN bounds are left alone
    low, high, moved = contained_interval(np.full((5, 1), np.nan), np.array([0.3]), 0.95)
    assert np.isnan(low[0]) and np.isnan(high[0]) and not moved[0]
    low, high, moved = contained_interval(np.ones((5, 1)), np.array([np.nan]), 0.95)
    assert (low[0], high[0], bool(moved[0])) == (1.0, 1.0, False)
    # no replicate at all (n_boot = 0)
    low, high, moved = contained_interval(np.empty((0, 2)), np.array([0.1, 0.2]), 0.95)
    assert np.isnan(low).all() and not moved.any()


def _distance_from_half(y: np.ndarray, p: np.ndarray, axis: int = -1) -> Any:
    """``|mean(p) - 0.5|``: Andrews' (2000) example of a parameter on its boundary."""
    return np.abs(np.mean(p, axis=axis) - 0.5)


def test_bca_does_not_help_and_our_interval_does_against_scipy() -> None:
    # p uniform on (0, 1): the true |mean - 0.5| is 0, the boundary; seed 6 gives an
    # estimate (0.0004) below 97.5% of its replicates
    rng = np.random.default_rng(6)
    p = rng.uniform(size=60)
    y = (np.arange(60) % 2).astype(float)
    estimate = float(_distance_from_half(y, p))
    reference = {}
    for method in ("percentile", "BCa"):
        interval = stats.bootstrap(
            (p,),
            lambda x, axis=-1: _distance_from_half(y, x, axis),
            method=method,
            n_resamples=2000,
            random_state=np.random.default_rng(1006),
        ).confidence_interval
        reference[method] = (float(interval.low), float(interval.high))
    # the reference: the percentile interval excludes the estimate, and BCa too,
    # from the other side, squeezed onto the most extreme replicates
    assert estimate < reference["percentile"][0]
    assert reference["BCa"][1] < estimate
    ours = bootstrap(y, p, metric={"distance": _distance_from_half}, n_boot=2000, random_state=6)
    est = ours["distance"]
    plain_low, plain_high = percentile_interval(ours.replicates["distance"], 0.95)
    # the same percentile interval as scipy's, from other draws: within 3 Monte Carlo
    # standard errors of the difference (about 0.003 for the upper bound at 2,000)
    assert plain_low == pytest.approx(reference["percentile"][0], abs=0.002)
    assert plain_high == pytest.approx(reference["percentile"][1], abs=0.009)
    # ... extended down to the estimate
    assert est.ci_low == est.estimate == pytest.approx(estimate)
    assert est.ci_high == plain_high


def test_bca_contains_the_estimate_exactly_when_the_percentile_interval_does() -> None:
    # the identity behind the choice (module docstring of _bootstrap), on scipy's own
    # implementation: both intervals from the same resamples
    for seed in range(30):
        p = np.random.default_rng(seed).uniform(size=60)
        estimate = float(np.abs(p.mean() - 0.5))
        contains = []
        for method in ("percentile", "BCa"):
            interval = stats.bootstrap(
                (p,),
                lambda x, axis=-1: np.abs(np.mean(x, axis=axis) - 0.5),
                method=method,
                n_resamples=1000,
                random_state=np.random.default_rng(seed + 1000),
            ).confidence_interval
            contains.append(interval.low <= estimate <= interval.high)
        assert contains[0] == contains[1], seed
