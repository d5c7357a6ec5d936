"""Small survival data (issue 16, item 6): Riley's time-to-event criteria before tuning."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clinai import evaluation
from clinai.runs._small_data import (
    SURVIVAL_METHOD,
    assess_small_data_survival,
    note_survival_shrinkage,
)
from tests.runs.test_small_data import RECORD_KEYS

HORIZON = 365.0


def _cohort(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.normal(65, 10, n),
            "sbp": rng.normal(130, 15, n),
            "ward": rng.choice(["a", "b", "c"], n),
        }
    )
    event_time = rng.exponential(800.0, n)
    censor_time = rng.uniform(100.0, 1000.0, n)
    time = np.minimum(event_time, censor_time)
    event = (event_time <= censor_time).astype(int)
    return X, time, event


def _assess(n: int, mode: str = "auto") -> tuple[dict, np.ndarray, np.ndarray, pd.DataFrame]:
    X, time, event = _cohort(n)
    record = assess_small_data_survival(
        X,
        time,
        event,
        horizon=HORIZON,
        numeric=["age", "sbp"],
        categorical=["ward"],
        plan=None,
        mode=mode,
    )
    return record, time, event, X


def test_record_has_the_binary_keys_and_riley_survival_numbers() -> None:
    record, time, event, _ = _assess(80)
    assert set(record) == RECORD_KEYS
    assert record["n_available"] == 80
    assert record["events_available"] == int(event.sum())
    expected = evaluation.riley_sample_size_survival(
        rate=event.sum() / time.sum(),
        mean_follow_up=time.mean(),
        timepoint=HORIZON,
        n_parameters=record["n_parameters"],
    )
    assert record["n_required"] == expected.n
    assert record["events_required"] == expected.events
    assert record["r2_cs_source"].startswith("default")
    assert record["criteria_met"] is False
    assert "shrinkage" in record["unmet"]


def test_unmet_criteria_record_the_recalibration_slope_as_the_shrinkage() -> None:
    record, *_ = _assess(80)
    note_survival_shrinkage(record, {"method": "cox_cloglog", "slope": 0.81})
    assert record["shrinkage"] == 0.81
    assert record["method"] == SURVIVAL_METHOD


def test_no_recalibration_says_why_and_met_or_off_changes_nothing() -> None:
    record, *_ = _assess(80)
    note_survival_shrinkage(record, {"slope": None, "reason": "calibration.method: none"})
    assert record["shrinkage"] is None
    assert "calibration.method: none" in record["method"]
    off, *_ = _assess(80, mode="off")
    note_survival_shrinkage(off, {"slope": 0.81})
    assert off["shrinkage"] is None and off["method"] is None
    met, *_ = _assess(5000)
    assert met["criteria_met"] is True
    note_survival_shrinkage(met, {"slope": 0.81})
    assert met["shrinkage"] is None and met["method"] is None
