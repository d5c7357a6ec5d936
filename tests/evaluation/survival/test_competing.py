"""Competing risks at a horizon: Wolbers' C, Blanche's AUC, Brier of the CIF, AJ O/E.

Each metric is checked against a pair-by-pair (or patient-by-patient) version of its
published definition, the Aalen-Johansen CIF against lifelines, and every metric
without competing events against its ordinary survival version.
"""

from __future__ import annotations

import numpy as np
import pytest

from clinai.evaluation.survival import (
    competing_brier_score,
    competing_risk_metrics,
    competing_time_auc,
    harrell_c,
    ipcw_brier_score,
    survival_oe_ratio,
    time_dependent_auc,
    uno_c,
    wolbers_c,
)
from clinai.evaluation.survival._competing import (
    COMPETING_METRICS,
    competing_metrics_weighted,
    prepare_competing,
)
from clinai.exceptions import DataError
from tests.evaluation.survival._reference import slow_km
from tests.evaluation.survival._simulation import fine_gray_cohort


def random_competing(seed: int, n: int = 90, *, ties: bool = True) -> tuple[np.ndarray, ...]:
    """Random (time, codes 0/1/2, risk): with ``ties``, integer times and coarse risks."""
    rng = np.random.default_rng(seed)
    if ties:
        time = rng.integers(1, 12, n).astype(float)
        risk = rng.integers(0, 6, n) / 6.0
    else:
        time = rng.exponential(5.0, n)
        risk = rng.uniform(size=n)
    codes = rng.choice([0, 1, 2], size=n, p=[0.35, 0.4, 0.25])
    codes[0], time[0] = 1, 1.0
    time[-1], codes[-1] = time.max() + 1.0, 0  # followed beyond everyone: G > 0 at every time
    return time, codes, risk


def slow_g(time: np.ndarray, codes: np.ndarray) -> dict[float, float]:
    """G at every follow-up time: Kaplan-Meier of the censorings, events leaving first at a tie."""
    return {float(s): slow_km(time, codes > 0, s, censoring=True) for s in np.unique(time)}


def slow_cif(time: np.ndarray, codes: np.ndarray, t: float, cause: int = 1) -> float:
    """Aalen-Johansen by its sum: S(s-) d_k(s) / Y(s) over s <= t."""
    value, survival = 0.0, 1.0
    for s in np.unique(time[time <= t]):
        at_risk = (time >= s).sum()
        value += survival * ((time == s) & (codes == cause)).sum() / at_risk
        survival *= 1.0 - ((time == s) & (codes > 0)).sum() / at_risk
    return value


def slow_auc(time: np.ndarray, codes: np.ndarray, risk: np.ndarray, t: float) -> float:
    """Blanche's definition 2, pair by pair: competing events by t are controls."""
    g, g_t = slow_g(time, codes), slow_km(time, codes > 0, t, censoring=True)
    numerator = denominator = 0.0
    for i in np.flatnonzero((codes == 1) & (time <= t)):
        for j in np.flatnonzero((time > t) | ((codes == 2) & (time <= t))):
            weight = 1.0 / (g[time[i]] * (g_t if time[j] > t else g[time[j]]))
            numerator += weight * ((risk[i] > risk[j]) + 0.5 * (risk[i] == risk[j]))
            denominator += weight
    return numerator / denominator


def slow_brier(time: np.ndarray, codes: np.ndarray, risk: np.ndarray, t: float) -> float:
    """Brier score of the CIF, patient by patient (Schoop et al. 2011)."""
    g, g_t = slow_g(time, codes), slow_km(time, codes > 0, t, censoring=True)
    total = 0.0
    for ti, ci, ri in zip(time, codes, risk, strict=True):
        if ti <= t and ci > 0:
            total += ((ci == 1) - ri) ** 2 / g[ti]
        elif ti > t:
            total += ri**2 / g_t
    return total / time.shape[0]


def slow_wolbers(
    time: np.ndarray, codes: np.ndarray, score: np.ndarray, t: float, *, ipcw: bool
) -> float:
    """Wolbers' C, pair by pair: kind A (j followed longer), kind B (j competing earlier)."""
    g = slow_g(time, codes) if ipcw else dict.fromkeys(time.tolist(), 1.0)
    numerator = denominator = 0.0
    for i in np.flatnonzero((codes == 1) & (time <= t)):
        for j in range(time.shape[0]):
            if time[j] > time[i] or (time[j] == time[i] and codes[j] != 1):
                weight = 1.0 / g[time[i]] ** 2
            elif codes[j] == 2 and time[j] < time[i]:
                weight = 1.0 / (g[time[i]] * g[time[j]])
            else:
                continue
            numerator += weight * ((score[i] > score[j]) + 0.5 * (score[i] == score[j]))
            denominator += weight
    return numerator / denominator


@pytest.mark.parametrize(("seed", "ties"), [(1, True), (2, True), (3, False)])
def test_metrics_equal_their_definitions(seed: int, ties: bool) -> None:
    time, codes, risk = random_competing(seed, ties=ties)
    t = float(np.quantile(time, 0.6))
    m = competing_risk_metrics(time, codes, risk, t)
    assert m.time_auc == pytest.approx(slow_auc(time, codes, risk, t), rel=1e-10)
    assert m.brier == pytest.approx(slow_brier(time, codes, risk, t), rel=1e-10)
    observed = slow_cif(time, codes, t)
    assert m.observed_risk == pytest.approx(observed, rel=1e-12)
    assert m.null_brier == pytest.approx(slow_brier(time, codes, np.full_like(risk, observed), t))
    assert m.scaled_brier == pytest.approx(1 - m.brier / m.null_brier)
    assert m.oe_ratio == pytest.approx(observed / risk.mean())
    for ipcw in (True, False):
        expected = slow_wolbers(time, codes, risk, t, ipcw=ipcw)
        assert wolbers_c(time, codes, risk, t, ipcw=ipcw) == pytest.approx(expected, rel=1e-10)
    assert m.wolbers_c == wolbers_c(time, codes, risk, t)


