"""The bad-input corpus: every case in ``cases.yaml`` stops cleanly with exit code 2.

Each case mutates the tiny synthetic workspace (config or data), runs the CLI
in-process and checks the contract of DESIGN.md: exit code 2, exactly one
stderr line starting with ``error: `` that names the field, column or file,
no traceback, and no run directory that looks complete (no ``audit.json``).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from clinai.cli import main
from tests.integration.conftest import FIXTURES, synthetic_frame, tiny_config

CASES_FILE = Path(__file__).with_name("cases.yaml")
CASES: list[dict[str, Any]] = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
CONFIG = "tiny.yaml"
DATA = "patients.csv"


def base_config() -> dict[str, Any]:
    """The tiny workspace's config (as in tests/integration/conftest.py), cheapest budget."""
    return tiny_config(
        data=DATA,
        tuning={"n_trials": 1, "timeout_s": 60, "cv_folds": 3},
        evaluation={
            "n_boot": 10,
            "thresholds": [0.2],
            "sensitive_attributes": ["sex"],
            "shap_background": 10,
            "shap_max_rows": 20,
            "acceptance": [
                {"name": "discrimination", "metric": "auroc", "statistic": "ci_low", "min": 0.5}
            ],
        },
        tracking={"enabled": False},
        languages=["en"],
    )


def _set(config: dict[str, Any], dotted: str, value: Any) -> None:
    node = config
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value


def _excel_bytes(frame: pd.DataFrame) -> bytes:
    """A zip container like an .xlsx workbook (what Excel's 'Save as .xlsx' gives)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", frame.head().to_csv(index=False))
    return buffer.getvalue()


def _mutate_data(root: Path, steps: list[dict[str, Any]]) -> None:
    """Apply the case's data mutations, in order, to the synthetic CSV."""
    path = root / DATA
    frame = synthetic_frame()
    encoding = "utf-8"
    raw: bytes | None = None
    for step in steps:
        if "drop" in step:
            frame = frame.drop(columns=[step["drop"]])
        elif "assign_rows" in step:
            for column, value in step["assign_rows"].items():
                frame[column] = frame[column].astype(object)
                frame.loc[: step["rows"] - 1, column] = value
        elif "assign" in step:
            for column, value in step["assign"].items():
                frame[column] = value
        elif "head" in step:
            frame = frame.head(step["head"])
        elif "duplicate_ids" in step:  # every patient has two rows
            frame["patient"] = [f"P{i // 2:04d}" for i in range(len(frame))]
        elif "encode" in step:
            encoding = step["encode"]
        elif "write_bytes" in step:
            raw = bytes.fromhex(step["write_bytes"])
        elif "write_text" in step:
            raw = step["write_text"].encode("utf-8")
        elif "excel" in step:
            raw = _excel_bytes(frame)
        elif "copy_to" in step:
            frame.to_csv(root / step["copy_to"], index=False)
        elif "mkdir" in step:
            (root / step["mkdir"]).mkdir()
        elif "delete" in step:
            path.unlink()
            return
        else:  # pragma: no cover - a typo in cases.yaml
            raise AssertionError(f"unknown data mutation {step}")
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_bytes(frame.to_csv(index=False).encode(encoding))


@pytest.fixture
def corpus_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the tiny pipeline, its CSV and a config; stores inside it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("CLINAI_PIPELINES_PATH", str(FIXTURES))
    synthetic_frame().to_csv(tmp_path / DATA, index=False)
    return tmp_path


def test_corpus_is_large_enough() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids), "case ids must be unique"


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_bad_input_stops_cleanly(
    case: dict[str, Any], corpus_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = base_config()
    if case.get("tracking"):
        config["tracking"] = {"enabled": True, "uri": "sqlite:///mlruns.db"}
    for dotted, value in (case.get("set") or {}).items():
        _set(config, dotted, value)
    config_path = corpus_workspace / CONFIG
    if "config_text" in case:
        config_path.write_text(case["config_text"], encoding="utf-8")
    else:
        config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    _mutate_data(corpus_workspace, case.get("data") or [])
    command = [str(a).replace("{config}", CONFIG) for a in case.get("command") or []]
    argv = command or ["run", CONFIG, "--quiet"]

    code = main(argv)

    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "Traceback" not in captured.err + captured.out
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    for needle in case["expect"]:
        assert needle in lines[0], (needle, lines[0])
    assert list(corpus_workspace.rglob("audit.json")) == []
    log = corpus_workspace / "runs" / "audit.jsonl"
    if log.exists():  # a run that got as far as its run directory is audited as failed
        assert all('"status":"failed"' in line for line in log.read_text().splitlines())
