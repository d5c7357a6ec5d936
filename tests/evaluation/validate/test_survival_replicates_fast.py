"""The fast replicate path (Cox sums in one compiled pass, float32 counts) equals the plain one.

Each replicate's Cox fits run on the data sorted once, weighted by the replicate's counts;
here they are pinned against :func:`fit_cox` on the resampled rows themselves (follow-up cut
at the horizon), and the kernel's sums against a by-definition evaluation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from clinai import evaluation as ev
from clinai.evaluation.resampling.engine import clusters_of
from clinai.evaluation.survival._calibration import cloglog
from clinai.evaluation.survival._concordance import _concordance_from_sorted, _prepare
from clinai.evaluation.survival._cox import fit_cox
from clinai.evaluation.survival._flexible_calibration import rcs_basis
from clinai.evaluation.survival._kaplan_meier import sort_survival
from clinai.evaluation.survival._kernels import cox_sums
from clinai.evaluation.validate._survival import _bootstrap
from clinai.evaluation.validate._survival_replicates import (
    _ERROR_BINS,
    Prepared,
    _histogram_quantiles,
    prepare,
    replicate_batch,
)
from tests.evaluation.survival._simulation import exponential_latent_times

HORIZON = 5.0


@pytest.fixture(scope="module")
def cohort() -> dict[str, np.ndarray]:
    """400 rows, times rounded (ties, events and censorings at one time), 2 rows per patient."""
    n = 400
    lp, event_time, censor_time = exponential_latent_times(
        np.random.default_rng(11), n, censor_mean=15.0, censor_cap=12.0
    )
    time = np.round(np.minimum(event_time, censor_time), 0) + 0.5
    return {
        "time": time,
        "event": event_time <= censor_time,
        "risk": 1.0 - np.exp(-0.4 * np.exp(0.8 * lp)),
        "lp": lp,
        "patients": np.arange(n) // 2,
    }


def _replicates(cohort: dict[str, np.ndarray], n_boot: int = 3) -> list[np.ndarray]:
    n = cohort["time"].shape[0]
    return list(ev.bootstrap_indices(n, patient_ids=cohort["patients"], n_boot=n_boot))


def _prepared(cohort: dict[str, np.ndarray]) -> tuple[Prepared, Any]:
    t, e, r, lp = cohort["time"], cohort["event"], cohort["risk"], cohort["lp"]
    flexible = ev.flexible_survival_calibration(t, e, r, t=HORIZON)
    prepared = prepare(
        t,
        e,
        r,
        lp,
        HORIZON,
        covariate=lp,
        knots=np.asarray(flexible.knots),
        curve_risk=np.asarray(flexible.predicted),
        thresholds=np.array([0.2, 0.4]),
        groups=[lp > 0],
    )
    return prepared, flexible


def test_replicate_cox_fits_equal_fit_cox_on_the_resampled_rows(cohort) -> None:
    """Slope and flexible calibration of a replicate = fit_cox on its rows, cut at the horizon."""
    t, e, r, lp = cohort["time"], cohort["event"], cohort["risk"], cohort["lp"]
    prepared, flexible = _prepared(cohort)
    knots = np.asarray(flexible.knots)
    basis = rcs_basis(cloglog(r), knots)
    curve_basis = rcs_basis(cloglog(np.asarray(flexible.predicted)), knots)
    for rows in _replicates(cohort):
        weights = np.bincount(rows, minlength=t.shape[0]).astype(float)[None, :]
        out = replicate_batch(prepared, weights)
        tb, eb = np.minimum(t[rows], HORIZON), e[rows] & (t[rows] <= HORIZON)
        slope = fit_cox(tb, eb, lp[rows], what="slope", start=prepared.starts[0])
        fit = fit_cox(tb, eb, basis[rows], what="flexible", start=prepared.starts[1])
        h0 = fit.baseline_cumulative_hazard(HORIZON)
        error = np.abs(-np.expm1(-np.exp(basis[rows] @ fit.coef) * h0) - r[rows])
        curve = -np.expm1(-np.exp(curve_basis @ fit.coef) * h0)
        metrics = out["metrics"][0]
        assert metrics[4] == pytest.approx(slope.coef[0], rel=1e-10, abs=1e-12)
        assert metrics[5] == pytest.approx(error.mean(), rel=1e-9)  # ICI
        assert metrics[8] == pytest.approx(error.max(), rel=1e-9)  # Emax
        # E50/E90 of a replicate are read from a histogram of the errors up to Emax
        index = np.minimum((error * (_ERROR_BINS / error.max())).astype(int), _ERROR_BINS - 1)
        hist = np.bincount(index, minlength=_ERROR_BINS).astype(float)
        expected = _histogram_quantiles(hist, error.max(), (0.5, 0.9))
        assert metrics[6:8] == pytest.approx(expected, rel=1e-9)
        assert out["curve"][0] == pytest.approx(curve, rel=1e-9, abs=1e-12)


def _by_definition(time, event, weight, x, beta) -> tuple[float, np.ndarray, np.ndarray, float]:
    """Breslow loglik, score, information and log H0 at the last event, risk set by risk set."""
    eta = x @ beta
    loglik, score, info = 0.0, np.zeros(x.shape[1]), np.zeros((x.shape[1],) * 2)
    log_hazard = -np.inf
    for s in np.unique(time[event & (weight > 0)]):
        at_risk = (time >= s) & (weight > 0)
        here = (time == s) & event
        d = weight[here].sum()
        # exp(eta - shift) with the risk set's own largest eta: no overflow
        shift = eta[at_risk].max()
        r = weight[at_risk] * np.exp(eta[at_risk] - shift)
        xs = x[at_risk]
        s0, s1, s2 = r.sum(), r @ xs, (xs * r[:, None]).T @ xs
        loglik += weight[here] @ eta[here] - d * (np.log(s0) + shift)
        score += weight[here] @ x[here] - d * s1 / s0
        info += d * (s2 / s0 - np.outer(s1, s1) / s0**2)
        log_hazard = np.logaddexp(log_hazard, np.log(d / s0) - shift)
    return loglik, score, info, log_hazard


@pytest.mark.parametrize("scale", [1.0, 400.0])
def test_cox_sums_equal_the_definition(cohort, scale) -> None:
    """Also where x'b spans +-1000 and grows as time falls (the running maximum moves often)."""
    t, e, lp = cohort["time"], cohort["event"], cohort["lp"]
    data = sort_survival(t, e)
    x = np.ascontiguousarray(
        np.column_stack([lp, lp**2 - 1.0])[data.order] * np.array([scale, 1.0])
    )
    x[:, 0] += np.linspace(2.0, -2.0, t.shape[0]) * scale  # larger x'b at earlier times
    weight = np.bincount(_replicates(cohort)[0], minlength=t.shape[0]).astype(float)[data.order]
    beta = np.array([1.0, 0.3])
    loglik, score, info, hazard_sum, reference = cox_sums(
        np.flatnonzero(weight), data.group, data.event, weight, x, beta
    )
    expected = _by_definition(data.time, data.event, weight, x, beta)
    assert loglik == pytest.approx(expected[0], rel=1e-10)
    assert score == pytest.approx(expected[1], rel=1e-9, abs=1e-9 * scale)
    assert info == pytest.approx(expected[2], rel=1e-9, abs=1e-9 * scale**2)
    assert np.log(hazard_sum) - reference == pytest.approx(expected[3], rel=1e-10, abs=1e-10)


