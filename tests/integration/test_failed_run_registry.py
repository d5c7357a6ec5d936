"""A failed run leaves nothing in the model registry (issue 13, item 3).

The version is registered before the report (the card names it); every later
failure (the PHI guard, the audit log, logging artifacts) must delete it again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from clinai.cli import main

from .conftest import FAST

pytestmark = pytest.mark.integration


def _client(workspace: Path) -> Any:
    from mlflow import MlflowClient

    uri = f"sqlite:///{workspace / 'mlruns.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _registered(workspace: Path) -> list[Any]:
    from mlflow.exceptions import MlflowException

    client = _client(workspace)
    try:
        client.get_registered_model("tiny")
    except MlflowException:
        return []
    return list(client.search_model_versions("name = 'tiny'")) or ["model without versions"]


def test_phi_leak_after_registration_leaves_no_version(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real leak: a pipeline that puts a patient's name into the use-case texts of the card."""
    frame = pd.read_csv(workspace / "patients.csv")
    frame["name"] = [f"Canaryname Zq{i:04d}x" for i in range(len(frame))]
    frame.to_csv(workspace / "patients.csv", index=False)
    config = yaml.safe_load((workspace / "tiny.yaml").read_text())
    config["data"]["phi_columns"] = ["name"]
    config["languages"] = ["en"]
    # The description is copied into the card: a user pasting a patient's name there.
    config["description"] = f"Checked against the chart of {frame['name'][3]}."
    (workspace / "tiny.yaml").write_text(yaml.safe_dump(config))
    assert main(["run", "tiny.yaml", *FAST]) == 2
    err = capsys.readouterr().err
    assert "PHI guard" in err and "'name'" in err
    assert len(list((workspace / "runs" / "tiny").glob("*.failed"))) == 1
    # The model was registered before the PHI guard ran (version 1), and deleted again.
    assert _registered(workspace) == []
    (parent,) = _client(workspace).search_runs(
        [_client(workspace).get_experiment_by_name("tiny").experiment_id],
        filter_string="tags.`clinai.kind` = 'run'",
    )
    assert parent.info.status == "FAILED"


def test_audit_failure_after_registration_leaves_no_version(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The audit record is the last step of a run: if it cannot be written, nothing stays."""
    (workspace / "runs" / "audit.jsonl").mkdir(parents=True)  # cannot be appended to
    assert main(["run", "tiny.yaml", *FAST]) != 0
    capsys.readouterr()
    assert len(list((workspace / "runs" / "tiny").glob("*.failed"))) == 1
    assert _registered(workspace) == []
