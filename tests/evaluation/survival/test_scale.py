"""At scale (slow): the O(n log n) metrics equal scikit-survival and lifelines on 200,000 rows."""

from __future__ import annotations

import numpy as np
import pytest
from sksurv import metrics as sk
from sksurv.nonparametric import kaplan_meier_estimator
from sksurv.util import Surv

from clinai.evaluation import (
    harrell_c,
    integrated_brier_score,
    ipcw_brier_score,
    kaplan_meier,
    time_dependent_auc,
    uno_c,
)
from tests.evaluation.survival._simulation import exponential_latent_times

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cohort() -> tuple[np.ndarray, ...]:
    """200,000 synthetic patients, day-rounded times (ties), a PH-style risk by each horizon."""
    n = 200_000
    lp, event_time, censor_time = exponential_latent_times(
        np.random.default_rng(16), n, censor_mean=20.0, censor_cap=20.0
    )
    time = np.maximum(np.round(np.minimum(event_time, censor_time), 2), 0.01)
    event = (event_time <= censor_time) & (time < 20.0)
    horizons = np.array([2.0, 5.0, 10.0])
    risk = 1.0 - np.exp(-0.1 * np.multiply.outer(np.exp(0.9 * lp), horizons))
    return time, event, lp, horizons, risk


def test_harrell_c_equals_lifelines(cohort: tuple[np.ndarray, ...]) -> None:
    concordance_index = pytest.importorskip("lifelines.utils").concordance_index  # bench extra

    time, event, lp, _, _ = cohort
    expected = concordance_index(time, -lp, event)
    # lifelines ties exactly equal scores only; scikit-survival (our default) within 1e-8
    assert harrell_c(time, event, lp, tied_tol=0).estimate == pytest.approx(expected, abs=1e-12)


def test_uno_c_equals_scikit_survival_on_20000_rows(cohort: tuple[np.ndarray, ...]) -> None:
    time, event, lp, _, _ = (a[:20_000] if a.ndim else a for a in cohort)
    outcome = Surv.from_arrays(event, time)
    expected = sk.concordance_index_ipcw(outcome, outcome, lp, tau=10.0)[0]
    assert uno_c(time, event, lp, tau=10.0).estimate == pytest.approx(expected, abs=1e-10)


def test_auc_brier_and_km_equal_scikit_survival(cohort: tuple[np.ndarray, ...]) -> None:
    time, event, _, horizons, risk = cohort
    outcome = Surv.from_arrays(event, time)
    auc, mean_auc = sk.cumulative_dynamic_auc(outcome, outcome, risk, horizons)
    got = time_dependent_auc(time, event, risk, horizons)
    assert np.abs(np.asarray(got.auc) - auc).max() <= 1e-10
    assert got.mean_auc == pytest.approx(mean_auc, abs=1e-10)
    _, brier = sk.brier_score(outcome, outcome, 1.0 - risk, horizons)
    ours = [ipcw_brier_score(time, event, risk[:, k], t).brier for k, t in enumerate(horizons)]
    assert np.abs(np.asarray(ours) - brier).max() <= 1e-10
    expected = sk.integrated_brier_score(outcome, outcome, 1.0 - risk, horizons)
    got_ibs = integrated_brier_score(time, event, risk, horizons).integrated
    assert got_ibs == pytest.approx(expected, abs=1e-10)
    times, survival = kaplan_meier_estimator(event, time)
    assert np.abs(kaplan_meier(time, event).at(times) - survival).max() <= 1e-10
