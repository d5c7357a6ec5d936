"""The monitoring demo's own parts: monthly extracts, the period table, its refusals (SYNTHETIC)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from clinai.data import generate_ward_stays
from clinai.exceptions import ConfigError
from clinai.runs._monitoring_demo import (
    NO_CONFIG,
    OUT_NOT_EMPTY,
    MonitoringDemoResult,
    _monthly_folders,
    run_monitoring_demo,
)


def test_monthly_folders_cut_the_stays_by_admission_month(tmp_path: Path) -> None:
    generate_ward_stays(60, seed=4, out_dir=tmp_path / "all", minutes_per_row=30)
    folders = _monthly_folders(tmp_path / "all", tmp_path / "months")
    stays = pd.read_parquet(tmp_path / "all" / "synthetic_stays.parquet")
    vitals = pd.read_parquet(tmp_path / "all" / "synthetic_vitals.parquet")
    assert [f.name for f in folders] == sorted(
        stays["admission_time"].dt.strftime("%Y-%m").unique()
    )
    parts = []
    for folder in folders:
        month = pd.read_parquet(folder / "synthetic_stays.parquet")
        assert (month["admission_time"].dt.strftime("%Y-%m") == folder.name).all()
        month_vitals = pd.read_parquet(folder / "synthetic_vitals.parquet")
        assert set(month_vitals["stay_id"]) <= set(month["stay_id"])
        for name in ("synthetic_stays.parquet", "synthetic_vitals.parquet"):
            assert pq.read_schema(folder / name).metadata[b"synthetic"] == b"true"
        assert not list(folder.glob("*.tmp"))
        parts.append(month_vitals)
    pd.testing.assert_frame_equal(
        pd.concat(parts).sort_values(["stay_id", "time"], kind="stable").reset_index(drop=True),
        vitals.sort_values(["stay_id", "time"], kind="stable").reset_index(drop=True),
    )


def _period(label: str, level: str, reasons: list[dict], psi: float) -> dict:
    return {
        "period": label,
        "n": 100,
        "events": 12,
        "performance": {
            "oe_ratio": {"estimate": 0.9, "ci_low": 0.7, "ci_high": 1.1},
            "auroc": None,
        },
        "drift": {
            "features": [
                {"feature": "spo2_last", "psi": psi},
                {"feature": "age", "psi": 0.01},
                {"feature": "ward", "psi": None},
            ]
        },
        "verdict": {"level": level, "reasons": reasons},
    }


def test_period_rows_and_first_alarm() -> None:
    breach = {"metric": "psi", "kind": "breach"}
    unassessable = {"metric": "auroc", "kind": "not_assessable"}
    monitoring = {
        "periods": [
            _period("2025-03", "in_control", [unassessable], 0.05),
            _period("2025-04", "investigate", [breach, breach, unassessable], 0.9),
        ]
    }
    result = _demo_result(monitoring=monitoring)
    rows = result.period_rows()
    assert rows[0]["oe_ratio"] == 0.9 and rows[0]["auroc"] is None
    assert rows[1]["top_feature"] == "spo2_last" and rows[1]["top_psi"] == 0.9
    assert rows[0]["reasons"] == [] and rows[1]["reasons"] == ["psi"]
    assert result.first_alarm()["period"] == "2025-04"
    assert result.synthetic is True
    empty = MonitoringDemoResult(Path("r"), False, "m", "1", {}, Path("s"))
    assert empty.period_rows() == [] and empty.first_alarm() is None


def test_refuses_a_missing_config_and_a_used_folder(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=re.escape(NO_CONFIG.format(path=tmp_path / "acute_deterioration.yaml"))
    ):
        run_monitoring_demo(tmp_path, out_dir=tmp_path / "out")
    (tmp_path / "acute_deterioration.yaml").write_text("experiment: x\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "left.txt").write_text("from before")
    with pytest.raises(ConfigError, match=re.escape(OUT_NOT_EMPTY.format(path=tmp_path / "out"))):
        run_monitoring_demo(tmp_path, out_dir=tmp_path / "out")


def _demo_result(**results: Any) -> MonitoringDemoResult:
    """A demo result of version 1 with only ``results`` (monitoring, update) filled in."""
    return MonitoringDemoResult(
        run_dir=Path("run"),
        reused=True,
        model_name="acute_deterioration",
        model_version="1",
        scenario={},
        stays_dir=Path("stays"),
        **results,
    )


def test_validation_rows_read_as_estimates_with_intervals() -> None:
    result = _demo_result(
        update={
            "validation": {
                "original": {"auroc": {"estimate": 0.80784, "ci_low": 0.7401, "ci_high": 0.871}},
                "update": {"auroc": {"estimate": 0.8061, "ci_low": None, "ci_high": None}},
            }
        },
    )
    assert result.validation_rows() == [
        {"metric": "auroc", "original": "0.808 (0.740-0.871)", "update": "0.806"}
    ]
