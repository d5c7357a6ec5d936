"""The append-only audit log (runs/audit.jsonl) and `clinai audit verify`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from clinai.cli import main
from clinai.runs._audit import GENESIS, append_audit_record, verify_audit_log

pytestmark = pytest.mark.integration

FAST = ["--quiet", "--set", "tuning.n_trials=1", "--set", "evaluation.n_boot=10"]


def _log(tmp_path: Path, n: int = 4) -> Path:
    path = tmp_path / "runs" / "audit.jsonl"
    for i in range(n):
        append_audit_record(path, {"experiment": "x", "run_id": f"r{i}", "status": "finished"})
    return path


def _verify(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", "verify", str(path)])
    captured = capsys.readouterr()
    return code, (captured.err or captured.out).strip()


def test_chain_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _log(tmp_path)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["seq"] for r in records] == [1, 2, 3, 4]
    assert records[0]["prev_sha256"] == GENESIS
    assert {"who", "when", "sha256"} <= set(records[0])
    assert verify_audit_log(path) == 4
    code, out = _verify(path, capsys)
    assert code == 0 and "4 record(s)" in out


@pytest.mark.parametrize(
    ("tamper", "bad_line"),
    [
        ("edit", 2),
        ("edit_and_rehash", 3),
        ("delete", 2),
        ("delete_first", 1),
        ("reorder", 2),
        ("insert", 3),
        ("not_json", 4),
    ],
)
def test_tampering_is_detected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tamper: str, bad_line: int
) -> None:
    path = _log(tmp_path)
    lines = path.read_text().splitlines()
    if tamper == "edit":
        lines[1] = lines[1].replace('"status":"finished"', '"status":"accepted"')
    elif tamper == "edit_and_rehash":  # a forger who recomputes the record's own hash
        from clinai.runs._audit import _dumps, _record_sha256

        record = json.loads(lines[1])
        record["status"] = "accepted"
        record["sha256"] = _record_sha256(record)
        lines[1] = _dumps(record)
    elif tamper == "delete":
        del lines[1]
    elif tamper == "delete_first":
        del lines[0]
    elif tamper == "reorder":
        lines[1], lines[2] = lines[2], lines[1]
    elif tamper == "insert":
        lines.insert(2, lines[1])
    elif tamper == "not_json":
        lines[3] = lines[3][:-5]
    path.write_text("\n".join(lines) + "\n")
    code, err = _verify(path, capsys)
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert f"line {bad_line} " in err, err
    assert "Traceback" not in err


def test_missing_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _verify(tmp_path / "nope.jsonl", capsys)
    assert code == 2 and "nope.jsonl" in err


def test_runs_append_records(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    off = ["--set", "tracking.enabled=false"]
    assert main(["run", "tiny.yaml", *FAST, *off]) == 0
    frame = pd.read_csv(workspace / "patients.csv")
    frame["event"] = 0
    frame.to_csv(workspace / "patients.csv", index=False)
    assert main(["run", "tiny.yaml", *FAST, *off]) == 2
    capsys.readouterr()
    log = workspace / "runs" / "audit.jsonl"
    finished, failed = (json.loads(line) for line in log.read_text().splitlines())
    assert finished["status"] == "finished" and failed["status"] == "failed"
    assert finished["acceptance_verdict"] in {"accepted", "not accepted"}
    assert finished["registry_action"] == "none"
    assert len(finished["config_sha256"]) == 64 and len(finished["data_sha256"]) == 64
    assert "git_commit" in finished["code_version"]
    assert failed["error"] == "DataError" and failed["acceptance_verdict"] is None
    assert main(["audit", "verify"]) == 0
    assert "2 record(s)" in capsys.readouterr().out
