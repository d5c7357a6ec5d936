"""The fast bootstrap of large samples against the exact per-resample computations."""

from __future__ import annotations

import numpy as np
import pytest

import clinai.evaluation.validate._steps as validate_module
from clinai.evaluation import evaluate_predictions
from clinai.evaluation.calibration._calibration import (
    _fit_intercept,
    _fit_slope,
    _intercept_weighted,
    _logit_clipped,
    _oe_weighted,
    _slope_weighted,
    calibration_grid,
)
from clinai.evaluation.comparison._comparison import _net_benefit_weighted
from clinai.evaluation.discrimination._metrics import (
    _auroc_weighted,
    _average_precision_weighted,
    _brier_weighted,
    _scaled_brier_weighted,
)
from clinai.evaluation.resampling import _fast_bootstrap as fb
from clinai.evaluation.resampling.engine import Clusters, clusters_of, run_replicates
from clinai.evaluation.thresholds._thresholds import _threshold_weighted
from clinai.evaluation.validate._steps import _lowess_replicate

THRESHOLDS = np.array([0.1, 0.2, 0.35])


def simulate(n: int, seed: int, *, ties: bool = False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(1.3 * x - 1.4)))
    if ties:
        p = np.round(p, 2)
    y = rng.binomial(1, np.clip(1.15 * p, 0, 1)).astype(float)
    baseline = np.clip(np.round(5 + 2 * x + rng.normal(0, 1.5, size=n)), 0, 20)
    return y, p, baseline


def units(codes: np.ndarray | None, n: int) -> Clusters:
    """Each row its own unit, or the patient codes given (0 .. k - 1) as they are."""
    return clusters_of(None, n) if codes is None else Clusters(codes, int(codes.max()) + 1, True)


def fast_for(y: np.ndarray, p: np.ndarray, *, codes=None, **options) -> dict[str, np.ndarray]:
    """fast_replicates on THRESHOLDS and a 20-point curve, with the full-sample fits."""
    x = _logit_clipped(p)
    ones = np.ones((1, y.shape[0]))
    return fb.fast_replicates(
        y,
        p,
        clusters=units(codes, y.shape[0]),
        thresholds=THRESHOLDS,
        curve_grid=calibration_grid(p, 20),
        intercept=float(_fit_intercept(y, x, ones)[0]),
        slope_fit=tuple(float(v[0]) for v in _fit_slope(y, x, ones)),
        **options,
    )


def layout_for(y, p, *, baseline=None, probability=False, codes=None):
    x = _logit_clipped(p)
    ones = np.ones((1, y.shape[0]))
    c0, b0 = (float(v[0]) for v in _fit_slope(y, x, ones))
    layout = fb._prepare(
        y,
        p,
        clusters=units(codes, y.shape[0]),
        thresholds=THRESHOLDS,
        nb_thresholds=THRESHOLDS,
        curve_grid=calibration_grid(p, 20),
        intercept=float(_fit_intercept(y, x, ones)[0]),
        slope_fit=(c0, b0),
        baseline=baseline,
        baseline_probability=probability,
    )
    events, non_events = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    order = np.concatenate(
        [
            events[np.argsort(p[events], kind="stable")],
            non_events[np.argsort(p[non_events], kind="stable")],
        ]
    )
    return layout, order


