"""A survival run's acceptance criteria, fairness tables, recalibration and registry comparison.

One tiny end-to-end survival run (synthetic CSV, one Cox family, one trial) checks the
blocks a binary run has: the acceptance plan fixed at training and judged in
survival_metrics.json, an edited plan refused, the fairness table, the integrated
Brier score, the out-of-fold recalibration and the report's sections. A second run
against the first one's registered version (slow) checks the comparison.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
import yaml

from clinai.cli import main
from clinai.runs._small_data import SURVIVAL_METHOD
from tests.runs.test_small_data_survival import RECORD_KEYS

from .conftest import FIXTURES

pytestmark = pytest.mark.integration

CONFIG = "tiny_survival.yaml"
RUN = ["--quiet", "--set", "tuning.n_trials=1"]
CRITERIA = [
    {"name": "discrimination", "metric": "harrell_c", "statistic": "ci_low", "min": 0.5},
    {"name": "calibration", "metric": "calibration_slope", "min": 0.5, "max": 2.0},
    {"name": "time-dependent AUC", "metric": "td_auc", "min": 0.5},
    {"name": "overall", "metric": "integrated_brier", "max": 0.3},
    {"name": "sex C gap", "metric": "fairness.sex.harrell_c.difference", "max": 0.5},
]


def survival_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Synthetic patients (not real people): the hazard rises with age and lactate."""
    rng = np.random.default_rng(seed)
    age = rng.integers(30, 95, n)
    lactate = rng.gamma(2.0, 1.0, n)
    sex = rng.choice(["female", "male"], n)
    hazard = 0.0015 * np.exp(0.04 * (age - 65) + 0.4 * (lactate - 2))
    event_time = rng.exponential(1 / hazard)
    censor = rng.uniform(400, 1000, n)
    return pd.DataFrame(
        {
            "patient": [f"P{i:04d}" for i in range(n)],
            "age": age,
            "sex": sex,
            "lactate": lactate,
            "time": np.round(np.minimum(event_time, censor), 1),
            "event": (event_time <= censor).astype(int),
        }
    )


def survival_config(**evaluation: Any) -> dict[str, Any]:
    """The tiny survival use case: one Cox family, 3-fold CV, EN and DA."""
    return {
        "experiment": "tiny_survival",
        "pipeline": "tiny_survival_pipeline",
        "data": {"source": {"type": "csv", "path": "survival.csv"}, "patient_id": "patient"},
        "outcome": {"type": "survival", "horizons": [365]},
        "split": {"method": "grouped", "test_size": 0.4},
        "models": ["cox_net"],
        "tuning": {"n_trials": 1, "timeout_s": 60, "cv_folds": 3},
        "calibration": {"method": "sigmoid", "cv": 3},
        "evaluation": {
            "n_boot": 20,
            "sensitive_attributes": ["sex"],
            "acceptance": CRITERIA,
            **evaluation,
        },
        "languages": ["en", "da"],
    }


@pytest.fixture
def survival_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the tiny survival pipeline's CSV and config; stores inside."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("CLINAI_PIPELINES_PATH", str(FIXTURES))
    survival_frame().to_csv(tmp_path / "survival.csv", index=False)
    (tmp_path / CONFIG).write_text(yaml.safe_dump(survival_config()), encoding="utf-8")
    return tmp_path


def _runs(workspace: Path) -> list[Path]:
    return sorted(p for p in (workspace / "runs" / "tiny_survival").iterdir() if p.is_dir())


def _one_line_error(capsys: pytest.CaptureFixture[str], needle: str) -> None:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err


