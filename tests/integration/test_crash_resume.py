"""Crash-resume: kill -9 `clinai run` in the middle of a study, rerun, lose and repeat nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clinai.cli import main

pytestmark = pytest.mark.integration

N_TRIALS = 16
KILL_AFTER = 4  # completed trials
ARGS = [
    "run",
    "tiny.yaml",
    "--quiet",
    "--set",
    f"tuning.n_trials={N_TRIALS}",
    "--set",
    "tuning.timeout_s=600",
    "--set",
    "evaluation.n_boot=10",
    "--set",
    "languages=[en]",
]


def _complete_trials(storage: str) -> dict[int, float]:
    import optuna

    names = optuna.study.get_all_study_names(storage)
    if not names:
        return {}
    (name,) = names
    study = optuna.load_study(study_name=name, storage=storage)
    complete = optuna.trial.TrialState.COMPLETE
    return {t.number: float(t.value) for t in study.get_trials(states=(complete,))}  # type: ignore[arg-type]


def _count_complete_read_only(path: Path) -> int:
    """Poll the study without writing to it (Optuna's own loader may touch the schema)."""
    import sqlite3

    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as connection:
            (count,) = connection.execute(
                "SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'"
            ).fetchone()
    except sqlite3.Error:  # the study is being created
        return 0
    return int(count)


def test_kill_9_then_rerun_resumes(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import optuna

    storage = f"sqlite:///{workspace / 'optuna.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "clinai.cli", *ARGS],
        cwd=workspace,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    before: dict[int, float] = {}
    deadline = time.monotonic() + 45
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if _count_complete_read_only(workspace / "optuna.db") >= KILL_AFTER:
                break
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    before = _complete_trials(storage)
    assert KILL_AFTER <= len(before) < N_TRIALS, before

    killed_dirs = [p for p in (workspace / "runs" / "tiny").iterdir() if p.is_dir()]
    assert len(killed_dirs) == 1
    killed = killed_dirs[0]

    assert main(ARGS) == 0, capsys.readouterr().err
    capsys.readouterr()

    # Finished trials are kept, not repeated: the study ends with exactly N_TRIALS complete.
    after = _complete_trials(storage)
    assert len(after) == N_TRIALS
    assert {n: after[n] for n in before} == before
    (name,) = optuna.study.get_all_study_names(storage)
    trials = optuna.load_study(study_name=name, storage=storage).get_trials()
    failed = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
    assert len(trials) == N_TRIALS + len(failed) and len(failed) <= 1  # the one killed mid-way
    assert not [t for t in trials if t.state == optuna.trial.TrialState.RUNNING]
    training = json.loads(next((workspace / "runs" / "tiny").glob("*/training.json")).read_text())
    assert training["candidates"][0]["n_trials"] == N_TRIALS

    # MLflow: nothing is left RUNNING; the killed run is marked FAILED as an orphan.
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{workspace / 'mlruns.db'}")
    experiment = client.get_experiment_by_name("tiny")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    assert not [r for r in runs if r.info.status == "RUNNING"]
    parents = {r.info.run_name: r for r in runs if r.data.tags.get("clinai.kind") == "run"}
    assert parents[killed.name].info.status == "FAILED"
    assert parents[killed.name].data.tags.get("clinai.orphaned") == "true"

    # The killed run directory has nothing that looks complete or half-written.
    assert not (killed / "audit.json").exists()
    for path in killed.rglob("*.json"):
        json.loads(path.read_text())  # every JSON that exists was written whole
    print(f"crash-resume: {len(before)} complete trials before the kill, {len(after)} after")
