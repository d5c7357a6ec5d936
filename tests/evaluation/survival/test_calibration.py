"""Calibration at a horizon: O/E, Cox calibration slope, flexible curve (ICI/E50/E90/Emax).

References: statsmodels ``PHReg`` (Breslow ties) for every Cox fit, patsy's natural
cubic spline ``cr`` for the spline space, statsmodels ``SurvfuncRight`` for
Greenwood's SE, scikit-survival's Dinse-Larson variance for the Aalen-Johansen SE,
binary O/E for the uncensored case, and simulated cohorts with a known truth.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from patsy import dmatrix
from scipy.optimize import minimize
from sksurv.nonparametric import (
    _var_dinse_approx,
    cumulative_incidence_competing_risks,
    kaplan_meier_estimator,
)
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight

from clinai.evaluation import (
    aalen_johansen,
    flexible_survival_calibration,
    oe_ratio,
    survival_calibration_groups,
    survival_calibration_slope,
    survival_oe_ratio,
)
from clinai.evaluation.survival import _inputs as msg
from clinai.evaluation.survival._calibration import (
    N_GROUPS_MSG,
    SCORE_CHOICE_MSG,
    cloglog,
    observed_risk,
)
from clinai.evaluation.survival._cox import COX_NOT_CONVERGED_MSG, fit_cox
from clinai.evaluation.survival._flexible_calibration import rcs_basis, rcs_knots
from clinai.exceptions import DataError
from tests.evaluation.survival._reference import random_survival, shipped, slow_km
from tests.evaluation.survival._simulation import exponential_cohort, fine_gray_cohort

T = 5.0


@pytest.fixture(scope="module")
def cohort():
    return exponential_cohort(7, n=3000)


def _phreg(time, event, x):
    x = np.asarray(x, dtype=float)
    return PHReg(time, x.reshape(len(time), -1), status=event.astype(float), ties="breslow").fit()


@pytest.mark.parametrize("seed", [0, 1])
def test_cox_fit_equals_phreg_with_ties(seed: int) -> None:
    time, event, score = random_survival(seed, n=300)
    x = np.column_stack([score + 3.0, np.random.default_rng(seed).normal(1.0, 2.0, 300)])
    ours, reference = fit_cox(time, event, x, what="test"), _phreg(time, event, x)
    np.testing.assert_allclose(ours.coef, reference.params, atol=1e-8)
    np.testing.assert_allclose(ours.se, reference.bse, rtol=1e-7)
    assert ours.log_likelihood == pytest.approx(reference.llf, abs=1e-8)
    # PHReg lists the left limit H0(t-) at each event time: its values are ours shifted by one
    times, cumhaz, _ = reference.baseline_cumulative_hazard[0]
    np.testing.assert_allclose(times, ours.event_times)
    np.testing.assert_allclose(cumhaz[1:], ours.cumulative_hazard[:-1], rtol=1e-9)


def test_cox_frequency_weights_equal_repeated_rows() -> None:
    time, event, score = random_survival(3, n=200)
    counts = np.random.default_rng(3).integers(0, 4, 200)
    x = np.column_stack([score, score**2])
    weighted = fit_cox(time, event, x, what="test", weights=counts)
    rows = np.repeat(np.arange(200), counts)
    repeated = fit_cox(time[rows], event[rows], x[rows], what="test")
    np.testing.assert_allclose(weighted.coef, repeated.coef, atol=1e-10)
    np.testing.assert_allclose(weighted.cov, repeated.cov, rtol=1e-8)
    np.testing.assert_allclose(weighted.cumulative_hazard, repeated.cumulative_hazard, rtol=1e-9)


def test_slope_equals_phreg_on_lp_and_on_cloglog_risk_censored_at_horizon() -> None:
    time, event, score = shipped("whas500")
    by_lp = survival_calibration_slope(time, event.astype(int), lp=score)
    reference = _phreg(time, event, score)
    assert by_lp.slope == pytest.approx(reference.params[0], abs=1e-8)
    assert by_lp.se == pytest.approx(reference.bse[0], rel=1e-7)
    assert by_lp.ci_low == pytest.approx(by_lp.slope - 1.959964 * by_lp.se, abs=1e-6)
    t = 365.0
    risk = 1.0 - np.exp(-0.2 * np.exp(score - score.mean()))
    by_risk = survival_calibration_slope(time, event.astype(int), risk=risk, t=t)
    reference = _phreg(np.minimum(time, t), event & (time <= t), cloglog(risk))
    assert by_risk.slope == pytest.approx(reference.params[0], abs=1e-8)
    assert (by_risk.covariate, by_risk.horizon) == ("cloglog_risk", t)
    assert by_risk.events == int((event & (time <= t)).sum())


def test_perfect_model_is_calibrated_and_miscalibration_is_detected(cohort) -> None:
    time, event = cohort.time, cohort.event.astype(int)
    good = cohort.risk(T)
    oe = survival_oe_ratio(time, event, good, t=T)
    slope = survival_calibration_slope(time, event, risk=good, t=T)
    flexible = flexible_survival_calibration(time, event, good, t=T)
    assert oe.ci_low < 1.0 < oe.ci_high
    assert slope.ci_low < 1.0 < slope.ci_high
    assert flexible.ici < 0.015 and flexible.emax < 0.05
    # hazard 1.5 times too high: risks too high (O/E < 1); lp doubled: too extreme (slope 1/2)
    high = survival_oe_ratio(time, event, cohort.risk(T, scale=1.5), t=T)
    extreme = survival_calibration_slope(time, event, risk=cohort.risk(T, power=2.0), t=T)
    assert high.ci_high < 0.9
    assert extreme.slope == pytest.approx(0.5, abs=0.05) and extreme.ci_high < 0.6
    off = flexible_survival_calibration(time, event, cohort.risk(T, scale=1.5), t=T)
    assert off.ici > 0.05 and off.ici > 4 * flexible.ici


def test_oe_without_censoring_equals_binary_oe() -> None:
    cohort = exponential_cohort(3, n=500, censor_max=math.inf)
    risk = cohort.risk(T, scale=1.2)
    outcome = (cohort.time <= T).astype(int)
    result = survival_oe_ratio(cohort.time, cohort.event.astype(int), risk, t=T)
    assert result.oe_ratio == pytest.approx(oe_ratio(outcome, risk), rel=1e-12)
    # Greenwood without censoring is the binomial variance p(1-p)/n
    p = outcome.mean()
    assert result.observed_se == pytest.approx(math.sqrt(p * (1 - p) / 500), rel=1e-9)


def test_oe_interval_uses_greenwood_se_on_the_log_scale() -> None:
    time, event, score = shipped("gbsg2")
    t = 1000.0
    risk = np.clip(0.3 + 0.1 * score, 0.01, 0.99)
    result = survival_oe_ratio(time, event.astype(int), risk, t=t, ci_level=0.9)
    reference = SurvfuncRight(time, event.astype(float))
    index = np.searchsorted(reference.surv_times, t, side="right") - 1
    assert result.observed == pytest.approx(1 - reference.surv_prob[index], abs=1e-12)
    assert result.observed_se == pytest.approx(reference.surv_prob_se[index], rel=1e-9)
    half = 1.644854 * result.observed_se / result.observed
    assert result.ci_low == pytest.approx(result.oe_ratio * math.exp(-half), rel=1e-6)
    assert result.ci_high == pytest.approx(result.oe_ratio * math.exp(half), rel=1e-6)
    json.dumps(result.to_dict(), allow_nan=False)


def test_competing_risks_oe_uses_aalen_johansen_and_dinse_larson_variance() -> None:
    rng = np.random.default_rng(5)
    time = rng.integers(1, 30, 400).astype(float)
    codes = rng.choice([0, 1, 2], size=400, p=[0.3, 0.4, 0.3])
    risk = rng.uniform(0.1, 0.6, 400)
    result = survival_oe_ratio(time, codes, risk, t=12.0, cause=2)
    assert result.observed == pytest.approx(aalen_johansen(time, codes, 2, 12.0), abs=1e-12)
    assert result.oe_ratio == pytest.approx(result.observed / risk.mean())
    # scikit-survival's Dinse & Larson (1986) eq. 6 variance at t
    times, cum_inc = cumulative_incidence_competing_risks(codes, time)
    # column 0: events of any cause; then one column per cause
    hits = [codes > 0, codes == 1, codes == 2]
    counts = np.array([[((time == s) & hit).sum() for hit in hits] for s in times])
    at_risk = np.array([(time >= s).sum() for s in times])
    variance = _var_dinse_approx(counts, np.r_[1.0, 1 - cum_inc[0][:-1]], at_risk, cum_inc)
    index = np.searchsorted(times, 12.0, side="right") - 1
    assert result.observed_se == pytest.approx(math.sqrt(variance[1, index]), rel=1e-9)
    # with one cause the Aalen-Johansen is 1 - KM and the variance is Greenwood's
    event = (codes > 0).astype(int)
    single, variance_single = observed_risk(time, event.astype(bool), 12.0)
    as_cause = observed_risk(time, event, 12.0, cause=1)
    assert as_cause == pytest.approx((single, variance_single), rel=1e-9)


def test_flexible_curve_equals_phreg_and_the_natural_spline_space() -> None:
    cohort = exponential_cohort(8, n=1200)
    risk = cohort.risk(T, scale=1.3, power=0.8)
    time, event = cohort.time, cohort.event
    result = flexible_survival_calibration(time, event.astype(int), risk, t=T, n_knots=4)
    x = cloglog(risk)
    knots = np.percentile(x, [5, 35, 65, 95])
    np.testing.assert_allclose(result.knots, knots)
    censored_time, censored_event = np.minimum(time, T), event & (time <= T)
    reference = _phreg(censored_time, censored_event, rcs_basis(x, knots))
    np.testing.assert_allclose(result.coef, reference.params, atol=1e-7)
    # patsy's natural cubic spline with the same knots spans the same functions: same fit
    natural = dmatrix(
        "cr(x, knots=inner, lower_bound=lo, upper_bound=hi) - 1",
        {"x": x, "inner": knots[1:-1], "lo": knots[0], "hi": knots[-1]},
    )
    other = _phreg(censored_time, censored_event, np.asarray(natural)[:, 1:])
    assert other.llf == pytest.approx(reference.llf, abs=1e-6)
    # by definition: observed risk 1 - S0(t) ** exp(f(x)) with PHReg's baseline at t
    relative = np.exp(rcs_basis(x, knots) @ reference.params)
    h0 = sum(
        (censored_event & (censored_time == s)).sum() / relative[censored_time >= s].sum()
        for s in np.unique(censored_time[censored_event])
    )
    observed = 1.0 - np.exp(-h0 * relative)
    error = np.abs(observed - risk)
    assert result.ici == pytest.approx(error.mean(), rel=1e-6)
    assert result.e50 == pytest.approx(np.median(error), rel=1e-6)
    assert result.e90 == pytest.approx(np.percentile(error, 90), rel=1e-6)
    assert result.emax == pytest.approx(error.max(), rel=1e-6)
    assert result.predicted.shape == result.observed.shape == (50,)
    assert np.all(np.diff(result.observed) > 0)
    json.dumps(result.to_dict(), allow_nan=False)


def test_knots_merge_ties_and_fall_back_to_a_line() -> None:
    assert rcs_knots(np.array([1.0] * 80 + [2.0] * 20), 3).tolist() == [1.0, 2.0]
    assert rcs_basis(np.arange(3.0), np.array([1.0, 2.0])).shape == (3, 1)
    cohort = exponential_cohort(1, n=400)
    risk = np.where(cohort.x > 0, 0.6, 0.3)
    result = flexible_survival_calibration(cohort.time, cohort.event.astype(int), risk, t=T)
    assert len(result.coef) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"t": 99.0},
            re.escape(msg.HORIZON_MSG.format(name="t", low=1.0, high=4.0, value=99.0)),
        ),
        (
            {"event": [0, 0, 1, 1]},
            re.escape(msg.NO_EVENTS_MSG.format(where=" of cause 1 up to t = 2")),
        ),
        (
            {"risk": [0.1, 1.2, 0.3, -0.1]},
            re.escape(msg.RISK_RANGE_MSG.format(name="risk", low=-0.1, high=1.2)),
        ),
        ({"time": [1.0, -2.0, 3.0, 4.0]}, "negative"),
    ],
)
def test_bad_inputs_raise_one_line(change: dict, message: str) -> None:
    args = {"time": [1.0, 2.0, 3.0, 4.0], "event": [1, 0, 1, 0], "risk": [0.1, 0.2, 0.3, 0.4]}
    t = change.pop("t", 2.0)
    args.update(change)
    for metric in (survival_oe_ratio, flexible_survival_calibration):
        with pytest.raises(DataError, match=message) as info:
            metric(args["time"], args["event"], args["risk"], t=t)
        assert "\n" not in str(info.value)


def test_slope_needs_exactly_one_score() -> None:
    time, event = [1.0, 2.0, 3.0], [1, 0, 1]
    with pytest.raises(DataError, match=re.escape(SCORE_CHOICE_MSG.format(given="neither"))):
        survival_calibration_slope(time, event)
    with pytest.raises(DataError, match=re.escape(SCORE_CHOICE_MSG.format(given="risk without t"))):
        survival_calibration_slope(time, event, risk=[0.1, 0.2, 0.3])


def test_constant_risk_has_no_slope() -> None:
    message = COX_NOT_CONVERGED_MSG.format(n_iter=1, what="calibration slope")
    with pytest.raises(DataError, match=re.escape(message)):
        survival_calibration_slope([1.0, 2.0, 3.0, 4.0], [1, 0, 1, 0], risk=[0.3] * 4, t=3.0)


def test_risk_groups_compare_kaplan_meier_with_mean_risk_per_tenth(cohort) -> None:
    risk = cohort.risk(T)
    time, event = cohort.time, cohort.event
    groups = survival_calibration_groups(time, event.astype(int), risk, t=T, ci_level=0.9)
    assert len(groups) == 10 and sum(g.n for g in groups) == 3000
    assert sum(g.events for g in groups) == int((event & (time <= T)).sum())
    cut = np.array_split(np.argsort(risk, kind="stable"), 10)
    for group, rows in zip(groups, cut, strict=True):
        times, survival = kaplan_meier_estimator(event[rows], time[rows])
        s_t = survival[np.searchsorted(times, T, side="right") - 1]
        assert group.observed == pytest.approx(1 - s_t, abs=1e-12)
        assert group.predicted == pytest.approx(risk[rows].mean())
        # log-log interval: F ** exp(+-z SE / (F |log F|)) with Greenwood's SE
        spread = 1.644854 * observed_risk(time[rows], event[rows], T)[1] ** 0.5
        spread /= group.observed * -np.log(group.observed)
        assert group.ci_low == pytest.approx(group.observed ** np.exp(spread), rel=1e-6)
        assert group.ci_low < group.observed < group.ci_high < 1
        # a calibrated model: the truth is inside nearly every interval
        assert abs(group.observed - group.predicted) < 4 * (group.ci_high - group.ci_low)
    assert [g.risk_low for g in groups] == sorted(g.risk_low for g in groups)
    json.dumps([g.to_dict() for g in groups], allow_nan=False)
    with pytest.raises(DataError, match=re.escape(N_GROUPS_MSG.format(n=3000, value=1))):
        survival_calibration_groups(time, event.astype(int), risk, t=T, n_groups=1)


def _fine_gray_risk_sets(time: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Fine & Gray's risk-set weights, one row per cause-1 event: 1 while still followed,
    G(T_i-)/G(T_j-) for a competing event j before T_i (G the censoring Kaplan-Meier)."""
    unique = np.unique(time)

    def g_before(s: float) -> float:
        earlier = unique[unique < s]
        return 1.0 if earlier.size == 0 else slow_km(time, codes > 0, earlier[-1], censoring=True)

    g_rows = np.array([g_before(s) for s in time])
    weights = []
    for i in np.flatnonzero(codes == 1):
        weight = np.where(time >= time[i], 1.0, 0.0)
        earlier_competing = (codes == 2) & (time < time[i])
        weight[earlier_competing] = g_before(time[i]) / g_rows[earlier_competing]
        weights.append(weight)
    return np.array(weights)


