"""``clinai demo --monitoring`` end to end on SYNTHETIC stays: approve, score, monitor, update."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clinai.cli import app
from clinai.runs._monitoring_demo import DEMO_REVIEWER

from .conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: The cheapest acute_deterioration run that still registers a model.
FAST = [
    "models=[logistic]",
    "tuning.n_trials=2",
    "tuning.cv_folds=3",
    "calibration.cv=3",
    "evaluation.n_boot=50",
]


def test_monitoring_demo_raises_the_alarm_after_the_planted_shift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("configs", "pipelines"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
    args = ["demo", "--monitoring", "--quiet"] + [x for s in FAST for x in ("--set", s)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "first alarm:" in result.output
    out = tmp_path / "monitoring_demo"
    assert len(list((out / "predictions").glob("2025-*.parquet"))) == 12
    approval = json.loads(
        next((tmp_path / "runs" / "acute_deterioration").glob("*/approval.json")).read_text()
    )
    assert approval["reviewer"] == DEMO_REVIEWER
    monitoring = json.loads((out / "monitoring" / "monitoring.json").read_text())
    levels = {p["period"]: p["verdict"]["level"] for p in monitoring["periods"]}
    # SpO2 reads 2 points low from April 2025: flagged within two months of it
    assert any(
        levels.get(m, "in_control") != "in_control" for m in ("2025-04", "2025-05", "2025-06")
    )
