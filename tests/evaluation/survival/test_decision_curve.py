"""Decision curve at a horizon: binary net benefit without censoring, KM/AJ per subset with it."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from sksurv.nonparametric import cumulative_incidence_competing_risks, kaplan_meier_estimator

from clinai.evaluation import decision_curve, survival_decision_curve
from clinai.evaluation._inputs import THRESHOLD_MSG
from clinai.exceptions import DataError
from tests.evaluation.survival._simulation import exponential_cohort

T = 5.0
THRESHOLDS = [0.05, 0.2, 0.35, 0.5, 0.7, 0.99]


def _risk_by(times: np.ndarray, values: np.ndarray, t: float) -> float:
    index = np.searchsorted(times, t, side="right") - 1
    return 0.0 if index < 0 else float(values[index])


def test_without_censoring_equals_binary_net_benefit() -> None:
    cohort = exponential_cohort(11, n=600, censor_max=math.inf)
    risk = cohort.risk(T, scale=1.2)
    curve = survival_decision_curve(cohort.time, cohort.event.astype(int), risk, t=T)
    binary = decision_curve((cohort.time <= T).astype(int), risk)
    assert len(curve.points) == len(binary) == 50
    for ours, reference in zip(curve.points, binary, strict=True):
        assert ours.threshold == reference.threshold
        assert ours.net_benefit == pytest.approx(reference.net_benefit, abs=1e-12)
        assert ours.net_benefit_treat_all == pytest.approx(reference.net_benefit_treat_all)
        assert ours.net_benefit_treat_none == 0.0


def test_with_censoring_uses_kaplan_meier_among_the_treated() -> None:
    cohort = exponential_cohort(12, n=400, censor_max=8.0)
    risk = cohort.risk(T, power=0.7)
    time, event = cohort.time, cohort.event
    curve = survival_decision_curve(time, event.astype(int), risk, t=T, thresholds=THRESHOLDS)
    times, survival = kaplan_meier_estimator(event, time)
    s_all = _risk_by(times, survival, T)
    assert curve.observed_risk == pytest.approx(1.0 - s_all, abs=1e-12)
    for point in curve.points:
        above = risk >= point.threshold
        odds = point.threshold / (1.0 - point.threshold)
        assert point.proportion_above == pytest.approx(above.mean())
        assert point.net_benefit_treat_all == pytest.approx((1.0 - s_all) - s_all * odds, abs=1e-12)
        if not above.any():
            assert point.net_benefit == 0.0 and math.isnan(point.observed_risk_above)
            continue
        sub_times, sub_survival = kaplan_meier_estimator(event[above], time[above])
        s_above = _risk_by(sub_times, sub_survival, T) if sub_times[0] <= T else 1.0
        expected = (1.0 - s_above) * above.mean() - s_above * above.mean() * odds
        assert point.net_benefit == pytest.approx(expected, abs=1e-12)
    assert curve.points[-1].proportion_above == 0.0
    assert (
        json.loads(json.dumps(curve.to_dict(), allow_nan=False))["points"][-1][
            "observed_risk_above"
        ]
        is None
    )


def test_competing_risks_use_aalen_johansen_among_the_treated() -> None:
    rng = np.random.default_rng(13)
    time = rng.integers(1, 20, 300).astype(float)
    codes = rng.choice([0, 1, 2], size=300, p=[0.3, 0.35, 0.35])
    risk = np.clip(0.2 + 0.3 * (codes == 1) + rng.normal(0, 0.15, 300), 0, 1)
    curve = survival_decision_curve(time, codes, risk, t=8.0, thresholds=[0.1, 0.3, 0.5], cause=1)
    assert curve.cause == 1
    for point in curve.points:
        above = risk >= point.threshold
        times, incidence = cumulative_incidence_competing_risks(codes[above], time[above])
        f_above = _risk_by(times, incidence[1], 8.0)
        odds = point.threshold / (1.0 - point.threshold)
        expected = f_above * above.mean() - (1.0 - f_above) * above.mean() * odds
        assert point.net_benefit == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("threshold", [0.0, 1.0])
def test_thresholds_outside_zero_one_raise_one_line(threshold: float) -> None:
    message = THRESHOLD_MSG.format(
        name="dca_thresholds", interval="(0, 1) (strictly between 0 and 1)", value=threshold
    )
    with pytest.raises(DataError, match=re.escape(message)):
        survival_decision_curve(
            [1.0, 2.0, 3.0], [1, 0, 1], [0.2, 0.4, 0.6], t=2.0, thresholds=[threshold]
        )
