"""PHI guard: planted identifiers, names and dates of birth never reach any output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from clinai.cli import main
from tests.integration.conftest import CANARY_ID

pytestmark = pytest.mark.integration

FAST = ["--quiet", "--set", "tuning.n_trials=1", "--set", "evaluation.n_boot=10"]


def _plant(workspace: Path) -> tuple[list[str], list[str]]:
    """Add canary names and dates of birth to the data; name them in data.phi_columns."""
    frame = pd.read_csv(workspace / "patients.csv")
    names = [f"Canaryname Zq{i:04d}x" for i in range(len(frame))]
    dobs = [f"1907-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(len(frame))]
    frame["name"] = names
    frame["dob"] = dobs
    frame.to_csv(workspace / "patients.csv", index=False)
    config = yaml.safe_load((workspace / "tiny.yaml").read_text())
    config["data"]["phi_columns"] = ["name", "dob"]
    config["languages"] = ["en"]
    (workspace / "tiny.yaml").write_text(yaml.safe_dump(config))
    return names, sorted(set(dobs))


def _outputs(workspace: Path) -> list[Path]:
    """Every file clinai wrote: run directories, MLflow and Optuna stores, artifacts."""
    inputs = {workspace / "patients.csv", workspace / "tiny.yaml"}
    return [p for p in workspace.rglob("*") if p.is_file() and p not in inputs]


def test_no_canary_appears_anywhere(
    workspace: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    _, dobs = _plant(workspace)
    caplog.set_level("DEBUG")
    assert main(["run", "tiny.yaml", *FAST]) == 0
    captured = capsys.readouterr()
    outputs = _outputs(workspace)
    assert any(p.name == "model_card.md" for p in outputs)
    assert any(p.name == "mlruns.db" for p in outputs)
    canaries = [CANARY_ID, "Canaryname", *dobs]
    logs = captured.out + captured.err + caplog.text
    for canary in canaries:
        assert canary not in logs, canary
        needle = canary.encode("utf-8")
        leaking = [str(p.relative_to(workspace)) for p in outputs if needle in p.read_bytes()]
        assert leaking == [], (canary, leaking)


def test_leaking_output_fails_the_run(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    names, _ = _plant(workspace)
    from clinai.runs import _experiment

    original = _experiment.report

    def leaky_report(config: Any, run_dir: Any, **kwargs: Any) -> Any:
        audit = original(config, run_dir, **kwargs)
        (run_dir.path / "notes.md").write_text(f"Patient {names[7]} was interesting.\n")
        return audit

    monkeypatch.setattr(_experiment, "report", leaky_report)
    assert main(["run", "tiny.yaml", *FAST]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: PHI guard: "), err
    assert "'notes.md'" in err and "'name'" in err
    assert names[7] not in err and "Canaryname" not in err
    assert list(workspace.rglob("audit.json")) == []
    failed = list((workspace / "runs" / "tiny").glob("*.failed"))
    assert len(failed) == 1 and (failed[0] / "error.txt").is_file()
    assert "Canaryname" not in (failed[0] / "error.txt").read_text()
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{workspace / 'mlruns.db'}")
    experiment = client.get_experiment_by_name("tiny")
    assert experiment is not None
    parents = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`clinai.kind` = 'run'"
    )
    assert [r.info.status for r in parents] == ["FAILED"]
    # Nothing of the run directory reached MLflow's artifact store.
    assert not [p for p in (workspace / "mlartifacts").rglob("notes.md")]
    # The version registered before the scan serves under no alias and is tagged withdrawn.
    (version,) = client.search_model_versions("name = 'tiny'")
    assert version.aliases == []
    assert version.tags["clinai.withdrawn"] == "PhiLeakError"


def test_phi_column_must_exist(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "tiny.yaml", *FAST, "--set", "data.phi_columns=[surname]"]) == 2
    err = capsys.readouterr().err
    assert "'surname'" in err and "data.phi_columns" in err
