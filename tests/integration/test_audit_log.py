"""The append-only audit log (runs/audit.jsonl) and `clinai audit verify`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from clinai.cli import main
from clinai.runs._audit import (
    ANCHOR_FILE,
    GENESIS,
    TRUNCATED,
    AuditLogError,
    anchor_of,
    anchor_tags,
    append_anchored_record,
    append_audit_record,
    verify_audit_log,
    write_anchor,
)

from .conftest import FAST

pytestmark = pytest.mark.integration


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
    off = ["--set", "tracking.enabled=false", "--set", "languages=[en]"]  # no Danish needed
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
    # Both runs anchor their record in their directory, the failed one too.
    (ok,) = [p for p in (workspace / "runs" / "tiny").iterdir() if (p / "audit.json").is_file()]
    (bad,) = (workspace / "runs" / "tiny").glob("*.failed")
    assert json.loads((ok / ANCHOR_FILE).read_text())[0]["seq"] == 1
    assert json.loads((bad / ANCHOR_FILE).read_text())[0]["seq"] == 2
    # Deleting the last line is no longer unnoticed.
    log.write_text(log.read_text().splitlines()[0] + "\n")
    assert main(["audit", "verify"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"ends at line 1 but run tiny/{bad.name} anchors line 2: lines were removed" in err


def _anchored_log(tmp_path: Path, n: int = 3) -> Path:
    """A log of ``n`` records, each anchored in its own run directory beside it."""
    path = tmp_path / "runs" / "audit.jsonl"
    for i in range(n):
        record = append_audit_record(path, {"experiment": "x", "run_id": f"r{i}"})
        write_anchor(tmp_path / "runs" / "x" / f"r{i}", anchor_of(path, record), kind="run")
    return path


def test_append_anchored_record_writes_the_record_then_its_anchor(tmp_path: Path) -> None:
    runs, run = tmp_path / "runs", tmp_path / "runs" / "x" / "r0"
    record, anchor = append_anchored_record(
        runs, {"experiment": "x", "run_id": "r0"}, run_path=run, kind="approval"
    )
    assert anchor == anchor_of(runs / "audit.jsonl", record) and anchor["seq"] == 1
    assert json.loads((run / ANCHOR_FILE).read_text()) == [{"kind": "approval", **anchor}]
    _, second = append_anchored_record(runs, {"run_id": "r1"}, run_path=None, kind="run")
    assert second["seq"] == 2 and second["chain"] == anchor["chain"]
    assert len(json.loads((run / ANCHOR_FILE).read_text())) == 1  # no run_path: no anchor
    assert verify_audit_log(runs / "audit.jsonl") == 2


def test_truncation_is_detected_by_run_anchors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _anchored_log(tmp_path)
    assert verify_audit_log(path) == 3
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")  # the last line removed
    code, err = _verify(path, capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert err == "error: " + TRUNCATED.format(path=path, count=2, source="run x/r2", seq=3)
    path.write_text("")  # every line removed
    with pytest.raises(AuditLogError, match="ends at line 0 but run x/r2 anchors line 3"):
        verify_audit_log(path)


def test_rewritten_tail_is_detected(tmp_path: Path) -> None:
    path = _anchored_log(tmp_path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")
    # A forger appends a new, validly chained third record in place of the removed one.
    append_audit_record(path, {"experiment": "x", "run_id": "forged"})
    with pytest.raises(AuditLogError, match="line 3 is not the record run x/r2 anchors"):
        verify_audit_log(path)


def test_damaged_anchor_file(tmp_path: Path) -> None:
    path = _anchored_log(tmp_path, n=1)
    (tmp_path / "runs" / "x" / "r0" / ANCHOR_FILE).write_text('{"seq": "1"}')
    with pytest.raises(AuditLogError, match=r"audit anchor .* is not a JSON list"):
        verify_audit_log(path)


def test_truncation_is_detected_by_mlflow_tags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run directories may be gone; the anchors in MLflow's run tags remain."""
    from clinai.tracking import MlflowTracker

    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
    path = tmp_path / "runs" / "audit.jsonl"
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"  # found beside the log's folder
    tracker = MlflowTracker(uri, "x")
    for i in range(2):
        record = append_audit_record(path, {"experiment": "x", "run_id": f"r{i}"})
        with tracker.run(f"r{i}"):
            tracker.set_run_tags(anchor_tags(anchor_of(path, record)))
    # An anchor of another log (another first record) in the same store is not this log's.
    other = tmp_path / "elsewhere" / "audit.jsonl"
    for i in range(5):
        record = append_audit_record(other, {"experiment": "x", "run_id": f"o{i}"})
    with tracker.run("other"):
        tracker.set_run_tags(anchor_tags(anchor_of(other, record)))
    assert verify_audit_log(path) == 2
    path.write_text(path.read_text().splitlines()[0] + "\n")
    code, err = _verify(path, capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert "ends at line 1 but MLflow run r1 (" in err and "anchors line 2" in err
    # Without the store, nothing outside the file anchors it.
    assert verify_audit_log(path, find_tracking=False) == 1
