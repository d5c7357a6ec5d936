"""Small data, honestly (issue 16, item 6): Riley's criteria before tuning, shrinkage when unmet."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from clinai import models
from clinai.config import CalibrationConfig, SampleSizeConfig, TuningConfig, parse_config
from clinai.exceptions import ConfigError
from clinai.reporting._render import render, translator
from clinai.reporting._small_data_view import small_data_view
from clinai.runs._prepare import prepare
from clinai.runs._rundir import resolve_run_dir
from clinai.runs._small_data import CALIBRATED_METHOD, METHOD, binary_plan
from clinai.runs._train import IN_MEMORY, train, tune_and_calibrate
from tests.integration.conftest import FIXTURES, synthetic_frame, tiny_config

pytest.importorskip("optuna")

RECORD_KEYS = {
    "mode",
    "criteria_met",
    "n_required",
    "events_required",
    "n_available",
    "events_available",
    "n_parameters",
    "r2_cs",
    "r2_cs_source",
    "unmet",
    "shrinkage",
    "heuristic_shrinkage",
    "n_bootstrap",
    "method",
}


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLINAI_PIPELINES_PATH", str(FIXTURES))
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
    synthetic_frame(n=120).to_csv(tmp_path / "patients.csv", index=False)
    return tmp_path


def _render_both(training: dict) -> dict[str, str]:
    view = small_data_view({"small_data": training["small_data"]})
    out = {}
    for language in ("en", "da"):
        strings, fmt = translator(language)
        for kind in ("md", "html"):
            out[f"{language}.{kind}"] = render(
                f"_small_data.{kind}.j2", sd=view, t=strings, fmt=fmt
            )
    return out


def test_training_json_records_the_shrinkage_and_the_documents_say_so(workspace: Path) -> None:
    config = parse_config(
        tiny_config(
            test_size=0.25,
            tuning={"n_trials": 2, "cv_folds": 3, "storage": IN_MEMORY},
            training={"small_data": "auto", "shrinkage_bootstrap": 5},
        )
    )
    run_dir = resolve_run_dir(workspace / "runs", "tiny", None, create=True)
    prepare(config, run_dir)
    train(config, run_dir, show_progress=False)
    training = json.loads((run_dir.path / "training.json").read_text("utf-8"))
    block = training["small_data"]
    assert set(block) == RECORD_KEYS
    assert block["mode"] == "auto"
    assert block["criteria_met"] is False
    assert block["n_available"] < block["n_required"]
    assert block["method"] == CALIBRATED_METHOD  # sigmoid calibration is the shrinkage
    assert 0.05 <= block["shrinkage"] <= 1.0
    assert block["r2_cs_source"].startswith("default: 15%")

    texts = _render_both(training)
    needed = f"{block['n_required']:,}".replace(",", "")
    for name, text in texts.items():
        digits = re.sub(r"[ ,.\u00a0]", "", text)
        assert needed in digits, name
        assert str(block["n_parameters"]) in text, name
    assert "too small for a model with these predictors" in texts["en.md"]
    assert "for få til en model med disse prædiktorer" in texts["da.md"]
    assert "small-data" in texts["en.html"]
    # a calibration that spread a too cautious model out is not called shrinkage
    spread = _render_both({"small_data": {**block, "shrinkage": 1.6}})
    assert "too cautious" in spread["en.md"] and "for forsigtige" in spread["da.md"]
    # nothing is said when the criteria held
    assert small_data_view({"small_data": {**block, "criteria_met": True}}) is None


def _large(n: int = 2000) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    y = rng.binomial(1, expit(-0.5 + X.to_numpy() @ np.array([1.0, -0.8, 0.5])))
    return X, y


def _tune(X: pd.DataFrame, y: np.ndarray, **options: object) -> tuple[object, dict]:
    record: dict = {}
    settings: dict = {
        "families": ["logistic"],
        "tuning": TuningConfig(n_trials=2, cv_folds=3, storage=IN_MEMORY),
        "calibration": CalibrationConfig(cv=3),
        "seed": 0,
        "study_prefix": "t-{family}",
        "show_progress": False,
        "storage": IN_MEMORY,
        **options,
    }
    fitted, _ = tune_and_calibrate(
        X, y, numeric=["a", "b", "c"], categorical=[], record=record, **settings
    )
    return fitted, record


def test_an_uncalibrated_model_on_small_data_is_shrunk() -> None:
    X, y = _large(n=150)
    fitted, record = _tune(
        X,
        y,
        calibration=CalibrationConfig(method="none"),
        shrinkage_bootstrap=5,
        sample_size=SampleSizeConfig(c_statistic=0.8),
    )
    assert record["criteria_met"] is False and record["method"] == METHOD
    assert record["r2_cs_source"] == "c_statistic"
    assert isinstance(fitted, models.RecalibratedModel)
    assert fitted.slope == record["shrinkage"] <= 1.0


def test_nothing_changes_when_the_criteria_are_met() -> None:
    X, y = _large()
    (auto, record), (off, _) = (_tune(X, y, small_data=mode) for mode in ("auto", "off"))
    assert record["criteria_met"] is True
    assert record["shrinkage"] is None and record["method"] is None
    assert record["n_parameters"] == 3
    assert not isinstance(auto, models.RecalibratedModel)
    np.testing.assert_array_equal(auto.predict_proba(X), off.predict_proba(X))


def test_small_data_option_is_validated_up_front() -> None:
    raw = {key: value for key, value in tiny_config().items() if key != "training"}
    assert parse_config({**raw, "training": {"small_data": False}}).training.small_data == "off"
    assert parse_config(raw).training.small_data == "auto"
    with pytest.raises(ConfigError, match=r"training\.small_data"):
        parse_config({**raw, "training": {"small_data": "maybe"}})


def test_several_rows_per_patient_count_the_patients() -> None:
    """Hourly prediction times are not patients: Riley's n counts patients, events by patient."""
    import numpy as np
    import pandas as pd

    from clinai.runs._small_data import assess_small_data

    rng = np.random.default_rng(0)
    patients = np.repeat(np.arange(60), 10)  # 600 rows, 60 patients
    y = np.zeros(600, dtype=int)
    y[rng.choice(600, 40, replace=False)] = 1
    X = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600)})
    by_rows = assess_small_data(X, y, numeric=["a", "b"], categorical=[], plan=None, mode="auto")
    by_patients = assess_small_data(
        X, y, numeric=["a", "b"], categorical=[], plan=None, mode="auto", patients=patients
    )
    assert (by_rows["n_available"], by_rows["events_available"]) == (600, 40)
    assert by_patients["n_available"] == 60
    assert by_patients["events_available"] == len(np.unique(patients[y == 1]))


def test_binary_plan_passes_every_anticipated_field_to_riley() -> None:
    # the evaluate stage and the small-data check both read the plan through it
    plan = SampleSizeConfig(c_statistic=0.8, shrinkage=0.85, delta_r2=0.04, margin=0.06, mape=0.05)
    assert set(binary_plan(plan)) == set(SampleSizeConfig.model_fields) - {"prevalence"}
    assert binary_plan(plan) == {
        "r2_cs": None,
        "c_statistic": 0.8,
        "shrinkage": 0.85,
        "delta_r2": 0.04,
        "margin": 0.06,
        "mape": 0.05,
    }
