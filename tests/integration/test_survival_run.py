"""``clinai run`` of a survival config: every stage, MLflow registration, reports and card."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from clinai.cli import main
from tests._helpers import ROOT

pytestmark = pytest.mark.integration

CONFIG = ROOT / "configs" / "ami_1y_mortality.yaml"


@pytest.fixture
def survival_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the survival config; stores (MLflow, Optuna, runs) inside it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("CLINAI_PIPELINES_PATH", str(ROOT / "pipelines"))
    shutil.copyfile(CONFIG, tmp_path / CONFIG.name)
    return tmp_path


def _edit(path: Path, **changes: object) -> None:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config.update(changes)
    path.write_text(yaml.safe_dump(config), encoding="utf-8")


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"models": ["logistic"]}, "models: 'logistic' is not a survival model family"),
        ({"outcome": {"type": "survival", "horizons": []}}, "outcome.horizons must list"),
        ({"outcome": {"type": "survival", "horizons": [-5]}}, "outcome.horizons must be positive"),
    ],
)
def test_bad_survival_config_stops_before_anything_is_written(
    survival_workspace: Path, capsys: pytest.CaptureFixture[str], changes: dict, needle: str
) -> None:
    _edit(survival_workspace / CONFIG.name, **changes)
    assert main(["run", CONFIG.name, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not (survival_workspace / "runs").exists()


@pytest.mark.slow  # two families tuned, a bootstrap and PDFs: about a minute on 2 cores
def test_survival_run_end_to_end(
    survival_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # two workers share each family's study (a survival run used to tune in one process
    # while training.json said two)
    args = ["--set", "tuning.n_trials=3", "--set", "evaluation.n_boot=50", "--quiet"]
    args += ["--workers", "2"]
    assert main(["run", CONFIG.name, *args]) == 0
    line = capsys.readouterr().out
    assert "Harrell's C" in line and "at 365: O/E" in line and "calibration slope" in line
    assert "registered ami_1y_mortality v1 as @candidate" in line
    (run,) = [p for p in (survival_workspace / "runs" / "ami_1y_mortality").iterdir() if p.is_dir()]

    manifest = json.loads((run / "data_manifest.json").read_text())
    assert manifest["n"] == 500 and manifest["events"] == 215  # nobody dropped
    assert manifest["outcome"]["horizons"] == [365.0]
    split = manifest["split"]
    # stratified by the event: the death share is the same on both sides (to a patient)
    assert abs(split["events_train"] / split["n_train"] - 215 / 500) < 0.01
    assert abs(split["events_test"] / split["n_test"] - 215 / 500) < 0.01

    training = json.loads((run / "training.json").read_text())
    assert training["outcome"] == {"type": "survival", "horizons": [365.0]}
    assert training["selected"] in {"cox_net", "gradient_boosted_survival"}
    assert {c["family"] for c in training["candidates"]} == {
        "cox_net",
        "gradient_boosted_survival",
    }
    assert training["tuning"]["workers"] == 2
    assert [c["n_trials_completed"] for c in training["candidates"]] == [3, 3]
    import optuna

    storage = f"sqlite:///{survival_workspace / 'optuna.db'}"
    for candidate in training["candidates"]:
        study = optuna.load_study(study_name=candidate["study_name"], storage=storage)
        assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3  # the budget, exactly

    metrics = json.loads((run / "survival_metrics.json").read_text())
    assert metrics["schema"] == "clinai.survival_metrics/1"
    assert metrics["horizon"] == 365.0 and metrics["n"] == split["n_test"]
    c_index = metrics["metrics"]["harrell_c"]
    assert 0.65 < c_index["estimate"] < 0.95 and c_index["ci_low"] < c_index["estimate"]
    assert 0.6 < metrics["metrics"]["oe_ratio"]["estimate"] < 1.6
    for name in ("validation_report.html", "validation_report.da.md", "model_card.md"):
        assert (run / name).is_file(), name
    card = (run / "model_card.da.md").read_text(encoding="utf-8")
    assert "Af 100 patienter" in card and "Harrells C" in card

    # The saved model answers predict_proba with the risk by the first horizon.
    from clinai import models
    from clinai.runs._prepare import read_split
    from clinai.runs._rundir import RunDir
    from clinai.tracking import load_model_dir

    model = load_model_dir(run / "model")
    X, *_ = read_split(RunDir(run), "test")
    assert "__time__" not in X.columns
    proba = model.predict_proba(models.synthetic_input_example(X))
    assert proba.shape[1] == 2 and ((proba >= 0) & (proba <= 1)).all()
