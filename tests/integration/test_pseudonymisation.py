"""Pseudonymisation in a whole run: a required key must be set, and it never leaks.

Unit tests of the HMAC itself are in tests/data/test_privacy.py; these tests run the
CLI on the tiny synthetic use case with a real MLflow SQLite store.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from clinai.cli import main
from clinai.data import PSEUDONYM_KEY_ENV, pseudonymise
from clinai.data._privacy import KEY_NOT_SET

from .conftest import CANARY_ID, FAST

pytestmark = pytest.mark.integration
# The key scan checks that mlruns.db is among what the run wrote: no pre-made store.
FRESH_STORE = True

SECRET = "Zk9-pseudonym-secret-4b1d7e0c93a2"


def _require(workspace: Path) -> None:
    config = yaml.safe_load((workspace / "tiny.yaml").read_text())
    config["data"]["require_pseudonymisation"] = True
    config["languages"] = ["en"]
    (workspace / "tiny.yaml").write_text(yaml.safe_dump(config))


@pytest.mark.parametrize(
    "command",
    [["run", "tiny.yaml", "--quiet"], ["prepare", "tiny.yaml"], ["check-data", "tiny.yaml"]],
)
def test_required_key_missing_stops_with_one_line(
    command: list[str],
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _require(workspace)
    monkeypatch.delenv(PSEUDONYM_KEY_ENV, raising=False)
    assert main(command) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [f"error: {KEY_NOT_SET}"]
    assert "Traceback" not in captured.out + captured.err
    assert list(workspace.rglob("audit.json")) == []
    assert list(workspace.rglob("*.parquet")) == []  # no patient-level file was written


def _encodings(secret: str) -> list[bytes]:
    raw = secret.encode("utf-8")
    return [raw, raw.hex().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw)]


@pytest.mark.slow  # a whole run with MLflow: 20-60 s on a shared 2-core machine
def test_key_never_reaches_run_directory_mlflow_or_logs(
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _require(workspace)
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, SECRET)
    caplog.set_level("DEBUG")
    assert main(["run", "tiny.yaml", *FAST]) == 0
    captured = capsys.readouterr()
    inputs = {workspace / "patients.csv", workspace / "tiny.yaml"}
    outputs = [p for p in workspace.rglob("*") if p.is_file() and p not in inputs]
    assert any(p.name == "mlruns.db" for p in outputs)
    assert any("mlartifacts" in p.parts or "artifacts" in p.parts for p in outputs)
    assert any(p.name == "validation_report.html" for p in outputs)

    logs = captured.out + captured.err + caplog.text
    for needle in _encodings(SECRET):
        assert needle.decode() not in logs
        leaking = [str(p.relative_to(workspace)) for p in outputs if needle in p.read_bytes()]
        assert leaking == [], (needle, leaking)

    # The configured key was used: the stored pseudonyms are the keyed HMAC of the ids.
    run_dir = next(p.parent for p in outputs if p.name == "predictions.parquet")
    manifest = json.loads((run_dir / "data_manifest.json").read_text())
    assert manifest["pseudonym_key"] == "configured"
    stored = set(pd.read_parquet(run_dir / "predictions.parquet")["patient"])
    ids = pd.read_csv(workspace / "patients.csv")["patient"].astype(str)
    expected = set(pseudonymise(ids, key=SECRET.encode("utf-8")))
    assert stored and stored <= expected
    assert not any(CANARY_ID in str(value) for value in stored)
    # The prepare stage's data checks reach the validation report.
    assert (run_dir / "data_quality.json").is_file()
    assert 'id="data-quality"' in (run_dir / "validation_report.html").read_text()