def test_float32_counts_give_the_float64_sums(cohort) -> None:
    """The concordance pass sums integer counts exactly in float32 (below 2**24)."""
    t, e, lp = cohort["time"], cohort["event"], cohort["lp"]
    data = sort_survival(t, e)
    inputs = _prepare(data, lp, 1e-8)
    counts = np.stack(
        [np.bincount(rows, minlength=t.shape[0])[data.order] for rows in _replicates(cohort, 4)],
        axis=1,
    ).astype(float)
    ipcw = np.random.default_rng(0).uniform(1.0, 3.0, size=(t.shape[0], 1, 4))
    wide = _concordance_from_sorted(inputs, counts, ipcw)
    narrow = _concordance_from_sorted(inputs, counts.astype(np.float32), ipcw)
    for a, b in zip(wide, narrow, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bootstrap_draws_in_time_order_equal_bootstrap_indices(cohort) -> None:
    """evaluate_survival's counts, drawn with the row codes in time order, are the
    resamples of bootstrap_indices: every replicate equals replicate_batch on them."""
    prepared, _ = _prepared(cohort)
    n = cohort["time"].shape[0]
    got = _bootstrap(prepared, clusters_of(cohort["patients"], n), 5, 3, None)
    resamples = ev.bootstrap_indices(n, patient_ids=cohort["patients"], n_boot=5, random_state=3)
    expected = [
        replicate_batch(prepared, np.bincount(rows, minlength=n).astype(float)[None, :])
        for rows in resamples
    ]
    for key, values in got.items():
        want = np.concatenate([replicate[key] for replicate in expected])
        np.testing.assert_allclose(values, want, rtol=1e-12, atol=1e-15, err_msg=key)
