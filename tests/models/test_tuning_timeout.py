"""Reproducible tuning: ``n_trials`` binds, ``timeout_s`` is a recorded safety stop.

A timeout that binds stops a study at a different trial depending on the
machine's load, so the same config gave different models (0.737 against 0.808
on acute_deterioration). The timeout is now a safety stop: generous by default,
and when it fires the result says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from clinai.config import TuningConfig
from clinai.models import TuningResult, tune_model

from .conftest import CATEGORICAL, NUMERIC, make_data

optuna = pytest.importorskip("optuna")

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
#: A safety stop is at least this generous (seconds per model family).
GENEROUS_S = 3600


@pytest.fixture(scope="module")
def small_data():
    return make_data(120, seed=2)


def _tune(data, *, n_trials: int, timeout_s: float, study_name: str) -> TuningResult:
    X, y = data
    return tune_model(
        "logistic",
        X,
        y,
        numeric=NUMERIC,
        categorical=CATEGORICAL,
        n_trials=n_trials,
        timeout_s=timeout_s,
        cv_folds=3,
        storage=None,
        study_name=study_name,
        random_state=3,
    )


def test_a_timeout_that_fires_is_recorded_and_logged(small_data, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="clinai.models._study"):
        result = _tune(small_data, n_trials=6, timeout_s=1e-9, study_name="tiny")
    # The safety stop waits for one complete trial (a study without one has no model).
    assert result.n_trials == 1
    assert result.timeout_fired is True
    assert result.n_trials_requested == 6
    warned = [r.getMessage() for r in caplog.records if "safety timeout" in r.getMessage()]
    assert len(warned) == 1 and "after 1 of 6 trials" in warned[0], warned


def test_n_trials_binds_under_a_large_timeout(small_data) -> None:
    first = _tune(small_data, n_trials=4, timeout_s=GENEROUS_S, study_name="a")
    second = _tune(small_data, n_trials=4, timeout_s=GENEROUS_S, study_name="b")
    for result in (first, second):
        assert result.n_trials == 4
        assert result.timeout_fired is False
        assert result.n_trials_requested == 4
    assert [t.params for t in first.trials] == [t.params for t in second.trials]
    assert first.best_params == second.best_params


def test_the_default_and_the_bundled_configs_keep_the_timeout_a_safety_stop() -> None:
    assert TuningConfig().timeout_s >= GENEROUS_S
    paths = sorted(CONFIGS.glob("*.yaml")) + sorted(CONFIGS.glob("extra/*.yaml"))
    assert paths
    for path in paths:
        tuning = (yaml.safe_load(path.read_text("utf-8")) or {}).get("tuning") or {}
        assert tuning.get("timeout_s", GENEROUS_S) >= GENEROUS_S, path.name
