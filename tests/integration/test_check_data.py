"""`clinai check-data CONFIG` and the data_quality.json of the prepare stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from clinai.cli import main

from .conftest import CANARY_ID, synthetic_frame

pytestmark = pytest.mark.integration


def _checks(payload: dict) -> dict[tuple[str, str | None], dict]:
    return {(c["name"], c["column"]): c for c in payload["checks"]}


def test_check_data_passes_prints_a_table_and_writes_json(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check-data", "tiny.yaml", "--out", "dq.json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Data checks of tiny" in captured.out
    assert "outcome_prevalence" in captured.out
    payload = json.loads((workspace / "dq.json").read_text())
    assert payload["experiment"] == "tiny"
    assert payload["status"] == "pass"
    checks = _checks(payload)
    assert checks[("split_overlap", "patient")]["status"] == "pass"
    assert checks[("duplicate_ids", "patient")]["status"] == "pass"
    assert checks[("type", "lactate")]["status"] == "pass"
    prevalence = checks[("outcome_prevalence", "outcome")]
    frame = synthetic_frame()
    assert prevalence["count"] == int(frame.loc[frame["age"] >= 18, "event"].sum())
    assert CANARY_ID not in (workspace / "dq.json").read_text()
    assert CANARY_ID not in captured.out + captured.err
    assert not (workspace / "runs").exists()  # check-data writes no run directory


def test_check_data_without_out_prints_only(workspace: Path) -> None:
    before = {p.name for p in workspace.iterdir()}
    assert main(["check-data", "tiny.yaml", "--set", "split.test_size=0.25"]) == 0
    assert {p.name for p in workspace.iterdir()} == before


def test_failing_check_exits_2_after_writing_the_report(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = synthetic_frame()
    frame["patient"] = [f"{CANARY_ID}-{i // 2:04d}" for i in range(len(frame))]
    frame.to_csv(workspace / "patients.csv", index=False)
    code = main(["check-data", "tiny.yaml", "--set", "split.method=stratified", "--out", "q.json"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.strip().splitlines() == [
        "error: data check duplicate_ids failed for column 'patient': 150 row(s) repeat an "
        "identifier: remove the duplicates, or keep each identifier's rows together "
        "(split.method: grouped)"
    ]
    payload = json.loads((workspace / "q.json").read_text())
    assert payload["status"] == "fail"
    assert _checks(payload)[("split_overlap", "patient")]["status"] == "fail"
    assert CANARY_ID not in (workspace / "q.json").read_text() + captured.out


def test_prevalence_outside_the_band_is_a_warning_not_a_failure(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = synthetic_frame()
    frame["event"] = (frame.index % 4 != 0).astype(int)  # 75 % events
    frame.to_csv(workspace / "patients.csv", index=False)
    assert main(["check-data", "tiny.yaml", "--out", "q.json"]) == 0
    payload = json.loads((workspace / "q.json").read_text())
    assert payload["status"] == "warn"
    assert _checks(payload)[("outcome_prevalence", "outcome")]["status"] == "warn"
    assert "warn" in capsys.readouterr().out


def test_prepare_writes_data_quality_json(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = yaml.safe_load((workspace / "tiny.yaml").read_text())
    config["tracking"] = {"enabled": False}
    (workspace / "tiny.yaml").write_text(yaml.safe_dump(config))
    assert main(["prepare", "tiny.yaml"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    payload = json.loads((run_dir / "data_quality.json").read_text())
    assert payload["schema_version"] == 1
    assert payload["status"] == "pass"
    assert payload["n_rows"] == json.loads((run_dir / "data_manifest.json").read_text())["n"]
    assert CANARY_ID not in (run_dir / "data_quality.json").read_text()