def multinomial(n: int, size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([np.bincount(rng.integers(0, n, size=n), minlength=n) for _ in range(size)])


@pytest.mark.parametrize("ties", [False, True])
def test_rank_and_sum_metrics_equal_the_weighted_versions(ties: bool) -> None:
    y, p, _ = simulate(3000, 0, ties=ties)
    layout, order = layout_for(y, p)
    counts = multinomial(3000, 5, 1)
    counts[0] = 0
    counts[0, :3] = 2  # a resample with events only: every metric undefined
    fast = fb._replicate_chunk(layout, counts)
    yc, pc, w = y[order], p[order], counts.astype(float)
    for key, weighted in (
        ("auroc", _auroc_weighted),
        ("auprc", _average_precision_weighted),
        ("brier", _brier_weighted),
        ("scaled_brier", _scaled_brier_weighted),
        ("oe_ratio", _oe_weighted),
    ):
        np.testing.assert_allclose(fast[key], weighted(yc, pc, w), atol=1e-12, err_msg=key)
    np.testing.assert_allclose(
        fast["thresholds"], _threshold_weighted(yc, pc, w, THRESHOLDS), atol=1e-12
    )
    assert np.isnan(fast["auroc"][0]) and np.isnan(fast["lowess"][0]).all()


def test_taylor_calibration_fits_equal_newton_raphson() -> None:
    y, p, _ = simulate(20_000, 2)
    layout, order = layout_for(y, p)
    counts = multinomial(20_000, 4, 3)
    fast = fb._replicate_chunk(layout, counts)
    yc, pc, w = y[order], p[order], counts.astype(float)
    np.testing.assert_allclose(fast["intercept"], _intercept_weighted(yc, pc, w), atol=5e-8)
    np.testing.assert_allclose(fast["slope"], _slope_weighted(yc, pc, w), atol=5e-8)


def test_third_order_taylor_fits_of_large_samples_equal_newton_raphson(monkeypatch) -> None:
    # order 3 is used from 250,000 rows on; here forced at 60,000 (changes about twice as large)
    monkeypatch.setattr(fb, "_ORDER_3_MIN_ROWS", 50_000)
    y, p, _ = simulate(60_000, 4)
    layout, order = layout_for(y, p)
    assert layout.order == 3 and layout.features.shape[1] == 20
    counts = multinomial(60_000, 4, 5)
    fast = fb._replicate_chunk(layout, counts)
    yc, pc, w = y[order], p[order], counts.astype(float)
    np.testing.assert_allclose(fast["intercept"], _intercept_weighted(yc, pc, w), atol=1e-7)
    np.testing.assert_allclose(fast["slope"], _slope_weighted(yc, pc, w), atol=1e-7)


def test_binned_lowess_is_close_to_the_exact_smooth() -> None:
    y, p, _ = simulate(20_000, 4)
    layout, order = layout_for(y, p)
    exact = _lowess_replicate(calibration_grid(p, 20))
    counts = np.vstack([np.ones(20_000, dtype=np.int64), multinomial(20_000, 1, 5)])
    fast = fb._replicate_chunk(layout, counts)["lowess"]
    for row in range(2):
        rows = np.repeat(order, counts[row])
        np.testing.assert_allclose(fast[row], exact(y[rows], p[rows]), atol=3e-4)


def test_baseline_metrics_equal_the_weighted_versions() -> None:
    y, p, points = simulate(3000, 6)
    old = np.clip(p + np.random.default_rng(7).normal(0, 0.1, size=3000), 0, 1)
    counts = multinomial(3000, 3, 8)
    for baseline, probability in ((points, False), (old, True)):
        layout, order = layout_for(y, p, baseline=baseline, probability=probability)
        fast = fb._replicate_chunk(layout, counts)
        yc, pc, bc, w = y[order], p[order], baseline[order], counts.astype(float)
        np.testing.assert_allclose(fast["baseline_auroc"], _auroc_weighted(yc, bc, w), atol=1e-12)
        if probability:
            np.testing.assert_allclose(fast["baseline_brier"], _brier_weighted(yc, bc, w))
            np.testing.assert_allclose(
                fast["baseline_nb"], _net_benefit_weighted(yc, bc, w, THRESHOLDS), atol=1e-12
            )
            np.testing.assert_allclose(
                fast["model_nb"], _net_benefit_weighted(yc, pc, w, THRESHOLDS), atol=1e-12
            )
        else:
            assert "baseline_brier" not in fast


def test_counts_are_multinomial_resamples_of_rows_and_patients() -> None:
    y, p, _ = simulate(50_000, 9)
    layout, _ = layout_for(y, p)
    seeds = np.random.SeedSequence(1).spawn(3)
    counts = fb._counts(layout, seeds, fb._Workspace(layout, 3))
    assert (counts.sum(axis=1) == 50_000).all()
    assert counts.var() == pytest.approx(1.0, abs=0.03)  # Multinomial(n, 1/n): var 1 - 1/n
    patients = np.repeat(np.arange(1000), 3)
    small = np.arange(3000)
    layout, order = layout_for(y[small], p[small], codes=patients)
    counts = fb._counts(layout, seeds, fb._Workspace(layout, 3))
    by_patient = patients[order]
    for row in counts:
        per_patient = np.zeros(1000, dtype=np.int64)
        per_patient[by_patient] = row
        assert (row == per_patient[by_patient]).all()  # every row of a patient alike
        assert per_patient.sum() == 1000  # as many draws as patients


def test_results_do_not_depend_on_threads_and_follow_the_seed() -> None:
    y, p, _ = simulate(4000, 10)
    x = _logit_clipped(p)
    ones = np.ones((1, 4000))
    slope = tuple(float(v[0]) for v in _fit_slope(y, x, ones))
    kwargs = {
        "clusters": clusters_of(None, 4000),
        "thresholds": THRESHOLDS,
        "curve_grid": calibration_grid(p, 20),
        "intercept": float(_fit_intercept(y, x, ones)[0]),
        "slope_fit": slope,
        "n_boot": 40,
    }
    calls: list[tuple[int, int]] = []
    one = fb.fast_replicates(
        y,
        p,
        seed=np.random.SeedSequence(3),
        workers=1,
        progress=lambda d, t: calls.append((d, t)),
        **kwargs,
    )
    two = fb.fast_replicates(y, p, seed=np.random.SeedSequence(3), workers=2, **kwargs)
    other = fb.fast_replicates(y, p, seed=np.random.SeedSequence(4), workers=2, **kwargs)
    for key in one:
        np.testing.assert_array_equal(one[key], two[key])
    assert not np.array_equal(one["auroc"], other["auroc"])
    assert calls[0] == (0, 40) and calls[-1] == (40, 40)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_same_distribution_as_the_per_resample_bootstrap() -> None:
    n, n_boot = 20_000, 150
    y, p, _ = simulate(n, 11)
    layout, _ = layout_for(y, p)
    fast = fb.fast_replicates(
        y,
        p,
        clusters=clusters_of(None, n),
        thresholds=THRESHOLDS,
        curve_grid=calibration_grid(p, 20),
        intercept=layout.a0,
        slope_fit=(layout.c0, layout.b0),
        n_boot=n_boot,
        seed=np.random.SeedSequence(12),
    )
    slow = run_replicates(
        y,
        p,
        weighted={"auroc": _auroc_weighted, "slope": _slope_weighted, "brier": _brier_weighted},
        resampled={},
        shapes={"auroc": (), "slope": (), "brier": ()},
        clusters=clusters_of(None, n),
        n_boot=n_boot,
        rng=np.random.default_rng(13),
        progress=None,
    )
    for key in ("auroc", "slope", "brier"):
        a, b = fast[key], slow[key]
        assert np.std(a) / np.std(b) == pytest.approx(1.0, abs=0.25), key
        pooled = np.sqrt((np.var(a) + np.var(b)) / n_boot)
        assert abs(np.mean(a) - np.mean(b)) < 4 * pooled, key


@pytest.fixture
def small_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the fast path from 2,000 rows on, so that the tests stay quick."""
    monkeypatch.setattr(validate_module, "FAST_BOOTSTRAP_MIN_ROWS", 2_000)


def test_evaluate_predictions_fast_path(small_fast_path: None) -> None:
    y, p, points = simulate(4000, 14)
    patients = np.repeat(np.arange(2000), 2)
    kwargs = {
        "patient_ids": patients,
        "y_baseline": points,
        "baseline_name": "NEWS2",
        "target_sensitivities": (0.8,),
        "n_boot": 60,
        "random_state": 5,
    }
    result = evaluate_predictions(y, p, **kwargs)
    again = evaluate_predictions(y, p, **kwargs)
    document = result.to_dict()
    assert document == again.to_dict()
    slow = evaluate_predictions(y, p, **{**kwargs, "n_boot": 0}).to_dict()
    assert set(document) == set(slow)
    # point estimates do not depend on the path
    assert document["auroc"]["estimate"] == slow["auroc"]["estimate"]
    assert document["calibration"]["ici"]["estimate"] == slow["calibration"]["ici"]["estimate"]
    for key in ("auroc", "auprc", "brier", "scaled_brier"):
        assert document[key]["ci_low"] <= document[key]["estimate"] <= document[key]["ci_high"]
    for key in ("intercept", "slope", "oe_ratio", "ici"):
        block = document["calibration"][key]
        assert block["ci_low"] < block["ci_high"]
    assert document["thresholds"][-1]["target_sensitivity"] == 0.8
    comparison = document["baseline_comparison"]
    assert comparison["auroc_diff"]["ci_low"] < comparison["auroc_diff"]["ci_high"]
    assert comparison["brier_diff"] is None
    assert result.n_patients == 2000
