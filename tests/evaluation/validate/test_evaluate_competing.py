"""evaluate_competing: the competing block of survival_metrics.json, with bootstrap intervals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clinai.evaluation import competing_risk_metrics, evaluate_competing, evaluate_survival
from clinai.exceptions import DataError
from tests.evaluation.survival._simulation import fine_gray_cohort

T = 1.0


@pytest.fixture(scope="module")
def cohort() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = fine_gray_cohort(11, n=400)
    return data.time, data.codes, data.cif(T)


def test_estimates_are_the_metrics_and_intervals_contain_them(cohort: tuple) -> None:
    time, codes, risk = cohort
    result = evaluate_competing(time, codes, risk, horizon=T, n_boot=30, random_state=3)
    point = competing_risk_metrics(time, codes, risk, T)
    record = json.loads(json.dumps(result.to_dict(), allow_nan=False))  # strict JSON
    for name in ("wolbers_c", "time_auc", "oe_ratio", "brier", "null_brier", "scaled_brier"):
        value = record["metrics"][name]
        assert value["estimate"] == pytest.approx(getattr(point, name))
        assert value["ci_low"] <= value["estimate"] <= value["ci_high"]
    block = record["competing"]
    assert block["cause"] == 1 and block["competing_codes"] == [2]
    assert block["observed_risk"]["estimate"] == pytest.approx(point.observed_risk)
    assert block["follow_up"]["events_by_horizon"] == point.cases
    assert block["follow_up"]["competing_by_horizon"] == point.competing
    slope = block["calibration_slope"]  # the true CIF: calibrated
    assert slope["ci_low"] < 1.0 < slope["ci_high"]
    analytic = block["oe_ratio_analytic"]
    assert analytic["ci_low"] < analytic["estimate"] < analytic["ci_high"]
    groups = block["risk_groups"]
    assert len(groups) == 10 and all(g["suppressed"] == (g["n"] is None) for g in groups)
    assert record["natural_frequency"]["observed"] == round(100 * point.observed_risk)
    # the same seed gives the same numbers
    again = evaluate_competing(time, codes, risk, horizon=T, n_boot=30, random_state=3)
    assert again.to_dict() == result.to_dict()


def test_patients_are_resampled_not_rows(cohort: tuple) -> None:
    time, codes, risk = cohort
    twice = np.r_[np.arange(time.shape[0]), np.arange(time.shape[0])]
    by_row = evaluate_competing(
        time[twice], codes[twice], risk[twice], horizon=T, n_boot=20, random_state=0
    )
    by_patient = evaluate_competing(
        time[twice], codes[twice], risk[twice], horizon=T, n_boot=20, random_state=0,
        patient_ids=twice,
    )  # fmt: skip
    assert by_patient.n_patients == time.shape[0] and by_row.n_patients == 2 * time.shape[0]
    width = {
        name: r.metrics["wolbers_c"].ci_high - r.metrics["wolbers_c"].ci_low
        for name, r in (("row", by_row), ("patient", by_patient))
    }
    assert width["patient"] > width["row"]  # a patient's two rows are not independent


def test_without_competing_events_it_agrees_with_evaluate_survival(cohort: tuple) -> None:
    time, codes, risk = cohort
    event = (codes > 0).astype(int)
    competing = evaluate_competing(time, event, risk, horizon=T, n_boot=0).to_dict()
    survival = evaluate_survival(time, event, risk, horizon=T, n_boot=0).to_dict()
    for ours, theirs in (("oe_ratio", "oe_ratio"), ("time_auc", "time_auc"), ("brier", "brier")):
        assert competing["metrics"][ours]["estimate"] == pytest.approx(
            survival["metrics"][theirs]["estimate"]
        )
    assert competing["metrics"]["scaled_brier"]["estimate"] == pytest.approx(
        survival["metrics"]["ipa"]["estimate"]
    )


def test_small_risk_groups_are_suppressed() -> None:
    data = fine_gray_cohort(12, n=100)
    result = evaluate_competing(data.time, data.codes, data.cif(T), horizon=T, n_boot=0, min_cell=9)
    hidden = [g for g in result.risk_groups if g["suppressed"]]
    assert hidden and all(g["observed"] is None and g["events"] is None for g in hidden)


def test_no_event_of_the_cause_by_the_horizon_is_one_line() -> None:
    time, codes = [1, 2, 3, 4, 5, 6], [2, 0, 2, 1, 1, 0]
    with pytest.raises(DataError, match=r"no events of cause 1 up to t = 3\.5"):
        evaluate_competing(time, codes, [0.2] * 6, horizon=3.5, n_boot=0)