def test_fine_gray_fit_maximises_its_weighted_partial_likelihood() -> None:
    rng = np.random.default_rng(0)
    time = rng.integers(1, 15, 150).astype(float)
    codes = rng.choice([0, 1, 2], size=150, p=[0.3, 0.4, 0.3])
    x = rng.normal(size=(150, 2))
    ours = fit_cox(time, codes == 1, x, what="test", competing=codes == 2)
    risk_sets, events = _fine_gray_risk_sets(time, codes), codes == 1

    def log_likelihood(beta: np.ndarray) -> float:  # Breslow: each event its own term
        eta = x @ beta
        return float(eta[events].sum() - np.log(risk_sets @ np.exp(eta)).sum())

    slow = minimize(lambda b: -log_likelihood(b), np.zeros(2), method="BFGS")
    np.testing.assert_allclose(ours.coef, slow.x, atol=1e-5)
    assert ours.log_likelihood == pytest.approx(-slow.fun, abs=1e-8)
    # without competing events it is Cox's model
    plain, none = fit_cox(time, codes > 0, x, what="t"), np.zeros(150, dtype=bool)
    np.testing.assert_allclose(
        fit_cox(time, codes > 0, x, what="t", competing=none).coef, plain.coef, atol=1e-12
    )


def test_competing_risks_calibration_uses_fine_gray() -> None:
    cohort = fine_gray_cohort(0)
    t, time, codes = 1.5, cohort.time, cohort.codes
    slope = survival_calibration_slope(time, codes, risk=cohort.cif(t), t=t, cause=1)
    assert slope.ci_low < 1.0 < slope.ci_high and slope.cause == 1
    extreme = survival_calibration_slope(time, codes, risk=cohort.cif(t, power=2.0), t=t, cause=1)
    assert extreme.slope == pytest.approx(0.5, abs=0.06)
    good = flexible_survival_calibration(time, codes, cohort.cif(t), t=t, cause=1)
    assert good.ici < 0.02 and good.to_dict()["cause"] == 1
    # treating the competing events as censored overestimates the observed incidence
    naive = flexible_survival_calibration(time, (codes == 1).astype(int), cohort.cif(t), t=t)
    assert naive.ici > 0.05


