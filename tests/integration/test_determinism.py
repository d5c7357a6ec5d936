"""Determinism: the same config and seed give the same metrics.json and model_card.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from clinai.cli import main

pytestmark = pytest.mark.integration

ARGS = [
    "--quiet",
    "--set",
    "tuning.n_trials=3",
    "--set",
    "evaluation.n_boot=20",
    "--set",
    "tracking.enabled=false",
    "--set",
    "languages=[en]",
]
# Facts of the occasion, not of the result.
VOLATILE = {"created_at", "date", "run_id", "generated_at", "timestamp", "mlflow_run_id"}


def _stable(value: Any, *, ignore: frozenset[str] = frozenset()) -> Any:
    if isinstance(value, dict):
        return {
            k: _stable(v, ignore=ignore)
            for k, v in value.items()
            if k not in VOLATILE and k not in ignore
        }
    if isinstance(value, list):
        return [_stable(v, ignore=ignore) for v in value]
    return value


def _run(root: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> dict[str, Any]:
    """Run in a fresh copy of the workspace (fresh Optuna study, nothing resumed)."""
    monkeypatch.chdir(root)
    assert main(["run", "tiny.yaml", "--run-id", "det", *ARGS, *extra]) == 0
    (run_dir,) = [p for p in (root / "runs" / "tiny").iterdir() if p.is_dir()]
    return {
        name: json.loads((run_dir / name).read_text())
        for name in ("metrics.json", "model_card.json")
    }


def _copy(workspace: Path, name: str) -> Path:
    target = workspace / name
    target.mkdir()
    for file in ("patients.csv", "tiny.yaml"):
        shutil.copy(workspace / file, target / file)
    return target


def test_same_seed_same_results(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _run(_copy(workspace, "a"), monkeypatch)
    second = _run(_copy(workspace, "b"), monkeypatch)
    for name in first:
        assert _stable(first[name]) == _stable(second[name]), name
    # tuning.n_jobs (estimator threads) changes the config hash and its own echo, nothing else.
    threaded = _run(_copy(workspace, "c"), monkeypatch, "--set", "tuning.n_jobs=2")
    ignore = frozenset({"config_sha256", "n_jobs"})
    for name in first:
        assert _stable(first[name], ignore=ignore) == _stable(threaded[name], ignore=ignore), name
