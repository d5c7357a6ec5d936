"""acute_deterioration on SYNTHETIC hospitals: the site reaches the cohort and splits it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clinai.runs import prepare_stage
from clinai.runs._plugins import load_pipeline

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "extra" / "acute_deterioration_sites.yaml"
#: Small enough for a fast test: 18 stays of three hospitals, monitor rows every 20 minutes.
SMALL = [
    "data.source.options.n_stays=18",
    "data.source.options.sites=3",
    "data.source.options.minutes_per_row=20",
    "data.source.options.event_rate=0.5",
    "split.test_sites=[B, C]",
]


def test_the_site_column_reaches_the_cohort(pipeline_module) -> None:
    raw = pipeline_module.load(n_stays=9, seed=4, minutes_per_row=60, sites=3)
    assert set(raw["site"]) == {"A", "B", "C"}
    # every prediction time carries its stay's site; the site is no model feature
    assert (raw.groupby("stay_id")["site"].nunique() == 1).all()
    assert "site" not in pipeline_module.features(raw).columns
    assert "site" not in pipeline_module.load(n_stays=3, seed=4, minutes_per_row=60).columns


def test_the_site_split_trains_at_one_hospital(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pipelines").symlink_to(ROOT / "pipelines")
    monkeypatch.chdir(tmp_path)
    run_dir = prepare_stage(CONFIG, overrides=SMALL)
    split = run_dir.read_json("data_manifest.json", stage="prepare")["split"]
    assert split["method"] == "site" and split["site_column"] == "site"
    assert split["train_sites"] == ["A"] and split["test_sites"] == ["B", "C"]
    train = pd.read_parquet(run_dir.prepared / "train.parquet")
    test = pd.read_parquet(run_dir.prepared / "test.parquet")
    assert split["n_train"] == len(train) and split["n_test"] == len(test)
    # hospital A weighs 2 of 4: half of the 18 stays (its hours are about half the rows)
    assert 0.3 < len(train) / (len(train) + len(test)) < 0.7


@pytest.fixture(scope="module")
def pipeline_module():
    return load_pipeline("acute_deterioration", base_dir=ROOT)
