"""Site summaries: each standard error against its definition, suppression, no row-level data."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.special import logit

from clinai.evaluation import POOLING_SCALES, delong_ci, site_summary
from clinai.evaluation.meta._site import CALIBRATION_POINTS_MSG
from clinai.exceptions import DataError


def sample(n: int, seed: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Risks in (0.02, 0.7) and outcomes drawn from a slightly miscalibrated truth."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.7, n)
    y = rng.binomial(1, 1 / (1 + np.exp(-(1.2 * logit(p) + shift)))).astype(int)
    return y, p


@pytest.fixture(scope="module")
def site() -> tuple[np.ndarray, np.ndarray]:
    return sample(600, 1, shift=0.2)


def test_metrics_are_on_the_pooling_scales(site: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = site
    summary = site_summary(y, p)
    assert {name: m.scale for name, m in summary.metrics.items()} == dict(POOLING_SCALES)
    auc = delong_ci(y, p).estimate
    assert summary.metrics["auroc"].estimate == pytest.approx(math.log(auc / (1 - auc)))
    assert summary.metrics["oe_ratio"].estimate == pytest.approx(math.log(y.sum() / p.sum()))
    assert summary.n == 600 and summary.events == int(y.sum()) and not summary.suppressed


def test_calibration_standard_errors_equal_statsmodels_glm(
    site: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p = site
    x = logit(p)
    summary = site_summary(y, p)
    offset_fit = sm.GLM(y, np.ones((y.size, 1)), family=sm.families.Binomial(), offset=x).fit()
    slope_fit = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial()).fit()
    intercept, slope = (
        summary.metrics["calibration_intercept"],
        summary.metrics["calibration_slope"],
    )
    assert intercept.estimate == pytest.approx(offset_fit.params[0], abs=1e-8)
    assert intercept.se == pytest.approx(offset_fit.bse[0], rel=1e-6)
    assert slope.estimate == pytest.approx(slope_fit.params[1], abs=1e-8)
    assert slope.se == pytest.approx(slope_fit.bse[1], rel=1e-4)  # IRLS tolerance


def test_clustered_calibration_standard_errors_equal_statsmodels_cluster_covariance() -> None:
    rng = np.random.default_rng(3)
    ids = np.repeat(np.arange(150), rng.integers(1, 5, 150))
    y, p = sample(ids.size, 4)
    x = logit(p)
    summary = site_summary(y, p, patient_ids=ids)
    cluster = {"cov_type": "cluster", "cov_kwds": {"groups": ids}}
    offset_fit = sm.GLM(y, np.ones((y.size, 1)), family=sm.families.Binomial(), offset=x)
    slope_fit = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial())
    assert summary.metrics["calibration_intercept"].se == pytest.approx(
        offset_fit.fit(**cluster).bse[0], rel=1e-6
    )
    assert summary.metrics["calibration_slope"].se == pytest.approx(
        slope_fit.fit(**cluster).bse[1], rel=1e-6
    )
    assert summary.patients == 150


def slow_delong_variance(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """DeLong et al. (1988) by definition, from the pairwise kernel: ``(A, Var(A))``."""
    x, v = p[y == 1][:, None], p[y == 0][None, :]
    psi = np.where(x > v, 1.0, np.where(x == v, 0.5, 0.0))
    m, n = psi.shape
    return float(psi.mean()), float(
        np.var(psi.mean(axis=1), ddof=1) / m + np.var(psi.mean(axis=0), ddof=1) / n
    )


def test_logit_auroc_se_is_the_delta_method_of_delongs(
    site: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p = site
    auc, variance = slow_delong_variance(y, p)
    metric = site_summary(y, p).metrics["auroc"]
    assert metric.se == pytest.approx(math.sqrt(variance) / (auc * (1 - auc)), rel=1e-10)
    # roughly the bootstrap's standard deviation of logit(AUROC)
    rng = np.random.default_rng(0)
    replicates = []
    for _ in range(200):
        rows = rng.integers(0, y.size, y.size)
        boot_auc, _ = slow_delong_variance(y[rows], p[rows])
        replicates.append(math.log(boot_auc / (1 - boot_auc)))
    assert metric.se == pytest.approx(np.std(replicates, ddof=1), rel=0.2)


def test_log_oe_se_is_debrays_and_clusters_by_patient(
    site: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p = site
    observed, n = y.sum(), y.size
    debray = math.sqrt((1 - observed / n) / observed)
    assert site_summary(y, p).metrics["oe_ratio"].se == pytest.approx(debray, rel=1e-12)
    # every row twice within its patient: the same SE as the unrepeated data (up to G/(G-1))
    ids = np.repeat(np.arange(n), 2)
    twice = site_summary(np.repeat(y, 2), np.repeat(p, 2), patient_ids=ids)
    assert twice.metrics["oe_ratio"].se == pytest.approx(debray * math.sqrt(n / (n - 1)))
    # ... whereas ignoring the patients would halve the variance
    assert site_summary(np.repeat(y, 2), np.repeat(p, 2)).metrics["oe_ratio"].se < 0.75 * debray


def test_small_counts_withhold_counts_and_metrics() -> None:
    y, p = sample(300, 5)
    y[:] = 0
    y[:7] = 1  # 7 events < min_cell 10: the O/E's SE alone would give them back
    summary = site_summary(y, p).to_dict()
    assert summary["counts"]["n"] is None and summary["counts"]["events"] is None
    assert summary["counts"]["suppressed"] is True
    for metric in summary["metrics"].values():
        assert metric["estimate"] is None and metric["se"] is None and metric["suppressed"]
    assert all(point["observed"] is None for point in summary["calibration_curve"]["points"])
    assert site_summary(y, p, min_cell=5).to_dict()["counts"]["events"] == 7


def test_calibration_curve_needs_min_cell_predictions_on_each_side() -> None:
    y, p = sample(400, 6)
    points = site_summary(y, p, calibration_points=(0.01, 0.3, 0.69, 0.9)).to_dict()[
        "calibration_curve"
    ]["points"]
    assert [pt["p"] for pt in points] == [0.01, 0.3, 0.69, 0.9]
    assert points[0]["observed"] is None and points[3]["observed"] is None
    assert 0.15 < points[1]["observed"] < 0.5
    tail = int((p >= 0.69).sum())
    assert (points[2]["observed"] is None) == (tail < 10)


def test_summary_holds_no_row_level_data() -> None:
    y, p = sample(200, 7)
    ids = np.array([f"CPR-{i:06d}" for i in range(200)])
    text = json.dumps(site_summary(y, p, patient_ids=ids).to_dict(), allow_nan=False)
    assert "CPR-" not in text
    numbers = [float(v) for v in re.findall(r"-?\d+\.\d+", text)]
    assert not set(np.round(p, 12)) & set(np.round(numbers, 12))
    assert len(numbers) < 40  # a fixed handful of aggregates, whatever the site's size


@pytest.mark.parametrize("points", [(), (0.2, 0.1), (0.0, 0.5), (0.5, 1.0), "x"])
def test_invalid_calibration_points_are_refused(points: object) -> None:
    y, p = sample(100, 8)
    with pytest.raises(DataError, match=re.escape(CALIBRATION_POINTS_MSG.format(value=points))):
        site_summary(y, p, calibration_points=points)  # type: ignore[arg-type]


def test_patient_count_passes_the_runs_phi_guard() -> None:
    """Integer patient ids: the count of patients must not sit under an identifier key.

    Under ``"patients"`` the PHI guard of ``clinai run`` read the count (here 240, also a
    patient id) as a patient identifier and stopped acute_deterioration's run.
    """
    from clinai.runs._phi import Canaries

    rng = np.random.default_rng(4)
    ids = np.repeat(np.arange(1, 241), 5)
    p = rng.uniform(0.05, 0.6, ids.size)
    y = rng.binomial(1, p)
    document = site_summary(y, p, patient_ids=ids).to_dict()
    assert document["counts"]["n_patients"] == 240
    guard = Canaries({"patient_id": [str(i) for i in range(1, 241)]}, id_column="patient_id")
    assert guard.find_in_structure(document) is None
