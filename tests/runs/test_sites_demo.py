"""The sites demo's own parts: hospital extracts, its tables, its refusals (SYNTHETIC)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from rich.console import Console

from clinai.data import generate_ward_stays
from clinai.exceptions import ConfigError
from clinai.runs._sites_demo import (
    NO_CONFIG,
    NOT_A_SITE_SPLIT,
    OUT_NOT_EMPTY,
    SITES_CONFIG,
    SitesDemoResult,
    run_sites_demo,
    site_folders,
)

ROOT = Path(__file__).resolve().parents[2]


def test_site_folders_give_each_hospital_its_own_extract(tmp_path: Path) -> None:
    generate_ward_stays(12, seed=2, out_dir=tmp_path / "all", minutes_per_row=60, sites=3)
    folders = site_folders(tmp_path / "all", tmp_path / "hospitals", ["B", "C"])
    assert [f.name for f in folders] == ["B", "C"]
    stays = pd.read_parquet(tmp_path / "all" / "synthetic_stays.parquet")
    for folder in folders:
        own = pd.read_parquet(folder / "synthetic_stays.parquet")
        assert (own["site"] == folder.name).all()
        assert len(own) == (stays["site"] == folder.name).sum()
        vitals = pd.read_parquet(folder / "synthetic_vitals.parquet")
        assert set(vitals["stay_id"]) == set(own["stay_id"])
        for name in ("synthetic_stays.parquet", "synthetic_vitals.parquet"):
            assert pq.read_schema(folder / name).metadata[b"synthetic"] == b"true"
        assert not list(folder.glob("*.tmp"))
    assert not (tmp_path / "hospitals" / "A").exists()


def _pooled(metric: str, estimate: float) -> dict:
    return {
        "metric": metric,
        "estimate": estimate,
        "ci_low": estimate - 0.03,
        "ci_high": estimate + 0.03,
        "pi_low": estimate - 0.07,
        "pi_high": estimate + 0.07,
        "analysis": {"k": 2, "tau2": 0.0113, "i2": 0.327, "method": "REML", "ci_method": "hksj"},
    }


def _result(meta: dict | None) -> SitesDemoResult:
    auroc = {"estimate": 0.8, "ci_low": 0.75, "ci_high": 0.85}
    return SitesDemoResult(
        run_dir=Path("runs/x"),
        model_name="acute_deterioration_sites",
        model_version="1",
        training_sites=("A",),
        validation_sites=("B", "C"),
        development={"auroc": auroc, "n": 200, "events": 30},
        sites=tuple(
            {"site": s, "n": 100, "events": 15, "auroc": auroc, "summary": None} for s in "BC"
        ),
        meta=meta,
    )


def test_tables_show_each_hospital_and_the_pooled_result() -> None:
    meta = {
        "metrics": {
            "auroc": _pooled("auroc", 0.819),
            "calibration_intercept": _pooled("calibration_intercept", 0.01),
        }
    }
    result = _result(meta)
    assert result.pooled("auroc")["estimate"] == 0.819
    assert result.pooled("calibration_slope") is None
    assert [r["metric"] for r in result.pooled_rows()] == ["auroc", "calibration_intercept"]
    console = Console(width=160, record=True)
    for table in result.tables():
        console.print(table)
    text = console.export_text()
    assert "0.800 (0.750-0.850)" in text  # each hospital and the run's test split
    assert "B, C together" in text
    assert "0.819 (0.789-0.849)" in text and "0.749-0.889" in text  # pooled CI, PI
    assert "0.0113" in text and "33%" in text  # tau^2, I^2
    assert "0.010 (-0.020 to 0.040)" in text  # a negative bound is not read as a dash
    # without a meta-analysis: the hospitals alone, no pooled table
    assert len(_result(None).tables()) == 1 and _result(None).pooled_rows() == []


def test_refusals_name_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=re.escape(NO_CONFIG.format(path=tmp_path / SITES_CONFIG))
    ):
        run_sites_demo(tmp_path)
    (tmp_path / "extra").mkdir()
    config = (ROOT / "configs" / SITES_CONFIG).read_text()
    (tmp_path / SITES_CONFIG).write_text(
        config.replace("split: {method: site,", "split: {method: grouped,")
    )
    refused = NOT_A_SITE_SPLIT.format(path=tmp_path / SITES_CONFIG, method="grouped")
    with pytest.raises(ConfigError, match=re.escape(refused)):
        run_sites_demo(tmp_path)
    (tmp_path / SITES_CONFIG).write_text(config)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(ConfigError, match=re.escape(OUT_NOT_EMPTY.format(path=tmp_path / "busy"))):
        run_sites_demo(tmp_path, out_dir=tmp_path / "busy")
