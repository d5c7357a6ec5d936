"""`clinai approve` of a `clinai update` folder: only a named reviewer's decision moves @approved
to the update's version (issue 15, item 4). Real SQLite MLflow store, real audit log."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from clinai.cli import main

from .test_update import _aliases, _client, _monitoring_folder, _predictions
from .test_update import approved as approved  # the fixture: tiny v1 trained and approved
from .test_update import trained_once as trained_once  # its session-wide template

pytestmark = pytest.mark.integration

REVIEW = ["--reviewer", "Jane Doe", "--role", "CMO", "--comment", "Validated on 2025-04."]


def _log(workspace: Path) -> list[dict[str, object]]:
    lines = (workspace / "runs" / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture
def update_folder(approved: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The folder `clinai update` wrote for a recalibration registered as tiny v2 (@candidate)."""
    folder = _monitoring_folder(approved, _predictions(approved)[0], "m1")
    assert main(["update", "tiny.yaml", "--monitoring", str(folder), "--quiet"]) == 0
    capsys.readouterr()
    assert _aliases(approved) == {"approved": "1", "candidate": "2"}
    return folder / "update"


def test_approving_an_update_moves_approved_to_its_version(
    update_folder: Path, approved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["approve", str(update_folder), *REVIEW, "--decision", "approve"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("tiny v2: approve by Jane Doe") and "@approved" in out
    assert _aliases(approved) == {"approved": "2", "candidate": "2"}
    # The version approved before keeps its number (and its own approval).
    versions = {str(v.version): v for v in _client(approved).search_model_versions("name='tiny'")}
    assert sorted(versions) == ["1", "2"]
    assert versions["1"].tags["approval.decision"] == "approve"
    assert versions["2"].tags["approval.decision"] == "approve"
    assert versions["2"].tags["approval.reviewer"] == "Jane Doe"

    change_log = hashlib.sha256((update_folder / "change_log.md").read_bytes()).hexdigest()
    update = hashlib.sha256((update_folder / "update.json").read_bytes()).hexdigest()
    saved = json.loads((update_folder / "approval.json").read_text(encoding="utf-8"))
    assert saved["decision"] == "approve" and saved["reviewer"] == "Jane Doe"
    evidence = saved["evidence"]
    assert (evidence["version"], evidence["base_version"]) == ("2", "1")
    assert evidence["change_log_sha256"] == change_log
    assert evidence["update_sha256"] == update
    records = _log(approved)
    assert [r["kind"] for r in records] == ["run", "approval", "update", "approval"]
    last = records[-1]
    assert (last["version"], last["base_version"], last["decision"]) == ("2", "1", "approve")
    assert last["change_log_sha256"] == change_log and saved["audit"]["seq"] == last["seq"]
    anchors = json.loads((update_folder / "audit_anchor.json").read_text(encoding="utf-8"))
    assert [a["kind"] for a in anchors] == ["update", "approval"]
    assert anchors[-1]["sha256"] == last["sha256"]
    assert main(["audit", "verify"]) == 0, capsys.readouterr().err


def test_rejecting_an_update_leaves_approved_where_it_is(
    update_folder: Path, approved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["approve", str(update_folder), *REVIEW, "--decision", "reject"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("tiny v2: reject by Jane Doe") and "@approved" not in out
    assert _aliases(approved) == {"approved": "1", "candidate": "2"}
    assert _client(approved).get_model_version("tiny", "2").tags["approval.decision"] == "reject"
    saved = json.loads((update_folder / "approval.json").read_text(encoding="utf-8"))
    assert saved["decision"] == "reject" and saved["evidence"]["base_version"] == "1"
    assert _log(approved)[-1]["decision"] == "reject"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("edited update.json", "was edited after `clinai update` wrote it (sha256 differs"),
        ("no change log", "has no change_log.md"),
        ("deleted version", "version 2 of update"),
    ],
)
def test_a_changed_update_is_refused_and_nothing_is_recorded(
    update_folder: Path,
    approved: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    expected: str,
) -> None:
    if case == "edited update.json":
        path = update_folder / "update.json"
        record = json.loads(path.read_text(encoding="utf-8"))
        record["validation"]["n"] += 1
        path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    elif case == "no change log":
        (update_folder / "change_log.md").unlink()
    else:
        _client(approved).delete_model_version("tiny", "2")
    before = _aliases(approved)
    records = len(_log(approved))
    code = main(["approve", str(update_folder), *REVIEW, "--decision", "approve"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and expected in err, err
    assert _aliases(approved) == before
    assert len(_log(approved)) == records
    assert not (update_folder / "approval.json").exists()
