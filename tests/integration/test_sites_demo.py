"""``clinai demo --sites`` end to end on SYNTHETIC hospitals: develop at A, validate B-F, pool."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clinai.cli import app

from .conftest import ROOT
from .test_monitoring_demo import FAST  # the cheapest acute_deterioration run that registers

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_sites_demo_validates_each_hospital_and_pools_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
    monkeypatch.chdir(tmp_path)
    for name in ("configs", "pipelines"):
        Path(name).symlink_to(ROOT / name)
    overrides = [part for setting in FAST for part in ("--set", setting)]
    result = CliRunner().invoke(app, ["demo", "--sites", "--quiet", *overrides])
    assert result.exit_code == 0, result.output
    assert "pooled (random effects)" in result.output
    assert "left out" not in result.output
    out = tmp_path / "sites_demo"
    hospitals = ["B", "C", "D", "E", "F"]
    assert sorted(p.name for p in (out / "hospitals").iterdir()) == hospitals
    summaries = sorted((out / "summaries").glob("*.json"))
    assert [json.loads(p.read_text())["site"] for p in summaries] == hospitals
    for path in summaries:  # a site shares counts and metrics, never a row or a pseudonym
        text = path.read_text()
        assert "patient_id" not in text and "stay_id" not in text
    pooled = json.loads((out / "pooled" / "meta_analysis.json").read_text())
    assert [site["site"] for site in pooled["sites"]] == hospitals
    auroc = pooled["metrics"]["auroc"]
    assert auroc["analysis"]["k"] == 5
    assert auroc["pi_low"] <= auroc["ci_low"] <= auroc["estimate"] <= auroc["ci_high"]
    assert auroc["ci_high"] <= auroc["pi_high"]
    assert 0.6 < auroc["estimate"] < 0.95
    # the development run trained at hospital A only and held the others out
    manifest = json.loads(
        next(
            (tmp_path / "runs" / "acute_deterioration_sites").glob("*/data_manifest.json")
        ).read_text()
    )
    assert manifest["split"]["train_sites"] == ["A"]
    assert manifest["split"]["test_sites"] == hospitals
