"""`clinai approve`: only a named reviewer's decision sets the `approved` alias (issue 13, 4)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from clinai.cli import main
from clinai.runs._approve import (
    NOT_ACCEPTED,
    NOT_REGISTERED,
    RUN_FAILED,
    RUN_INCOMPLETE,
    RUN_NOT_FOUND,
    SURVIVAL_NOT_APPROVABLE,
)
from clinai.runs._decision import BAD_DECISION, EMPTY_TEXT
from tests._helpers import ROOT

from .conftest import FAST

pytestmark = pytest.mark.integration

# A criterion the tiny synthetic model meets, so the verdict is "accepted".
EASY = [
    "--set",
    "evaluation.acceptance=[{name: discrimination, metric: auroc, statistic: estimate, min: 0.1}]",
]
REVIEW = ["--reviewer", "Jane Doe", "--role", "Chief Medical Officer"]


def _client(workspace: Path) -> Any:
    from mlflow import MlflowClient

    uri = f"sqlite:///{workspace / 'mlruns.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out.strip(), captured.err.strip()


def _aliases(workspace: Path) -> dict[str, Any]:
    return {k: str(v) for k, v in _client(workspace).get_registered_model("tiny").aliases.items()}


def test_approval_is_a_named_reviewers_decision(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "tiny.yaml", *FAST, *EASY]) == 0
    out = capsys.readouterr().out
    assert "acceptance: accepted" in out and "as @candidate" in out
    (run,) = [p for p in (workspace / "runs" / "tiny").iterdir() if p.is_dir()]
    # The automatic step: meets the criteria (tag, alias candidate), but is not approved.
    assert _aliases(workspace) == {"candidate": "1"}
    version = _client(workspace).get_model_version("tiny", "1")
    assert version.tags["meets_acceptance_criteria"] == "true"
    assert version.tags["approval.decision"] == "pending"
    pending = "Not yet approved: awaiting a named reviewer's decision (clinai approve)."
    for name in ("model_card.md", "model_card.html", "validation_report.md"):
        text = (run / name).read_text(encoding="utf-8").replace("&#39;", "'")
        assert pending in text, name
    assert "Endnu ikke godkendt" in (run / "model_card.da.md").read_text(encoding="utf-8")

    code, out, err = _cli(
        ["approve", str(run), *REVIEW, "--decision", "approve", "--comment", "Meets the plan."],
        capsys,
    )
    assert code == 0, err
    assert out.startswith("tiny v1: approve by Jane Doe") and "@approved" in out
    assert _aliases(workspace) == {"candidate": "1", "approved": "1"}
    tags = _client(workspace).get_model_version("tiny", "1").tags
    assert tags["approval.reviewer"] == "Jane Doe"
    assert tags["approval.role"] == "Chief Medical Officer"
    assert tags["approval.decision"] == "approve"
    assert tags["approval.comment"] == "Meets the plan."
    assert tags["approval.when"].startswith(datetime.now(UTC).strftime("%Y-%m-%d"))

    audit = json.loads((run / "audit.json").read_text())
    log = workspace / "runs" / "audit.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["kind"] for r in records] == ["run", "approval"]
    approval = records[-1]
    assert approval["reviewer"] == "Jane Doe" and approval["decision"] == "approve"
    assert approval["run_id"] == run.name and approval["version"] == "1"
    assert approval["config_sha256"] == audit["config_sha256"]
    assert approval["data_sha256"] == audit["data_sha256"]
    saved = json.loads((run / "approval.json").read_text())
    assert saved["evidence"]["config_sha256"] == audit["config_sha256"]
    assert saved["audit"]["seq"] == 2

    # The documents say who approved, when, and on which evidence; nothing else changed.
    date = saved["when"][:10]
    card = (run / "model_card.md").read_text(encoding="utf-8")
    assert f"Approved by Jane Doe (Chief Medical Officer) on {date}." in card
    assert pending not in card
    for needle in (run.name, audit["config_sha256"], audit["data_sha256"], "Meets the plan."):
        assert needle in card, needle
    report = (run / "validation_report.md").read_text(encoding="utf-8")
    assert f"Approved by Jane Doe (Chief Medical Officer) on {date}." in report
    assert audit["data_sha256"] in report
    assert "Approved by Jane Doe" in (run / "validation_report.html").read_text(encoding="utf-8")
    assert f"Godkendt af Jane Doe (Chief Medical Officer) den {date}." in (
        run / "model_card.da.md"
    ).read_text(encoding="utf-8")
    card_json = json.loads((run / "model_card.json").read_text())
    assert card_json["clinai"]["approval"]["reviewer"] == "Jane Doe"
    # audit.json still describes the run, with the hashes of the documents as they now are.
    after = json.loads((run / "audit.json").read_text())
    assert {k: v for k, v in after.items() if k != "outputs"} == {
        k: v for k, v in audit.items() if k != "outputs"
    }
    for name, digest in after["outputs"].items():
        assert hashlib.sha256((run / name).read_bytes()).hexdigest() == digest, name

    # The decision is anchored: the log verifies, and truncating it is caught.
    assert main(["audit", "verify"]) == 0
    assert "2 record(s)" in capsys.readouterr().out

    # A rejection removes `approved` from the version and says so in the documents.
    code, out, err = _cli(
        ["approve", run.name, *REVIEW, "--decision", "reject", "--comment", "Drift seen."], capsys
    )
    assert code == 0, err
    assert _aliases(workspace) == {"candidate": "1"}
    card = (run / "model_card.md").read_text(encoding="utf-8")
    assert "Rejected by Jane Doe (Chief Medical Officer)" in card and "Drift seen." in card
    log.write_text("".join(log.read_text().splitlines(keepends=True)[:2]))
    code, _, err = _cli(["audit", "verify"], capsys)
    assert code == 2 and "ends at line 2 but run tiny/" in err and "anchors line 3" in err


def _fake_run(workspace: Path, name: str, audit: dict[str, Any] | None) -> Path:
    run = workspace / "runs" / "tiny" / name
    run.mkdir(parents=True)
    if audit is not None:
        (run / "audit.json").write_text(json.dumps(audit))
    return run


#: A valid ``clinai approve`` of run r3, and what each refusal case changes in it.
VALID_APPROVAL = {
    "run": "runs/tiny/r3",
    "reviewer": "Jane Doe",
    "role": "CMO",
    "decision": "approve",
    "comment": "ok",
}
REFUSAL_INPUTS = {
    "empty_reviewer": {"reviewer": ""},
    "blank_role": {"role": "   "},
    "empty_comment": {"comment": ""},
    "bad_decision": {"decision": "maybe"},
    "unknown_run": {"run": "runs/tiny/nope"},
    "unknown_run_id": {"run": "nope"},
    "failed_run": {"run": "runs/tiny/r1.failed"},
    "failed_run_by_id": {"run": "r1"},
    "unfinished_run": {"run": "runs/tiny/r2"},
    "not_accepted": {"run": "runs/tiny/r4"},
    "survival_run": {"run": "runs/tiny/r5"},
}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("empty_reviewer", EMPTY_TEXT.split(":")[0].format(name="reviewer")),
        ("blank_role", EMPTY_TEXT.split(":")[0].format(name="role")),
        ("empty_comment", EMPTY_TEXT.split(":")[0].format(name="comment")),
        ("bad_decision", BAD_DECISION.format(valid=["approve", "reject"], got="maybe")),
        ("unknown_run", RUN_NOT_FOUND.format(run="runs/tiny/nope")),
        ("unknown_run_id", RUN_NOT_FOUND.format(run="nope")),
        ("failed_run", RUN_FAILED.split(" failed")[0].format(path="runs/tiny/r1.failed")),
        ("failed_run_by_id", RUN_FAILED.split(" failed")[0].format(path="runs/tiny/r1.failed")),
        ("unfinished_run", RUN_INCOMPLETE.format(path="runs/tiny/r2")),
        ("never_registered", NOT_REGISTERED.format(path="runs/tiny/r3")),
        ("not_accepted", NOT_ACCEPTED.format(path="runs/tiny/r4", verdict="not accepted")),
        # a survival run keeps no audit.json: it said the run "did not finish"
        ("survival_run", SURVIVAL_NOT_APPROVABLE.format(path="runs/tiny/r5")),
    ],
)
def test_refusals_are_one_line(
    workspace: Path, capsys: pytest.CaptureFixture[str], case: str, expected: str
) -> None:
    _fake_run(workspace, "r1.failed", None)
    _fake_run(workspace, "r2", None)
    _fake_run(workspace, "r3", {"registry": None, "acceptance_verdict": "accepted"})
    registry = {"model_name": "tiny", "version": "1", "alias": "candidate"}
    _fake_run(workspace, "r4", {"registry": registry, "acceptance_verdict": "not accepted"})
    survival = (ROOT / "configs" / "ami_1y_mortality.yaml").read_text("utf-8")
    (_fake_run(workspace, "r5", None) / "config.resolved.yaml").write_text(survival, "utf-8")
    given = {**VALID_APPROVAL, **REFUSAL_INPUTS.get(case, {})}
    args = ["approve", given["run"], "--reviewer", given["reviewer"], "--role", given["role"]]
    code, _, err = _cli(
        [*args, "--decision", given["decision"], "--comment", given["comment"]], capsys
    )
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert expected in err, err
    assert not (workspace / "runs" / "audit.jsonl").exists()  # nothing was recorded


def test_a_not_accepted_run_can_be_rejected(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hard = [
        "--set",
        "evaluation.acceptance=[{name: perfect, metric: auroc, statistic: ci_low, min: 0.999}]",
        "--set",
        "languages=[en]",  # the Danish documents are checked by the test above
    ]
    assert main(["run", "tiny.yaml", *FAST, *hard]) == 0
    (run,) = [p for p in (workspace / "runs" / "tiny").iterdir() if p.is_dir()]
    capsys.readouterr()
    version = _client(workspace).get_model_version("tiny", "1")
    assert version.tags["meets_acceptance_criteria"] == "false"
    approve = ["approve", str(run), *REVIEW, "--comment", "x"]
    code, _, err = _cli([*approve, "--decision", "approve"], capsys)
    assert code == 2 and "did not meet its pre-specified acceptance criteria" in err
    code, _, err = _cli([*approve, "--decision", "reject"], capsys)
    assert code == 0, err
    assert _client(workspace).get_registered_model("tiny").aliases == {"candidate": 1}
    assert "Rejected by Jane Doe" in (run / "model_card.md").read_text(encoding="utf-8")
