"""Scale-out: several workers tune one Optuna study on PostgreSQL; MLflow over HTTP.

Real services only: a PostgreSQL server and an ``mlflow server`` started by the
session fixtures in conftest.py (tests/integration/_services.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from clinai.cli import main
from clinai.runs._workers import IN_MEMORY_MSG, WORKERS_MSG, tune_with_workers

from ._services import PostgresServer
from .conftest import synthetic_frame

pytestmark = pytest.mark.integration
# A server-backed run must write no local mlruns.db: no pre-made store.
FRESH_STORE = True

optuna = pytest.importorskip("optuna")


def _tune_two_workers(storage: str, study_name: str, n_trials: int):
    frame = synthetic_frame(n=2000, seed=3)
    return tune_with_workers(
        "logistic",
        workers=2,
        X=frame[["age", "sex", "lactate"]],
        y=frame["event"].to_numpy(),
        numeric=["age", "lactate"],
        categorical=["sex"],
        n_trials=n_trials,
        timeout_s=300,
        cv_folds=3,
        storage=storage,
        study_name=study_name,
        random_state=0,
    )


def _check_exact_budget(storage: str, study_name: str, n_trials: int, best_score: float) -> None:
    study = optuna.load_study(study_name=study_name, storage=storage)
    trials = study.get_trials()
    # Exactly the budget: every trial complete, numbers 0..n-1, nothing extra, none RUNNING.
    shown = [(t.number, t.state.name, t.user_attrs.get("clinai_worker")) for t in trials][-4:]
    assert [t.number for t in trials] == list(range(n_trials)), shown
    assert {t.state.name for t in trials} == {"COMPLETE"}, shown
    # No trial duplicated: each records its own parameters, and no two drew the same ones.
    params = [t.user_attrs["clinai_model_params"] for t in trials]
    assert all(set(p) == {"C"} for p in params)
    assert len({p["C"] for p in params}) == n_trials
    assert best_score in {t.value for t in trials}  # the result is one of the study's trials
    # Both processes (this one and the spawned worker) ran trials of the study.
    workers = {tuple(t.user_attrs["clinai_worker"]) for t in trials}
    assert len(workers) == 2, workers


def test_two_workers_share_one_study_on_postgresql(postgres: PostgresServer) -> None:
    storage = postgres.url("optuna")
    result = _tune_two_workers(storage, "two-workers", 30)
    assert result.n_trials == 30
    assert [t.number for t in result.trials] == list(range(30))
    _check_exact_budget(storage, "two-workers", 30, result.best_score)


def test_clinai_train_with_two_workers_on_sqlite(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLite works with several workers on one machine (a lock file guards the budget).
    assert main(["prepare", "tiny.yaml"]) == 0, capsys.readouterr().err
    args = ["train", "tiny.yaml", "--quiet", "--workers", "2", "--set", "tuning.n_trials=30"]
    assert main(args) == 0, capsys.readouterr().err
    training = json.loads(next((workspace / "runs" / "tiny").glob("*/training.json")).read_text())
    assert training["tuning"]["workers"] == 2
    (candidate,) = training["candidates"]
    assert candidate["n_trials"] == 30
    storage = f"sqlite:///{workspace / 'optuna.db'}"
    _check_exact_budget(storage, candidate["study_name"], 30, candidate["cv_score"])

    # The parent run logs every trial, the spawned worker's too, as a nested run.
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{workspace / 'mlruns.db'}")
    experiment = client.get_experiment_by_name("tiny")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    numbers = [
        int(r.data.tags["clinai.trial_number"])
        for r in runs
        if "clinai.trial_number" in r.data.tags
    ]
    assert sorted(numbers) == list(range(30))


def test_workers_need_a_shared_storage(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "tiny.yaml", "--quiet", "--workers", "2", "--set", "tuning.storage=':memory:'"]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"error: {IN_MEMORY_MSG.format(workers=2)}\n"
    assert not (workspace / "runs").exists()  # refused before anything was written

    assert main(["train", "tiny.yaml", "--workers", "0"]) == 2
    assert capsys.readouterr().err == f"error: {WORKERS_MSG.format(value=0)}\n"


N_TRIALS_HTTP = 6


@pytest.mark.slow  # about 75 s: the server takes 15-25 s to start and 15 s to stop
def test_run_with_mlflow_server_and_postgresql_optuna(
    workspace: Path, postgres: PostgresServer, mlflow_http: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlflow import MlflowClient

    args = [
        "run",
        "tiny.yaml",
        "--quiet",
        "--workers",
        "2",
        "--set",
        f"tuning.storage={postgres.url('optuna')}",
        "--set",
        f"tracking.uri={mlflow_http}",
        "--set",
        f"tuning.n_trials={N_TRIALS_HTTP}",
        "--set",
        "evaluation.n_boot=10",
        "--set",
        "languages=[en]",
    ]
    assert main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "registered tiny v" in out

    client = MlflowClient(tracking_uri=mlflow_http, registry_uri=mlflow_http)
    experiment = client.get_experiment_by_name("tiny")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    parents = [r for r in runs if r.data.tags.get("clinai.kind") == "run"]
    assert len(parents) == 1
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["auroc"] > 0.5

    # Every trial of the study (both workers') is a nested run of the parent.
    trials = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(int(r.data.tags["clinai.trial_number"]) for r in trials) == list(
        range(N_TRIALS_HTTP)
    )
    assert {r.info.status for r in trials} == {"FINISHED"}
    assert all("C" in r.data.params and "cv_score" in r.data.metrics for r in trials)

    # Registered with alias candidate; its model loads through the server's artifact store.
    version = client.get_model_version_by_alias("tiny", "candidate")
    assert version.run_id == parent.info.run_id
    import mlflow.pyfunc

    mlflow.set_tracking_uri(mlflow_http)
    mlflow.set_registry_uri(mlflow_http)
    model = mlflow.pyfunc.load_model("models:/tiny@candidate")
    frame = synthetic_frame(n=5, seed=9)[["age", "sex", "lactate"]].astype({"age": float})
    risk = np.asarray(model.predict(frame))
    assert risk.shape[0] == 5 and np.all((risk >= 0) & (risk <= 1))

    # Artifacts went to the server (metrics.json among them), not to a local mlruns folder.
    names = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert "metrics.json" in names
    assert not (workspace / "mlruns").exists() and not (workspace / "mlruns.db").exists()
    training = json.loads(next((workspace / "runs" / "tiny").glob("*/training.json")).read_text())
    assert training["tuning"]["workers"] == 2
    assert training["candidates"][0]["n_trials"] == N_TRIALS_HTTP
