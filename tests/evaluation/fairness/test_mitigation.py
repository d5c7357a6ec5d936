"""Post-processing mitigation (fairlearn ThresholdOptimizer) beside the unmitigated model."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.metrics import confusion_matrix

from clinai.evaluation import threshold_optimizer_mitigation
from clinai.evaluation.fairness._mitigation import (
    CONSTRAINT_MSG,
    UNSEEN_GROUP_MSG,
    _score_estimator,
)
from clinai.evaluation.resampling.engine import seed_sequence
from clinai.exceptions import DataError

T = 0.2


def data(seed: int = 0, n: int = 1200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A model that over-predicts for men: men are flagged far more often at the same risk."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["female", "male"], size=n)
    risk = rng.beta(2, 5, size=n)
    y = rng.binomial(1, risk)
    p = np.clip(risk + np.where(group == "male", 0.12, -0.03), 0.01, 0.99)
    return y, p, group


def rates(y: np.ndarray, flagged: np.ndarray) -> dict[str, float]:
    tn, fp, fn, tp = confusion_matrix(y, flagged.astype(int), labels=[0, 1]).ravel()
    n = len(y)
    return {
        "sensitivity": tp / (tp + fn),
        "specificity": tn / (tn + fp),
        "flag_rate": (tp + fp) / n,
        "net_benefit": tp / n - fp / n * T / (1 - T),
    }


def run(seed: int = 0, **kwargs):
    y, p, g = data(seed)
    half = len(y) // 2
    args = dict(attribute="sex", threshold=T, n_boot=50, random_state=11)
    args.update(kwargs)
    return (y, p, g, half), threshold_optimizer_mitigation(
        y[:half], p[:half], g[:half], y[half:], p[half:], g[half:], **args
    )


def test_both_rules_equal_a_direct_computation_with_fairlearn() -> None:
    (y, p, g, half), result = run()
    out = result.to_dict()
    y_test, p_test, g_test = y[half:], p[half:], g[half:]
    # the reference: fairlearn's ThresholdOptimizer fitted on the first half only
    optimizer = ThresholdOptimizer(
        estimator=_score_estimator(),
        constraints="equalized_odds",
        objective="balanced_accuracy_score",
        prefit=True,
        predict_method="predict_proba",
    )
    optimizer.fit(pd.DataFrame({"risk": p[:half]}), y[:half], sensitive_features=g[:half])
    seed = int(np.random.default_rng(seed_sequence(11).spawn(2)[0]).integers(2**31 - 1))
    mitigated = optimizer.predict(
        pd.DataFrame({"risk": p_test}), sensitive_features=g_test, random_state=seed
    )
    expected = {
        "unmitigated": rates(y_test, p_test >= T),
        "mitigated": rates(y_test, np.asarray(mitigated)),
    }
    for side, values in expected.items():
        for metric, value in values.items():
            assert out["overall"][side][metric]["estimate"] == pytest.approx(value, abs=1e-12)
    for metric in expected["mitigated"]:
        assert out["overall"]["difference"][metric]["estimate"] == pytest.approx(
            expected["mitigated"][metric] - expected["unmitigated"][metric], abs=1e-12
        )
    for row in out["groups"]:
        mask = g_test == row["group"]
        for side, flagged in (("unmitigated", p_test >= T), ("mitigated", np.asarray(mitigated))):
            direct = rates(y_test[mask], flagged[mask])
            for rate in ("flag_rate", "sensitivity", "specificity"):
                assert row[side][rate] == pytest.approx(direct[rate], abs=1e-12)
    assert out["applied_to_registered_model"] is False
    assert out["n_fit"] == half
    json.dumps(out, allow_nan=False)


def test_mitigation_narrows_the_gap_in_true_and_false_positive_rates() -> None:
    _, result = run()
    gaps = result.to_dict()["disparities"]
    assert gaps["mitigated"]["flag_rate"] < gaps["unmitigated"]["flag_rate"]
    assert gaps["mitigated"]["specificity"] < gaps["unmitigated"]["specificity"]


def test_thresholds_never_learn_from_the_test_outcomes() -> None:
    y, p, g = data(1)
    half = len(y) // 2
    args = dict(attribute="sex", threshold=T, random_state=3)
    first = threshold_optimizer_mitigation(
        y[:half], p[:half], g[:half], y[half:], p[half:], g[half:], **args
    )
    flipped = threshold_optimizer_mitigation(
        y[:half], p[:half], g[:half], 1 - y[half:], p[half:], g[half:], **args
    )
    # the decisions (hence who is flagged) do not depend on the test split's labels
    assert (
        first.overall["mitigated"]["flag_rate"].estimate
        == flipped.overall["mitigated"]["flag_rate"].estimate
    )


def test_paired_intervals_cover_and_are_reproducible() -> None:
    _, first = run(n_boot=80)
    _, second = run(n_boot=80)
    assert first.to_dict() == second.to_dict()
    for side in ("unmitigated", "mitigated", "difference"):
        for metric, est in first.overall[side].items():
            assert est.ci_low <= est.estimate <= est.ci_high, (side, metric)


def test_small_groups_are_suppressed() -> None:
    y, p, g = data(2)
    g = g.astype(object)
    fit_rows = np.concatenate([np.flatnonzero(y[:600] == 1)[:3], np.flatnonzero(y[:600] == 0)[:3]])
    g[fit_rows] = "other"  # enough to fit a threshold on (both classes) ...
    g[[700, 701]] = "other"  # ... but too few test rows to report
    result = threshold_optimizer_mitigation(
        y[:600], p[:600], g[:600], y[600:], p[600:], g[600:], attribute="sex", threshold=T
    ).to_dict()
    other = next(row for row in result["groups"] if row["group"] == "other")
    assert other["suppressed"] is True
    assert other["n"] is None and other["unmitigated"] is None and other["mitigated"] is None


def test_errors_are_one_clear_line() -> None:
    y, p, g = data(3, n=400)
    g_test = g.copy().astype(object)
    g_test[-1] = "unknown"
    with pytest.raises(DataError, match=re.escape("group(s) unknown of the test split")):
        threshold_optimizer_mitigation(y, p, g, y, p, g_test, attribute="sex", threshold=T)
    assert "absent from" in UNSEEN_GROUP_MSG
    g_one = g.copy().astype(object)
    g_one[np.flatnonzero(y == 0)[:4]] = "rare"
    with pytest.raises(DataError, match=re.escape("group(s) rare have only one outcome class")):
        threshold_optimizer_mitigation(y, p, g_one, y, p, g_one, attribute="sex", threshold=T)
    with pytest.raises(DataError, match=re.escape(CONSTRAINT_MSG.split("{")[0])):
        threshold_optimizer_mitigation(
            y, p, g, y, p, g, attribute="sex", threshold=T, constraint="parity"
        )
