"""PHI guard: planted identifiers, names and dates of birth never reach any output."""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from clinai.cli import main
from tests.integration.conftest import CANARY_ID, FAST, FIXTURES, synthetic_frame

pytestmark = pytest.mark.integration
# The scans check that mlruns.db is among what the run wrote: no pre-made store.
FRESH_STORE = True


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
    # The version registered before the scan was deleted: a failed run leaves nothing registered.
    assert client.search_model_versions("name = 'tiny'") == []


def test_phi_column_must_exist(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "tiny.yaml", *FAST, "--set", "data.phi_columns=[surname]"]) == 2
    err = capsys.readouterr().err
    assert "'surname'" in err and "data.phi_columns" in err


def _integer_ids(workspace: Path, n: int = 1500) -> None:
    """Admission numbers 1..n as patient ids: every count of the reports is also an id."""
    frame = synthetic_frame(n=n)
    frame["patient"] = range(1, n + 1)
    frame.to_csv(workspace / "patients.csv", index=False)


def test_integer_patient_ids_pass_the_guard(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _integer_ids(workspace)
    assert main(["run", "tiny.yaml", *FAST]) == 0, capsys.readouterr().err
    (run,) = (workspace / "runs" / "tiny").glob("2*")
    assert (run / "audit.json").is_file()
    metrics = json.loads((run / "metrics.json").read_text())
    # The counts the old guard took for ids are in the outputs, and they are ids too.
    assert 1 <= metrics["n"] <= 1500
    assert f"{metrics['n']}" in (run / "validation_report.md").read_text()
    # Lineage (issue 13, 15f), checked on this run to save one: the clinai code and the
    # pipeline module that defines the outcome are identified in audit.json and the card.
    audit = json.loads((run / "audit.json").read_text())
    pipeline = FIXTURES / "tiny_pipeline.py"
    assert audit["pipeline"] == {
        "name": "tiny_pipeline",
        "sha256": hashlib.sha256(pipeline.read_bytes()).hexdigest(),
    }
    assert audit["code_version"]["clinai_version"] == metadata.version("clinai")
    assert len(audit["code_version"]["source_sha256"]) == 64
    card = (run / "model_card.md").read_text()
    assert "**Code version:** `clinai " in card
    sha = audit["pipeline"]["sha256"]
    assert f"\n- **Pipeline module (SHA-256):** `tiny_pipeline` `{sha}`\n" in card


def test_planted_integer_id_in_the_card_is_caught(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _integer_ids(workspace)
    from clinai.runs import _experiment

    original = _experiment.report

    def leaky_report(config: Any, run_dir: Any, **kwargs: Any) -> Any:
        audit = original(config, run_dir, **kwargs)
        card = run_dir.path / "model_card.md"
        card.write_text(card.read_text() + "\nExample: patient 1017 was flagged at 0.31.\n")
        return audit

    monkeypatch.setattr(_experiment, "report", leaky_report)
    assert main(["run", "tiny.yaml", *FAST]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: PHI guard: "), err
    assert "'model_card.md'" in err and "'patient'" in err and "after the word 'patient'" in err
    assert "1017" not in err
    assert list(workspace.rglob("audit.json")) == []
