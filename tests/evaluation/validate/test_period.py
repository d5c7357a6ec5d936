"""The monitor's period performance equals evaluate_predictions' numbers, metric for metric."""

from __future__ import annotations

import numpy as np
import pytest

from clinai.evaluation import PERIOD_METRICS, evaluate_predictions, period_performance
from clinai.exceptions import DataError


def _expected(y: np.ndarray, p: np.ndarray, patients: np.ndarray | None, n_boot: int) -> dict:
    result = evaluate_predictions(
        y,
        p,
        patient_ids=patients,
        thresholds=(0.2,),
        dca_thresholds=(0.2,),
        n_boot=n_boot,
        random_state=3,
    )
    calibration, row = result.calibration, result.thresholds[0]
    values = (
        result.auroc,
        calibration.oe_ratio,
        calibration.intercept,
        calibration.slope,
        calibration.ici,
        row.flag_rate,
        row.sensitivity,
        row.ppv,
    )
    return {name: value.to_dict() for name, value in zip(PERIOD_METRICS, values, strict=True)}


@pytest.mark.parametrize(
    ("n", "patients"),
    [(600, False), (600, True), (25_000, False), (25_000, True)],
    ids=["general-rows", "general-patients", "fast-rows", "fast-patients"],
)
def test_period_performance_equals_evaluate_predictions(n: int, patients: bool) -> None:
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n)
    p = 1 / (1 + np.exp(-(-1.5 + x)))
    y = rng.binomial(1, 1 / (1 + np.exp(-(-1.4 + 1.1 * x))))
    codes = rng.integers(0, int(n * 0.8), n) if patients else None
    found = period_performance(
        y, p, threshold=0.2, patient_ids=codes, n_boot=24, random_state=3
    ).to_dict()
    assert list(found) == list(PERIOD_METRICS)
    assert found == _expected(y, p, codes, 24)
    assert all(value["ci_low"] <= value["estimate"] <= value["ci_high"] for value in found.values())


def test_period_performance_refuses_one_class() -> None:
    with pytest.raises(DataError, match="y_true"):
        period_performance(np.zeros(30), np.full(30, 0.1), threshold=0.2, n_boot=5)
