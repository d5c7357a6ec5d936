"""`clinai check-data` on a survival use case counts what its follow-up allows at each horizon.

It reported only the share with the event at any time; censoring, the events by the
horizon and the test events a validation will rest on went unsaid.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sksurv.datasets import load_whas500

from clinai.cli import main
from tests._helpers import ROOT


def test_follow_up_is_counted_per_horizon_and_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLINAI_PIPELINES_PATH", str(ROOT / "pipelines"))
    config = str(ROOT / "configs" / "ami_1y_mortality.yaml")
    args = ["check-data", config, "--set", "outcome.horizons=[365, 2200]", "--out", "dq.json"]
    assert main(args) == 0
    out = " ".join(capsys.readouterr().out.split())
    rows = json.loads((tmp_path / "dq.json").read_text("utf-8"))["follow_up"]
    assert [(r["horizon"], r["split"]) for r in rows] == [
        (h, s) for h in (365.0, 2200.0) for s in ("all", "train", "test")
    ]
    _, y = load_whas500()  # the use case keeps all 500 patients
    time, event = y["lenfol"], y["fstat"]
    for row in rows[::3]:
        h = row["horizon"]
        assert row["n"] == 500
        assert row["events"] == int((event & (time <= h)).sum())
        assert row["censored"] == int((~event & (time < h)).sum())
        assert row["events"] + row["censored"] + row["followed"] == 500
        assert row["competing"] == 0
    for horizon in (365.0, 2200.0):
        all_, train, test = (r for r in rows if r["horizon"] == horizon)
        for key in ("n", "events", "censored", "followed"):
            assert train[key] + test[key] == all_[key]
    assert rows[0]["censored"] == 0 and np.isclose(rows[3]["censored"] / 500, 0.57)
    assert "Follow-up at each horizon (days)" in out
    assert "horizon 2200: 285 of 500 rows (57%) were censored before it" in out
    assert "horizon 365: 0 of" not in out  # no censoring line where none was censored
    assert f"horizon 365: the test split holds {rows[2]['events']} events by it" in out
    assert "Stat Med 2016;35:214-26" in out