@pytest.mark.slow  # a whole survival run (tuning, bootstrap, MLflow, PDFs): ~40 s on 2 cores
def test_survival_run_judges_fixed_criteria_and_refuses_an_edited_plan(
    survival_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", CONFIG, *RUN]) == 0
    (run,) = _runs(survival_workspace)
    plan = json.loads((run / "acceptance_plan.json").read_text())
    assert [c["metric"] for c in plan["criteria"]] == [c["metric"] for c in CRITERIA]

    metrics = json.loads((run / "survival_metrics.json").read_text())
    verdicts = {row["criterion"]: row for row in metrics["acceptance"]}
    assert list(verdicts) == [c["name"] for c in CRITERIA]
    assert all(row["status"] in {"pass", "fail"} for row in verdicts.values())
    c_index = metrics["metrics"]["harrell_c"]
    assert verdicts["discrimination"]["value"] == c_index["ci_low"]
    assert verdicts["time-dependent AUC"]["value"] == metrics["metrics"]["time_auc"]["estimate"]
    assert metrics["acceptance_plan_sha256"] == plan["sha256"]
    assert metrics["acceptance_verdict"] in {"accepted", "not accepted"}

    # the integrated Brier score up to the horizon, with its interval
    ibs = metrics["integrated_brier"]
    assert ibs["end"] == 365.0 and ibs["ci_low"] <= ibs["estimate"] <= ibs["ci_high"]
    # the fairness table: C and O/E per group with intervals, and the gap
    sex = metrics["fairness"]["sex"]
    assert [g["group"] for g in sex["groups"]] == ["female", "male"]
    c_values = [g["harrell_c"]["estimate"] for g in sex["groups"]]
    assert sex["harrell_c"]["difference"]["estimate"] == pytest.approx(
        max(c_values) - min(c_values)
    )
    assert verdicts["sex C gap"]["value"] == sex["harrell_c"]["difference"]["estimate"]
    # MLflow holds the integrated Brier score beside the metrics at the horizon
    from mlflow import MlflowClient

    uri = f"sqlite:///{survival_workspace / 'mlruns.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    (parent,) = client.search_runs(
        [client.get_experiment_by_name("tiny_survival").experiment_id],
        filter_string="tags.`clinai.kind` = 'run'",
    )
    assert parent.data.metrics["integrated_brier"] == pytest.approx(ibs["estimate"])
    # recalibrated on out-of-fold risks of the training split
    training = json.loads((run / "training.json").read_text())
    assert training["recalibration"]["method"] == "cox_cloglog"
    assert training["recalibration"]["slope"] > 0
    # Riley's time-to-event criteria, recorded as a binary run's (issue 16 item 6)
    small = training["small_data"]
    assert set(small) == RECORD_KEYS
    if not small["criteria_met"]:
        assert small["shrinkage"] == training["recalibration"]["slope"]
        assert small["method"] == SURVIVAL_METHOD
    # the report shows the verdict and the fairness table, in both languages
    report = (run / "validation_report.md").read_text(encoding="utf-8")
    assert "Acceptance criteria" in report and "Harrell's C, lower bound of the 95% CI" in report
    assert "C index difference" in report
    assert "Acceptkriterier" in (run / "validation_report.da.md").read_text(encoding="utf-8")

    # A criterion moved after the train stage fixed the plan is refused (one line, exit 2).
    config = survival_config()
    config["evaluation"]["acceptance"][0]["min"] = 0.4
    (survival_workspace / CONFIG).write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["evaluate", CONFIG, "--quiet"]) == 2
    _one_line_error(capsys, "evaluation.acceptance in the config differs")
    # So is the fixed plan itself, edited in the run directory.
    (survival_workspace / CONFIG).write_text(yaml.safe_dump(survival_config()), encoding="utf-8")
    plan["criteria"][0]["min"] = 0.4
    (run / "acceptance_plan.json").write_text(json.dumps(plan), encoding="utf-8")
    assert main(["evaluate", CONFIG, "--quiet"]) == 2
    _one_line_error(capsys, "acceptance_plan.json was edited after the train stage")


@pytest.mark.slow  # two tiny survival runs
def test_second_survival_run_is_compared_with_the_registered_version(
    survival_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", CONFIG, *RUN]) == 0
    assert main(["run", CONFIG, *RUN]) == 0
    first, second = _runs(survival_workspace)
    assert "comparison" not in json.loads((first / "survival_metrics.json").read_text())
    document = json.loads((second / "survival_metrics.json").read_text())
    schema = resources.files("clinai.reporting").joinpath("schemas/survival_metrics.schema.json")
    jsonschema.validate(document, json.loads(schema.read_text(encoding="utf-8")))
    comparison = document["comparison"]
    assert comparison["name"] == f"registered version {comparison['version']} (candidate)"
    for metric in ("harrell_c", "uno_c", "brier", "ipa"):
        row = comparison[metric]
        assert row["difference"]["estimate"] == pytest.approx(
            row["model"]["estimate"] - row["registered"]["estimate"]
        )
        assert row["difference"]["ci_low"] <= row["difference"]["estimate"]
    assert "registered version" in (second / "validation_report.md").read_text(encoding="utf-8")
