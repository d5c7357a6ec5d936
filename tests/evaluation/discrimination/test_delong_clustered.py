"""Obuchowski's (1997) clustered DeLong variance: reductions, a slow reference, the bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import logit
from scipy.stats import norm

from clinai.evaluation import auroc_score, delong_ci, delong_test, evaluate_predictions
from clinai.evaluation.comparison._comparison import PATIENT_ROWS_NOTE


def clustered_sample(patients: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Patients with 1-6 rows each; a patient's risk and outcome propensity are shared."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(1, 7, size=patients)
    ids = np.repeat(np.arange(patients), rows)
    frailty = rng.normal(size=patients)[ids]
    y = rng.binomial(1, 1 / (1 + np.exp(-(-1.0 + 1.2 * frailty)))).astype(int)
    score = frailty + rng.normal(scale=0.7, size=ids.shape[0])
    return y, score, ids


def kernel(y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """psi(X_i, Y_j) for every event (row) and non-event (column)."""
    x, v = score[y == 1][:, None], score[y == 0][None, :]
    return np.where(x > v, 1.0, np.where(x == v, 0.5, 0.0))


def slow_obuchowski_variance(y: np.ndarray, psi: np.ndarray, ids: np.ndarray) -> float:
    """Obuchowski (1997) by definition, from the pairwise kernel and sums by patient loops."""
    events, non_events = ids[y == 1], ids[y == 0]
    m, n = psi.shape
    auc = psi.mean()
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    patients = np.unique(ids)
    V10 = np.array([v10[events == k].sum() for k in patients])
    V01 = np.array([v01[non_events == k].sum() for k in patients])
    m_k = np.array([(events == k).sum() for k in patients])
    n_k = np.array([(non_events == k).sum() for k in patients])
    i10, i01, i = (m_k > 0).sum(), (n_k > 0).sum(), patients.shape[0]
    s10 = i10 / ((i10 - 1) * m) * np.sum((V10 - m_k * auc) ** 2)
    s01 = i01 / ((i01 - 1) * n) * np.sum((V01 - n_k * auc) ** 2)
    s11 = i / (i - 1) * np.sum((V10 - m_k * auc) * (V01 - n_k * auc))
    return float(s10 / m + s01 / n + 2 * s11 / (m * n))


def se_from_interval(estimate, level: float = 0.95) -> float:
    """Standard error back from a logit-scale DeLong interval."""
    z = norm.ppf(0.5 + level / 2)
    a = estimate.estimate
    return (logit(estimate.ci_high) - logit(estimate.ci_low)) / (2 * z) * a * (1 - a)


def test_one_row_per_patient_is_delong_exactly() -> None:
    y, score, _ = clustered_sample(150, 0)
    ids = np.arange(y.shape[0])[::-1]  # every row its own patient, in any order
    plain, clustered = delong_ci(y, score), delong_ci(y, score, patient_ids=ids)
    assert clustered.ci_low == pytest.approx(plain.ci_low, abs=1e-12)
    assert clustered.ci_high == pytest.approx(plain.ci_high, abs=1e-12)
    other = score + np.random.default_rng(1).normal(size=score.shape[0])
    a, b = delong_test(y, score, other), delong_test(y, score, other, patient_ids=ids)
    assert b.z == pytest.approx(a.z, abs=1e-10) and b.p_value == pytest.approx(a.p_value, abs=1e-12)


def test_rows_repeated_within_their_patient_add_no_information() -> None:
    y, score, _ = clustered_sample(120, 2)
    ids = np.arange(y.shape[0])
    plain = delong_ci(y, score)
    twice_y, twice_score, twice_ids = np.repeat(y, 3), np.repeat(score, 3), np.repeat(ids, 3)
    clustered = delong_ci(twice_y, twice_score, patient_ids=twice_ids)
    naive = delong_ci(twice_y, twice_score)
    assert clustered.ci_low == pytest.approx(plain.ci_low, abs=1e-12)
    assert clustered.ci_high == pytest.approx(plain.ci_high, abs=1e-12)
    assert naive.ci_high - naive.ci_low < 0.7 * (plain.ci_high - plain.ci_low)  # too narrow


@pytest.mark.parametrize("seed", [3, 4])
def test_variance_equals_the_slow_reference(seed: int) -> None:
    y, score, ids = clustered_sample(60, seed)
    score = np.round(score, 1)  # ties count one half
    estimate = delong_ci(y, score, patient_ids=ids)
    assert se_from_interval(estimate) == pytest.approx(
        math.sqrt(slow_obuchowski_variance(y, kernel(y, score), ids)), rel=1e-9
    )
    other = np.round(score + np.random.default_rng(seed).normal(size=score.shape[0]), 1)
    test = delong_test(y, score, other, patient_ids=ids)
    # the variance of the difference: the same formula on the difference of the kernels
    variance = slow_obuchowski_variance(y, kernel(y, score) - kernel(y, other), ids)
    assert test.z == pytest.approx(test.auroc_diff / math.sqrt(variance), rel=1e-9)
    assert test.p_value == pytest.approx(2 * norm.sf(abs(test.z)), rel=1e-9)
    naive = delong_test(y, score, other)
    assert abs(naive.z - test.z) > 1e-3  # the patients change the test


def test_standard_error_agrees_with_the_patient_bootstrap() -> None:
    y, score, ids = clustered_sample(400, 5)
    clustered = se_from_interval(delong_ci(y, score, patient_ids=ids))
    naive = se_from_interval(delong_ci(y, score))
    rng = np.random.default_rng(6)
    rows_of = [np.flatnonzero(ids == k) for k in range(400)]
    aucs = []
    for _ in range(600):
        rows = np.concatenate([rows_of[k] for k in rng.integers(0, 400, size=400)])
        if 0 < y[rows].sum() < rows.shape[0]:
            aucs.append(auroc_score(y[rows], 1 / (1 + np.exp(-score[rows]))))
    bootstrap = float(np.std(aucs, ddof=1))
    assert clustered == pytest.approx(bootstrap, rel=0.15)
    # rows treated as independent: too small, and further from the bootstrap
    assert naive < clustered and abs(naive - bootstrap) > 2 * abs(clustered - bootstrap)


def test_evaluate_predictions_uses_the_patients_for_delong_and_the_baseline_test() -> None:
    y, score, ids = clustered_sample(200, 7)
    p = 1 / (1 + np.exp(-score))
    baseline = np.round(score + np.random.default_rng(8).normal(size=score.shape[0]))
    kwargs = dict(n_boot=20, random_state=0, y_baseline=baseline, baseline_name="score")
    with_ids = evaluate_predictions(y, p, patient_ids=ids, **kwargs)
    without = evaluate_predictions(y, p, **kwargs)
    assert with_ids.auroc_delong.ci_low == pytest.approx(
        delong_ci(y, p, patient_ids=ids).ci_low, abs=1e-12
    )
    assert with_ids.auroc_delong.ci_high - with_ids.auroc_delong.ci_low > (
        without.auroc_delong.ci_high - without.auroc_delong.ci_low
    )
    expected = delong_test(y, p, baseline, patient_ids=ids)
    comparison = with_ids.baseline_comparison
    assert comparison.p_value == pytest.approx(expected.p_value, abs=1e-12)
    assert comparison.p_value != pytest.approx(without.baseline_comparison.p_value, abs=1e-6)
    assert PATIENT_ROWS_NOTE in comparison.notes
