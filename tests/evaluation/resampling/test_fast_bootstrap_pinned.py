"""The fast bootstrap's replicates for a fixed seed, pinned: speed-ups must not move them.

The values were printed by the engine before its chunks' gathers were changed (commit
113ea9e); every later change of the engine must reproduce them (rank-based metrics
exactly, the matrix-product ones to the last bits a BLAS may round differently).
"""

from __future__ import annotations

import numpy as np
import pytest

from .test_fast_bootstrap import THRESHOLDS, fast_for, simulate

#: Replicates 0, 11 and 23 (first column of multi-column metrics), rows resampled.
ROWS = {
    "auroc": (0.8019951775238313, 0.8054628528182488, 0.8022846695869769),
    "auprc": (0.6504879915906698, 0.6551733072459519, 0.6520268130176311),
    "thresholds": (0.9459089352961315, 0.9476066538418015, 0.9468675654242664),
    "brier": (0.15619439999999998, 0.15642411333333334, 0.15716777000000012),
    "oe_ratio": (1.1383357928210676, 1.1514036518661948, 1.1553075170246545),
    "intercept": (0.2283635974162967, 0.24873034219344298, 0.25536198740896937),
    "slope": (1.099604922109052, 1.1197156984544632, 1.0928449484368827),
    "lowess": (0.03557863430038203, 0.03879496463082193, 0.03926620572473461),
}
#: The same with patients resampled and a probability baseline.
PATIENTS = {
    "auroc": (0.799684661280203, 0.801469280535143, 0.8127941774948108),
    "auprc": (0.6465355506754831, 0.6511505519857128, 0.6627734180136049),
    "thresholds": (0.9480812641083521, 0.946752223347968, 0.9486384005515339),
    "brier": (0.15809404207162836, 0.15758241378163562, 0.15270820636193533),
    "oe_ratio": (1.1427333252507956, 1.1461758011488854, 1.1370317240081846),
    "intercept": (0.23563335621169545, 0.24173161919954236, 0.2272979597758368),
    "slope": (1.088888868941692, 1.0927780514933854, 1.1442657199521973),
    "lowess": (0.03663529038939149, 0.037445105941292335, 0.03559017105866541),
    "baseline_auroc": (0.799684661280203, 0.801469280535143, 0.8127941774948108),
    "baseline_brier": (0.16210766522433753, 0.16167503861119423, 0.15688815396952688),
    "baseline_nb": (0.22538055296675988, 0.22574005712786516, 0.22321720276812496),
    "model_nb": (0.22686726135001997, 0.2271442349263361, 0.22407852921084676),
}
#: Metrics from integer counts only: equal to the bit.
EXACT = ("auroc", "auprc", "thresholds", "baseline_auroc", "baseline_nb", "model_nb")


def _replicates(patients: bool) -> dict[str, np.ndarray]:
    y, p, _ = simulate(30_000, 21, ties=True)
    codes = None
    if patients:
        drawn = np.random.default_rng(5).integers(0, 21_000, y.shape[0])
        codes = np.unique(drawn, return_inverse=True)[1]
    return fast_for(
        y,
        p,
        codes=codes,
        n_boot=24,
        seed=np.random.SeedSequence(7),
        baseline=p * 0.9 if patients else None,
        baseline_probability=patients,
        nb_thresholds=THRESHOLDS[:2] if patients else None,
        workers=2,
    )


@pytest.mark.parametrize(("patients", "pinned"), [(False, ROWS), (True, PATIENTS)])
def test_replicates_for_a_seed_are_pinned(patients: bool, pinned: dict) -> None:
    replicates = _replicates(patients)
    for key, values in pinned.items():
        found = replicates[key].reshape(24, -1)[[0, 11, 23], 0]
        if key in EXACT:
            assert found.tolist() == list(values), key
        else:
            np.testing.assert_allclose(found, values, rtol=1e-13, atol=0, err_msg=key)


@pytest.mark.parametrize(("patients", "pinned"), [(False, ROWS), (True, PATIENTS)])
def test_a_count_too_large_for_the_compact_buffers_redraws_into_int64(
    patients: bool, pinned: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counts above the uint8 buffers' limit (here lowered to 1) give the same replicates."""
    from clinai.evaluation.resampling import _fast_draws

    monkeypatch.setattr(_fast_draws, "_COMPACT_MAX", 1)
    with pytest.raises(_fast_draws.CountOverflowError):
        _fast_draws._multinomial_counts(np.random.default_rng(0), 100, np.zeros(100, np.uint8))
    replicates = _replicates(patients)
    for key, values in pinned.items():
        found = replicates[key].reshape(24, -1)[[0, 11, 23], 0]
        np.testing.assert_allclose(found, values, rtol=1e-13, atol=0, err_msg=key)
