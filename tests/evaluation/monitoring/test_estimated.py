"""CBPE against exact enumeration, simulated outcomes and the bootstrap engine."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from scipy.stats import rankdata

from clinai.evaluation._inputs import PROBABILITY_RANGE_MSG, THRESHOLD_MSG
from clinai.evaluation.monitoring import estimated_performance
from clinai.exceptions import DataError


def mann_whitney_parts(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Concordant event/non-event pairs (ties one half) and the number of such pairs."""
    events, non_events = p[y == 1], p[y == 0]
    diff = events[:, None] - non_events[None, :]
    return float((diff > 0).sum() + 0.5 * (diff == 0).sum()), float(events.size * non_events.size)


def test_exact_enumeration_of_every_outcome() -> None:
    p = np.array([0.1, 0.4, 0.4, 0.7, 0.9])
    concordant = pairs = events = tn = non_events = flagged_events = 0.0
    for outcome in itertools.product([0, 1], repeat=p.size):
        y = np.array(outcome)
        weight = float(np.prod(np.where(y == 1, p, 1 - p)))
        c, k = mann_whitney_parts(y, p)
        concordant += weight * c
        pairs += weight * k
        flagged_events += weight * float(y[p >= 0.4].sum())
        events += weight * y.sum()
        tn += weight * float((1 - y)[p < 0.4].sum())
        non_events += weight * (1 - y).sum()
    est = estimated_performance(p, threshold=0.4)
    assert est.auroc.estimate == pytest.approx(concordant / pairs, rel=1e-12)
    assert est.sensitivity.estimate == pytest.approx(flagged_events / events, rel=1e-12)
    assert est.specificity.estimate == pytest.approx(tn / non_events, rel=1e-12)
    assert est.ppv.estimate == pytest.approx((0.4 + 0.4 + 0.7 + 0.9) / 4)
    assert est.alert_rate.estimate == 0.8
    assert est.expected_events.estimate == pytest.approx(2.5)


def test_average_over_simulated_outcomes() -> None:
    rng = np.random.default_rng(3)
    p = np.round(rng.beta(1.5, 8.0, size=2000), 3)  # rounded: many ties
    y = (rng.uniform(size=(4000, p.size)) < p).astype(float)
    ranks = rankdata(p)
    n1 = y.sum(axis=1)
    auroc = (y @ ranks - n1 * (n1 + 1) / 2) / (n1 * (p.size - n1))
    flagged = p >= 0.2
    est = estimated_performance(p, threshold=0.2)
    # 4000 simulations: Monte Carlo standard errors about 3e-4 (AUROC) and 5e-4 (the rest).
    assert est.auroc.estimate == pytest.approx(auroc.mean(), abs=0.002)
    assert est.sensitivity.estimate == pytest.approx((y[:, flagged].sum(1) / n1).mean(), abs=0.003)
    assert est.ppv.estimate == pytest.approx(y[:, flagged].mean(), abs=0.003)
    specificity = (1 - y[:, ~flagged]).sum(1) / (p.size - n1)
    assert est.specificity.estimate == pytest.approx(specificity.mean(), abs=0.003)


def test_bootstrap_intervals_resample_patients() -> None:
    rng = np.random.default_rng(4)
    patients = np.repeat(np.arange(300), 10)
    p = np.repeat(rng.beta(2, 6, size=300), 10)  # each patient's rows alike
    rows = estimated_performance(p, threshold=0.3, n_boot=200, random_state=1)
    clustered = estimated_performance(
        p, threshold=0.3, patient_ids=patients, n_boot=200, random_state=1
    )
    again = estimated_performance(
        p, threshold=0.3, patient_ids=patients, n_boot=200, random_state=1
    )
    assert clustered == again
    for name in ("auroc", "sensitivity", "alert_rate", "expected_events"):
        r, c = getattr(rows, name), getattr(clustered, name)
        assert c.estimate == r.estimate
        assert c.ci_low <= c.estimate <= c.ci_high
        # Ten identical rows per patient: the patient bootstrap is about sqrt(10) times wider.
        assert (c.ci_high - c.ci_low) > 2 * (r.ci_high - r.ci_low)


def test_interval_of_expected_events_is_the_sum_bootstrap() -> None:
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 0.3, size=5000)
    est = estimated_performance(p, threshold=0.2, n_boot=400, random_state=2).expected_events
    sd = math.sqrt(p.size * p.var())  # bootstrap sd of a sum of n resampled values
    assert est.ci_high - est.ci_low == pytest.approx(2 * 1.96 * sd, rel=0.15)


def test_to_dict_is_marked_estimated() -> None:
    out = estimated_performance([0.1, 0.5, 0.9], threshold=0.5, n_boot=20).to_dict()
    assert out["estimated"] is True
    assert set(out) == {
        "auroc",
        "sensitivity",
        "specificity",
        "ppv",
        "alert_rate",
        "expected_events",
        "estimated",
    }
    assert set(out["auroc"]) == {"estimate", "ci_low", "ci_high"}
    json.dumps(out, allow_nan=False)


def test_empty_period_and_no_alerts() -> None:
    empty = estimated_performance([], threshold=0.5, n_boot=50)
    assert empty.n == 0 and math.isnan(empty.auroc.estimate)
    assert empty.to_dict()["auroc"] == {"estimate": None, "ci_low": None, "ci_high": None}
    quiet = estimated_performance([0.1, 0.2], threshold=0.5)
    assert quiet.alert_rate.estimate == 0.0 and math.isnan(quiet.ppv.estimate)
    assert quiet.sensitivity.estimate == 0.0


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(DataError) as high:
        estimated_performance([0.2, 1.5], threshold=0.5)
    assert str(high.value) == PROBABILITY_RANGE_MSG.format(low=0.2, high=1.5)
    with pytest.raises(DataError) as threshold:
        estimated_performance([0.2], threshold=1.0)
    assert str(threshold.value) == THRESHOLD_MSG.format(
        name="threshold", interval="(0, 1) (strictly between 0 and 1)", value=1.0
    )
    with pytest.raises(DataError, match="y_prob has 1 missing"):
        estimated_performance([0.2, np.nan], threshold=0.5)
    with pytest.raises(DataError, match="patient_ids has 1 entries"):
        estimated_performance([0.2, 0.3], threshold=0.5, patient_ids=["a"], n_boot=5)
