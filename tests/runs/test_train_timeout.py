"""training.json records, per model family, whether tuning's safety timeout fired."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from clinai.config import parse_config
from clinai.runs._prepare import prepare
from clinai.runs._rundir import resolve_run_dir
from clinai.runs._train import train
from tests.integration.conftest import FIXTURES, synthetic_frame, tiny_config

pytest.importorskip("optuna")


def _train(tmp_path: Path, tuning: dict[str, Any]) -> dict[str, Any]:
    config = parse_config(tiny_config(test_size=0.25, tuning={"cv_folds": 3, **tuning}))
    run_dir = resolve_run_dir(tmp_path / "runs", "tiny", None, create=True)
    prepare(config, run_dir)
    summary = train(config, run_dir, show_progress=False)
    on_disk = json.loads((run_dir.path / "training.json").read_text("utf-8"))
    assert on_disk == json.loads(json.dumps(summary))
    return on_disk


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLINAI_PIPELINES_PATH", str(FIXTURES))
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # lock files land here
    synthetic_frame(n=120).to_csv(tmp_path / "patients.csv", index=False)
    return tmp_path


def test_a_timeout_that_fired_is_in_training_json(workspace: Path) -> None:
    training = _train(workspace, {"n_trials": 5, "timeout_s": 1e-9})
    (candidate,) = training["candidates"]
    assert candidate["timeout_fired"] is True
    assert candidate["n_trials_completed"] == 1 < training["tuning"]["n_trials"] == 5
    assert training["tuning"]["timeout_fired"] is True
    assert not list((workspace / "tmp").glob("clinai-optuna-*.lock"))


def test_a_generous_timeout_lets_n_trials_bind(workspace: Path) -> None:
    training = _train(workspace, {"n_trials": 3})
    (candidate,) = training["candidates"]
    assert candidate["timeout_fired"] is False
    assert candidate["n_trials_completed"] == 3
    assert candidate["n_trials_failed"] == 0
    assert training["tuning"] == {**training["tuning"], "timeout_s": 3600.0, "timeout_fired": False}
    assert not list((workspace / "tmp").glob("clinai-optuna-*.lock"))