def test_flexible_calibration_when_the_baseline_survival_underflows() -> None:
    # Small risks (0.005 to 0.1) and events steeper in them than predicted: the fitted f(x)
    # is near -11 across the data, so the baseline at f = 0 (risk 0.632) has H0(120) about
    # 3,355 and exp(-H0) underflows to 0. clinai validate stopped with "the predicted risks
    # separate the 39 event(s)", which they do not. SYNTHETIC cohort.
    rng = np.random.default_rng(0)
    risk = rng.uniform(0.005, 0.1, 300)
    rate = (risk / 0.05) ** 3 * 0.0007
    t_event, censor = rng.exponential(1 / rate), rng.uniform(1, 340, 300)
    time, event = np.minimum(t_event, censor), (t_event <= censor).astype(int)
    result = flexible_survival_calibration(time, event, risk, t=120)
    assert result.baseline_survival == 0.0
    # reference: statsmodels' Cox coefficients on the same spline, the Breslow H0(120) by
    # its definition, and the observed risks in log space
    x = np.log(-np.log1p(-risk))
    basis = rcs_basis(x, rcs_knots(x, 3))
    at, hit = np.minimum(time, 120.0), event * (time <= 120)
    coef = PHReg(at, basis, status=hit, ties="breslow").fit().params
    assert np.allclose(result.coef, coef, atol=1e-6)
    lp = basis @ coef
    h0 = sum(
        ((at == s) & (hit == 1)).sum() / np.exp(lp[at >= s]).sum() for s in np.unique(at[hit == 1])
    )
    observed = -np.expm1(-np.exp(lp + np.log(h0)))
    assert result.ici == pytest.approx(np.mean(np.abs(observed - risk)), abs=1e-9)
    assert result.ici == pytest.approx(0.1023, abs=1e-4)
