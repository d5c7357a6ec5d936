"""Probabilistic sensitivity analysis: degenerate draws, distribution moments, CEAC."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np
import pytest

from clinai.evaluation import (
    EconomicParameters,
    SensitivityAnalysis,
    net_monetary_benefit,
    parameter_distribution,
    probabilistic_sensitivity,
)
from clinai.exceptions import DataError

# cost_alert, cost_outcome, relative_risk_reduction, qalys_lost_per_event, willingness_to_pay
POINT = EconomicParameters(250, 40_000, 0.2, 0.3, 200_000)
UNCERTAIN = {
    "cost_alert": {"distribution": "gamma", "shape": 25, "scale": 100},
    "cost_outcome": {"distribution": "lognormal", "meanlog": 9.0, "sdlog": 0.3},
    "relative_risk_reduction": {"distribution": "beta", "alpha": 20, "beta": 80},
    "qalys_lost_per_event": {"distribution": "normal", "mean": 0.3, "sd": 0.05},
    "willingness_to_pay": 200_000,
}
THRESHOLDS = [0.05, 0.1, 0.2, 0.3]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    p = rng.beta(1.5, 8, size=600)
    y = rng.binomial(1, p)
    news2 = np.clip(np.round(p * 25 + rng.normal(0, 2, size=600)), 0, 20)
    return y, p, news2


@pytest.mark.parametrize("by_patient", [False, True])
def test_point_distributions_give_the_deterministic_nmb(data, by_patient: bool) -> None:
    y, p, news2 = data
    ids = np.arange(len(y)) // 3 if by_patient else None  # three rows a patient
    comparators = {"NEWS2": (news2, [5, 7])}
    psa = probabilistic_sensitivity(
        y, p, THRESHOLDS, POINT, n_draws=50, comparators=comparators, patient_ids=ids
    )
    nmb = net_monetary_benefit(y, p, THRESHOLDS, POINT, comparators=comparators, patient_ids=ids)
    assert (
        (psa.unit, psa.n) == (nmb.unit, nmb.n) == (("patient", 200) if by_patient else ("row", 600))
    )
    assert [s.label for s in psa.strategies] == [s.label for s in nmb.strategies]
    for drawn, fixed in zip(psa.strategies, nmb.strategies, strict=True):
        assert drawn.nmb.estimate == pytest.approx(fixed.nmb_per_1000, rel=1e-12)
        assert drawn.nmb.ci_low == pytest.approx(fixed.nmb_per_1000, rel=1e-12)
        assert drawn.nmb.ci_high == pytest.approx(fixed.nmb_per_1000, rel=1e-12)
        assert drawn.incremental_nmb.estimate == pytest.approx(fixed.incremental_nmb_per_1000)
    assert psa.best == nmb.best
    assert psa.best_model_threshold == nmb.best_model_threshold
    assert psa.strategy(nmb.best).probability_best == 1.0


@pytest.mark.parametrize(
    ("spec", "mean", "variance"),
    [
        # beta(a, b): mean a / (a + b), variance ab / ((a + b)^2 (a + b + 1))
        ({"distribution": "beta", "alpha": 2, "beta": 6}, 2 / 8, 12 / (64 * 9)),
        # gamma(shape k, scale s): mean k s, variance k s^2
        ({"distribution": "gamma", "shape": 4, "scale": 250}, 1000, 4 * 250**2),
        # lognormal(m, s): mean exp(m + s^2 / 2), variance (exp(s^2) - 1) exp(2m + s^2)
        (
            {"distribution": "lognormal", "meanlog": 1.0, "sdlog": 0.5},
            np.exp(1.125),
            (np.exp(0.25) - 1) * np.exp(2.25),
        ),
        ({"distribution": "normal", "mean": 3.0, "sd": 2.0}, 3.0, 4.0),
        (7.5, 7.5, 0.0),
        ({"value": 7.5}, 7.5, 0.0),
    ],
)
def test_distribution_moments(spec, mean: float, variance: float) -> None:
    dist = parameter_distribution(spec)
    assert dist.expected_value == pytest.approx(mean)
    assert dist.variance == pytest.approx(variance)
    draws = dist.draw(200_000, np.random.default_rng(0))
    assert draws.mean() == pytest.approx(mean, rel=0.01)
    assert draws.var() == pytest.approx(variance, rel=0.03, abs=1e-12)


def test_probabilities_and_ceac(data) -> None:
    y, p, news2 = data
    psa = probabilistic_sensitivity(
        y, p, THRESHOLDS, UNCERTAIN, n_draws=2000, random_state=3, comparators={"NEWS2": news2}
    )
    best = np.array([s.probability_best for s in psa.strategies])
    assert best.sum() == pytest.approx(1.0)
    ceac = np.array(psa.acceptability.probability_best)
    assert ceac.shape == (len(psa.strategies), 41)
    np.testing.assert_allclose(ceac.sum(axis=0), 1.0)
    # the WTP grid of the default CEAC: 0 to twice the expected WTP
    assert psa.acceptability.willingness_to_pay[0] == 0.0
    assert psa.acceptability.willingness_to_pay[-1] == pytest.approx(400_000)
    # a higher WTP makes every event worth more: each strategy's NMB gain over treating none
    # grows, so treat-none can only lose draws and treat-all can only win them
    labels = psa.acceptability.labels
    none, everyone = ceac[labels.index("treat_none")], ceac[labels.index("treat_all")]
    assert np.all(np.diff(none) <= 0) and none[0] > none[-1]
    assert np.all(np.diff(everyone) >= 0)
    # the reported best threshold maximises the expected NMB over the model's thresholds
    model = [s for s in psa.strategies if s.strategy == "model"]
    assert psa.best_model_threshold == max(model, key=lambda s: s.nmb.estimate).threshold
    for s in psa.strategies:
        assert s.nmb.ci_low <= s.nmb.estimate <= s.nmb.ci_high


def test_reproducible_and_plain_json(data) -> None:
    y, p, _ = data
    first = probabilistic_sensitivity(y, p, THRESHOLDS, UNCERTAIN, n_draws=300, random_state=11)
    again = probabilistic_sensitivity(y, p, THRESHOLDS, UNCERTAIN, n_draws=300, random_state=11)
    assert first == again
    data_dict = json.loads(json.dumps(first.to_dict(), allow_nan=False))
    assert set(data_dict) == {f.name for f in fields(SensitivityAnalysis)} | {"per_patients"}
    assert data_dict["parameters"]["relative_risk_reduction"] == {
        "distribution": "beta",
        "alpha": 20.0,
        "beta": 80.0,
        "expected_value": 0.2,
    }
    assert set(data_dict["strategies"][2]["nmb"]) == {"estimate", "ci_low", "ci_high"}
    assert set(data_dict["acceptability"]["probability_best"]) == {
        s.label for s in first.strategies
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"cost_alert": -5}, "cost_alert must be a finite number >= 0"),
        ({"relative_risk_reduction": 1.2}, "relative_risk_reduction must be a finite number in"),
        (
            {"cost_outcome": {"distribution": "gamma", "shape": 4}},
            "cost_outcome: a gamma distribution takes shape and scale; got shape",
        ),
        (
            {"cost_outcome": {"distribution": "weibull", "shape": 4}},
            "cost_outcome: unknown distribution 'weibull'",
        ),
        (
            {"cost_outcome": {"distribution": "beta", "alpha": 0, "beta": 2}},
            "the beta distribution's alpha must be a finite number > 0",
        ),
        # a normal cost whose mean is negative is a negative cost
        (
            {"cost_alert": {"distribution": "normal", "mean": -10, "sd": 1}},
            "cost_alert must be a finite number >= 0",
        ),
        ({"willingness_to_pay": None}, "willingness_to_pay"),
        ({"wtp": 3}, "unknown parameter"),
    ],
)
def test_bad_distributions(data, changes: dict[str, object], expected: str) -> None:
    y, p, _ = data
    spec = {k: v for k, v in {**UNCERTAIN, **changes}.items() if v is not None}
    with pytest.raises(DataError, match=expected):
        probabilistic_sensitivity(y, p, THRESHOLDS, spec, n_draws=10)


def test_bad_draws_and_grid(data) -> None:
    y, p, _ = data
    with pytest.raises(DataError, match="n_draws must be a positive integer"):
        probabilistic_sensitivity(y, p, THRESHOLDS, POINT, n_draws=0)
    with pytest.raises(DataError, match="wtp_grid must be finite numbers >= 0"):
        probabilistic_sensitivity(y, p, THRESHOLDS, POINT, wtp_grid=[-1, 2])
