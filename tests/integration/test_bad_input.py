"""Bad input stops with one line naming the field or column, exit 2, no complete-looking run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from clinai.cli import main

pytestmark = pytest.mark.integration


def _set_config(workspace: Path, **changes: object) -> None:
    path = workspace / "tiny.yaml"
    config = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        node = config
        *parents, leaf = dotted.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    path.write_text(yaml.safe_dump(config))


def _assert_clean_failure(
    capsys: pytest.CaptureFixture[str], workspace: Path, *needles: str
) -> None:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    complete = (
        [p for p in (workspace / "runs").rglob("audit.json")]
        if (workspace / "runs").exists()
        else []
    )
    assert complete == []


def test_unknown_config_key(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _set_config(workspace, evaluation__n_bootstrap=10)
    assert main(["run", "tiny.yaml", "--quiet"]) == 2
    _assert_clean_failure(capsys, workspace, "evaluation.n_bootstrap", "did you mean 'n_boot'")
    assert not (workspace / "runs").exists()


def test_zero_trial_budget(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "tiny.yaml", "--quiet", "--set", "tuning.n_trials=0"]) == 2
    _assert_clean_failure(capsys, workspace, "tuning.n_trials")


def test_missing_column(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = pd.read_csv(workspace / "patients.csv").drop(columns=["lactate"])
    frame.to_csv(workspace / "patients.csv", index=False)
    assert main(["run", "tiny.yaml", "--quiet"]) == 2
    _assert_clean_failure(capsys, workspace, "lactate")


def test_missing_patient_id_column(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _set_config(workspace, data__patient_id="mrn")
    assert main(["run", "tiny.yaml", "--quiet"]) == 2
    _assert_clean_failure(capsys, workspace, "'mrn'")


def test_one_class_outcome_marks_mlflow_run_failed(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_csv(workspace / "patients.csv")
    frame["event"] = 0
    frame.to_csv(workspace / "patients.csv", index=False)
    assert main(["run", "tiny.yaml", "--quiet"]) == 2
    _assert_clean_failure(capsys, workspace, "one class")
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{workspace / 'mlruns.db'}")
    experiment = client.get_experiment_by_name("tiny")
    statuses = [r.info.status for r in client.search_runs([experiment.experiment_id])]
    assert statuses == ["FAILED"]
    failed = list((workspace / "runs" / "tiny").glob("*.failed"))
    assert len(failed) == 1 and (failed[0] / "error.txt").is_file()


def test_empty_cohort(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = pd.read_csv(workspace / "patients.csv")
    frame["age"] = 10  # every patient is excluded as under 18
    frame.to_csv(workspace / "patients.csv", index=False)
    assert main(["run", "tiny.yaml", "--quiet"]) == 2
    _assert_clean_failure(capsys, workspace, "no patients left", "exclusions")


def test_unreadable_file(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workspace / "patients.csv").write_bytes(b"PK\x03\x04" + b"\x00" * 64)  # an xlsx named .csv
    assert main(["run", "tiny.yaml", "--quiet"]) == 2
    _assert_clean_failure(capsys, workspace, "patients.csv")


def test_missing_file(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workspace / "patients.csv").unlink()
    assert main(["run", "tiny.yaml", "--quiet"]) == 2
    _assert_clean_failure(capsys, workspace, "patients.csv")


def test_missing_file_is_named_by_its_absolute_path(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The error said "data file 'patients.csv' not found", not where it looked."""
    (workspace / "patients.csv").unlink()
    assert main(["run", "tiny.yaml", "--quiet"]) == 2
    _assert_clean_failure(capsys, workspace, str((workspace / "patients.csv").resolve()))


def test_data_path_is_read_from_the_config_folder(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config and its data moved together into a folder work from any current folder."""
    project = workspace / "my_case"
    project.mkdir()
    for name in ("tiny.yaml", "patients.csv"):
        (workspace / name).rename(project / name)
    assert main(["check-data", "my_case/tiny.yaml"]) == 0, capsys.readouterr().err
    assert "not found" not in capsys.readouterr().err


def test_unknown_model_and_pipeline(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "tiny.yaml", "--quiet", "--set", "models=[xgb]"]) == 2
    _assert_clean_failure(capsys, workspace, "xgb", "get_model_names")
    assert main(["run", "tiny.yaml", "--quiet", "--set", "pipeline=no_such_case"]) == 2
    _assert_clean_failure(capsys, workspace, "no_such_case")


def test_missing_config_file(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "nope.yaml"]) == 2
    _assert_clean_failure(capsys, workspace, "nope.yaml")


def test_debug_shows_the_traceback(workspace: Path) -> None:
    from clinai.exceptions import ConfigError

    with pytest.raises(ConfigError):
        main(["--debug", "run", "nope.yaml"])