def test_cumulative_incidence_equals_lifelines() -> None:
    lifelines = pytest.importorskip("lifelines")
    cohort = fine_gray_cohort(4, n=400)
    t = 1.5
    m = competing_risk_metrics(cohort.time, cohort.codes, cohort.cif(t), t)
    # lifelines jitters tied times; these times are continuous (no ties)
    fitter = lifelines.AalenJohansenFitter(calculate_variance=False)
    fitter.fit(cohort.time, cohort.codes, event_of_interest=1)
    expected = float(fitter.cumulative_density_.loc[:t].iloc[-1, 0])
    assert m.observed_risk == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("ties", [True, False])
def test_without_competing_events_every_metric_is_the_survival_one(ties: bool) -> None:
    time, codes, risk = random_competing(5, n=150, ties=ties)
    event = (codes > 0).astype(int)  # every event of cause 1: none competes
    t = float(np.quantile(time, 0.5)) + (0.5 if ties else 0.0)  # no event exactly at t
    m = competing_risk_metrics(time, event, risk, t)
    brier = ipcw_brier_score(time, event, risk, t)
    assert m.time_auc == pytest.approx(time_dependent_auc(time, event, risk, t).auc[0])
    assert m.brier == pytest.approx(brier.brier) and m.null_brier == pytest.approx(brier.null_brier)
    assert m.scaled_brier == pytest.approx(brier.ipa)
    assert m.oe_ratio == pytest.approx(survival_oe_ratio(time, event, risk, t=t).oe_ratio)
    assert m.wolbers_c == pytest.approx(uno_c(time, event, risk, tau=t).estimate)
    last = float(time.max()) - 0.5  # past the last event, before the last follow-up
    assert wolbers_c(time, event, risk, last, ipcw=False) == pytest.approx(
        harrell_c(time, event, risk).estimate
    )


def test_weights_equal_the_repeated_rows() -> None:
    # a bootstrap replicate given as row counts equals the metrics on the repeated rows
    time, codes, risk = random_competing(6, n=60)
    counts = np.random.default_rng(0).integers(0, 3, time.shape[0])
    counts[[0, -1]] = 1
    t = float(np.quantile(time, 0.6))
    inputs = prepare_competing(time, codes, risk, t)
    weighted = competing_metrics_weighted(inputs, counts.astype(float)[inputs.data.order])
    rows = np.repeat(np.arange(time.shape[0]), counts)
    repeated = competing_risk_metrics(time[rows], codes[rows], risk[rows], t)
    for name, value in zip(COMPETING_METRICS, weighted, strict=True):
        assert value == pytest.approx(getattr(repeated, name), rel=1e-10), name


def test_a_better_model_scores_better() -> None:
    cohort = fine_gray_cohort(7, n=1500)
    t = 1.0
    truth = competing_risk_metrics(cohort.time, cohort.codes, cohort.cif(t), t)
    flat = competing_risk_metrics(cohort.time, cohort.codes, cohort.cif(t, power=0.2), t)
    noisy_x = cohort.x + np.random.default_rng(0).normal(size=cohort.x.shape[0])
    noisy = 1.0 - (1.0 - cohort.p * (1.0 - np.exp(-t))) ** np.exp(noisy_x)
    worse = competing_risk_metrics(cohort.time, cohort.codes, noisy, t)
    assert truth.wolbers_c > worse.wolbers_c and truth.time_auc > worse.time_auc
    assert truth.scaled_brier > flat.scaled_brier > -0.05  # the same ranking, too flat
    assert truth.oe_ratio == pytest.approx(1.0, abs=0.08)
    assert truth.cases > 0 and truth.competing > 0


def test_public_shortcuts_agree() -> None:
    time, codes, risk = random_competing(8)
    t = float(np.median(time))
    m = competing_risk_metrics(time, codes, risk, t)
    assert competing_time_auc(time, codes, risk, t) == m.time_auc
    assert competing_brier_score(time, codes, risk, t) == (m.brier, m.null_brier, m.scaled_brier)
    assert m.to_dict()["cases"] == m.cases


@pytest.mark.parametrize(
    ("codes", "t", "needle"),
    [
        ([0, 2, 0, 1], 2.5, "has no events of cause 1 up to t = 2.5"),
        ([0, 2, 2, 0], 2.5, "cause must be a positive event code ([2])"),
        ([0, 1, 2, 1], 9.0, "t must be a finite time within follow-up"),
        ([0, 1, 2, -1], 2.5, "event_code must be whole numbers >= 0"),
    ],
)
def test_bad_input_is_one_line(codes: list[int], t: float, needle: str) -> None:
    with pytest.raises(DataError) as info:
        competing_risk_metrics([1, 2, 3, 4], codes, [0.1, 0.2, 0.3, 0.4], t)
    assert needle in str(info.value) and "\n" not in str(info.value)
