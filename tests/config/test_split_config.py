"""The split and validation blocks of the config, and how prepare applies them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from clinai.config import _schema as schema
from clinai.config import parse_config
from clinai.exceptions import ConfigError, DataError
from clinai.runs._prepare import prepare
from clinai.runs._rundir import resolve_run_dir
from tests.integration.conftest import synthetic_frame

MINIMAL: dict[str, Any] = {
    "experiment": "demo",
    "pipeline": "icu_mortality",
    "data": {"source": {"type": "bundled", "name": "vcdExtra/ICU"}},
}
FIXTURES = Path(__file__).resolve().parents[1] / "integration" / "fixtures"


def _with(**blocks: Any) -> dict[str, Any]:
    return {**MINIMAL, **blocks}


def test_defaults_are_backward_compatible() -> None:
    config = parse_config(MINIMAL)
    assert config.split.method == "stratified"
    assert config.split.time_column is None and config.split.test_sites is None
    assert config.validation.method == "holdout"
    assert config.validation.n_replicates == 50


def test_temporal_needs_time_column() -> None:
    with pytest.raises(ConfigError, match=re.escape(schema.SPLIT_NEEDS_TIME_COLUMN)) as info:
        parse_config(_with(split={"method": "temporal"}))
    assert "'split'" in str(info.value)
    config = parse_config(_with(split={"method": "temporal", "time_column": "admitted"}))
    assert config.split.time_column == "admitted"


def test_site_needs_site_column_and_test_sites() -> None:
    with pytest.raises(ConfigError, match=re.escape(schema.SPLIT_NEEDS_SITE_COLUMN)):
        parse_config(_with(split={"method": "site", "test_sites": ["A"]}))
    with pytest.raises(ConfigError, match=re.escape(schema.SPLIT_NEEDS_TEST_SITES)):
        parse_config(_with(split={"method": "site", "site_column": "hospital"}))
    with pytest.raises(ConfigError, match=re.escape(schema.SPLIT_NEEDS_TEST_SITES)):
        parse_config(_with(split={"method": "site", "site_column": "hospital", "test_sites": []}))
    config = parse_config(
        _with(split={"method": "site", "site_column": "hospital", "test_sites": ["B", 3]})
    )
    assert config.split.test_sites == ["B", 3]


def test_unknown_split_method_and_key() -> None:
    with pytest.raises(ConfigError, match=re.escape("split.method")):
        parse_config(_with(split={"method": "random"}))
    with pytest.raises(ConfigError, match="did you mean 'time_column'"):
        parse_config(_with(split={"method": "temporal", "time_colum": "admitted"}))


def test_validation_block() -> None:
    config = parse_config(_with(validation={"method": "optimism", "n_replicates": 200}))
    assert config.validation.method == "optimism" and config.validation.n_replicates == 200
    with pytest.raises(ConfigError, match=re.escape("validation.n_replicates")):
        parse_config(_with(validation={"method": "optimism", "n_replicates": 0}))
    with pytest.raises(ConfigError, match=re.escape("validation.method")):
        parse_config(_with(validation={"method": "cross_validation"}))


# --- prepare applies the split the config names -----------------------------------------


def _frame(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """The integration tests' synthetic patients, each admitted on another day at one of 3 sites."""
    rng = np.random.default_rng(seed)
    days = rng.permutation(n)
    return synthetic_frame(n, seed).assign(
        admitted=(pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D")).astype(str),
        hospital=rng.choice(["Aarhus", "Odense", "Aalborg"], n),
    )


@pytest.fixture
def csv_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLINAI_PIPELINES_PATH", str(FIXTURES))
    _frame().to_csv(tmp_path / "patients.csv", index=False)
    return tmp_path


def _prepare(workspace: Path, split: dict[str, Any]) -> dict[str, Any]:
    config = parse_config(
        {
            "experiment": "tiny",
            "pipeline": "tiny_pipeline",
            "data": {"source": {"type": "csv", "path": "patients.csv"}, "patient_id": "patient"},
            "split": split,
            "models": ["logistic"],
        }
    )
    run_dir = resolve_run_dir(workspace / "runs", "tiny", None, create=True)
    return prepare(config, run_dir)


def test_prepare_temporal_split_records_periods_not_rows(csv_workspace: Path) -> None:
    manifest = _prepare(csv_workspace, {"method": "temporal", "time_column": "admitted"})
    split = manifest["split"]
    cohort = _frame()
    cohort = cohort[cohort["age"] >= 18]  # the tiny pipeline's exclusion
    assert split["n_test"] == int(np.ceil(0.3 * len(cohort)))
    assert split["time_column"] == "admitted"
    assert split["test_size"] == 0.3
    assert split["train_period"]["start"] == "2020-01-01"
    assert split["train_period"]["end"] < split["test_period"]["start"]
    assert set(split["train_period"]) == {"start", "end"}
    latest = pd.to_datetime(cohort["admitted"]).max().date().isoformat()
    assert split["test_period"]["end"] == latest


def test_prepare_site_split(csv_workspace: Path) -> None:
    manifest = _prepare(
        csv_workspace,
        {"method": "site", "site_column": "hospital", "test_sites": ["Odense"]},
    )
    split = manifest["split"]
    cohort = _frame()
    assert split["n_test"] == int((cohort["hospital"] == "Odense").sum())
    assert split["test_sites"] == ["Odense"]
    assert split["train_sites"] == ["Aalborg", "Aarhus"]
    assert split["test_size"] is None


def test_prepare_names_a_missing_split_column(csv_workspace: Path) -> None:
    with pytest.raises(
        DataError, match=r"column 'ward' not found in the data \(split.site_column\)"
    ):
        _prepare(csv_workspace, {"method": "site", "site_column": "ward", "test_sites": ["A"]})
    with pytest.raises(DataError, match=re.escape("split.test_sites names 'Herning'")):
        _prepare(
            csv_workspace, {"method": "site", "site_column": "hospital", "test_sites": ["Herning"]}
        )
