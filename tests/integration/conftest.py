"""Fixtures for end-to-end tests: a synthetic CSV use case and isolated stores per test."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from ._services import PostgresServer, find_postgres_bin, mlflow_server, postgres_server

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CANARY_ID = "CANARY-PATIENT-7f3a9"
#: ``clinai run`` options for the cheapest whole run of the tiny workspace.
FAST = ["--quiet", "--set", "tuning.n_trials=1", "--set", "evaluation.n_boot=10"]


def synthetic_frame(n: int = 300, seed: int = 0, *, canary: str = CANARY_ID) -> pd.DataFrame:
    """Synthetic patients (not real people): the event depends on age and lactate.

    The patient identifiers start with ``canary``, so a test can look for them in outputs.
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 95, n)
    lactate = rng.gamma(2.0, 1.0, n)
    sex = rng.choice(["female", "male"], n)
    logit = -4.0 + 0.035 * age + 0.5 * lactate
    event = rng.binomial(1, 1 / (1 + np.exp(-logit)))
    ids = [f"{canary}-{i:04d}" for i in range(n)]
    return pd.DataFrame(
        {"patient": ids, "age": age, "sex": sex, "lactate": lactate, "event": event}
    )


def tiny_config(
    *,
    test_size: float = 0.3,
    tuning: dict[str, Any] | None = None,
    data: str = "patients.csv",
    **sections: Any,
) -> dict[str, Any]:
    """The tiny use case's config: tiny_pipeline on the CSV ``data``, one logistic model.

    ``tuning`` defaults to three trials of 3-fold CV (a given one replaces it whole); further
    top-level sections (``evaluation``, ``languages``, ...) come from ``sections``.
    """
    return {
        "experiment": "tiny",
        "pipeline": "tiny_pipeline",
        "data": {"source": {"type": "csv", "path": data}, "patient_id": "patient"},
        "split": {"method": "grouped", "test_size": test_size},
        "models": ["logistic"],
        "tuning": tuning or {"n_trials": 3, "timeout_s": 60, "cv_folds": 3},
        "calibration": {"method": "sigmoid", "cv": 3},
        # the tiny data fail Riley's criteria: the shrinkage bootstrap is tested on its own
        # (tests/runs/test_small_data.py), not paid again by every end-to-end test
        "training": {"small_data": "off"},
        **sections,
    }


def repoint_store(db: Path, old: Path, new: Path) -> None:
    """Rewrite every text cell of the SQLite MLflow store ``db`` that names ``old`` to ``new``.

    MLflow records absolute artifact locations (experiments, runs, model versions, logged
    models); a copied store would otherwise read and write the template's artifacts.
    """
    with contextlib.closing(sqlite3.connect(db)) as con, con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for column in con.execute(f'PRAGMA table_info("{table}")').fetchall():
                if column[2].upper().startswith(("VARCHAR", "TEXT")):
                    con.execute(
                        f'UPDATE "{table}" SET "{column[1]}" = replace("{column[1]}", ?, ?)',
                        (str(old), str(new)),
                    )


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of an empty SQLite MLflow store (``mlruns.db``), made once per worker.

    Creating MLflow's tables runs its schema migrations (about 2 s of CPU); every end-to-end
    test would pay them again. Made in its own folder as the working directory, so its only
    absolute path (the Default experiment's artifact location) names that folder.
    """
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("empty-store")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
        client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlruns.db'}")
        client.search_experiments()
    return folder


@pytest.fixture
def workspace(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    empty_store: Path,
) -> Path:
    """A working directory with the tiny pipeline, its CSV and a config; stores inside it.

    The MLflow store is a copy of :func:`empty_store` pointed at this folder (what the first
    run would create), unless the test module sets ``FRESH_STORE = True`` because it checks
    that a command creates, or does not create, ``mlruns.db``.
    """
    fresh = getattr(request.module, "FRESH_STORE", False)
    enter_workspace(tmp_path, monkeypatch, None if fresh else empty_store)
    return tmp_path


def enter_workspace(root: Path, patch: pytest.MonkeyPatch, store: Path | None) -> None:
    """Make ``root`` the tiny workspace and the working directory (undone with ``patch``).

    ``store``: the folder of :func:`empty_store` to copy, or ``None`` for no MLflow store yet.
    """
    patch.chdir(root)
    patch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
    patch.setenv("CLINAI_PIPELINES_PATH", str(FIXTURES))
    write_workspace(root)
    if store is not None:
        shutil.copyfile(store / "mlruns.db", root / "mlruns.db")
        repoint_store(root / "mlruns.db", store, root)


def write_workspace(root: Path) -> None:
    """Write the tiny workspace's CSV and config (``tiny.yaml``) into ``root``."""
    synthetic_frame().to_csv(root / "patients.csv", index=False)
    config = tiny_config(
        evaluation={
            "n_boot": 30,
            "thresholds": [0.2],
            "sensitive_attributes": ["sex"],
            "shap_background": 20,
            "sample_size": {"c_statistic": 0.75},
            "target_sensitivities": [0.8],
            "shap_max_rows": 40,
            "acceptance": [
                {"name": "discrimination", "metric": "auroc", "statistic": "ci_low", "min": 0.5}
            ],
        },
        languages=["en", "da"],
    )
    (root / "tiny.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


def write_scored_config(root: Path, **sections: Any) -> None:
    """Write ``scored.yaml``: the tiny config on scored_pipeline, which makes its own data.

    The fixture pipeline's synthetic patients carry the toy score TOYSCORE; further
    top-level sections (``economics``, ...) come from ``sections``.
    """
    config = yaml.safe_load((root / "tiny.yaml").read_text())
    config.update(
        experiment="scored",
        pipeline="scored_pipeline",
        data={
            "source": {"type": "pipeline", "options": {"n": 500, "seed": 3}},
            "patient_id": "patient",
        },
        **sections,
    )
    (root / "scored.yaml").write_text(yaml.safe_dump(config))


def pdf_support() -> bool:
    """Whether PDFs can be written here (WeasyPrint and its system libraries load)."""
    from clinai.reporting import check_pdf_support

    try:
        check_pdf_support()
    except ImportError:
        return False
    return True


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL on 127.0.0.1 (databases ``optuna`` and ``mlflow``), stopped afterwards."""
    if find_postgres_bin() is None:
        pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    with postgres_server(("optuna", "mlflow")) as server:
        yield server


@pytest.fixture(scope="session")
def mlflow_http(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real ``mlflow server`` (PostgreSQL backend store, local artifact root); its URL."""
    artifacts = tmp_path_factory.mktemp("mlflow-server") / "artifacts"
    artifacts.mkdir()
    with mlflow_server(postgres.url("mlflow"), artifacts) as url:
        yield url
