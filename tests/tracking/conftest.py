from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _no_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session")
def mlflow_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real SQLite MLflow store per session (creating its tables takes about 5 s).

    Each test uses its own experiment name, so tests stay independent.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
        folder: Path = tmp_path_factory.mktemp("mlflow")
        yield f"sqlite:///{folder}/mlruns.db"


@pytest.fixture
def experiment(request: pytest.FixtureRequest) -> str:
    return request.node.name.replace("[", "-").replace("]", "")
