"""The report stage's survival card in a run directory: published like a binary run's card.

A real run directory of the ``ami_1y_mortality`` use case's facts (its pipeline, its config,
the survival_metrics.json of a real run) and real files; WeasyPrint is refused as it is on a
machine without pango.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from clinai.config import parse_config
from clinai.runs._plugins import load_pipeline
from clinai.runs._rundir import RunDir
from clinai.runs._survival_card import survival_model_card
from tests._helpers import ROOT

METRICS: dict[str, Any] = json.loads(
    (ROOT / "tests" / "reporting" / "survival_metrics_example.json").read_text()
)
PIPELINE = ROOT / "pipelines" / "ami_1y_mortality.py"


def _run_dir(tmp_path: Path) -> tuple[Any, RunDir]:
    settings = yaml.safe_load((ROOT / "configs" / "ami_1y_mortality.yaml").read_text())
    config = parse_config({**settings, "pipeline": str(PIPELINE)})
    run_dir = RunDir(tmp_path / "runs" / "ami_1y_mortality" / "r7")
    run_dir.path.mkdir(parents=True)
    metadata = load_pipeline(str(PIPELINE)).METADATA
    manifest = {
        "use_case": {**metadata, "name": "ami_1y_mortality"},
        "source": {"name": "sksurv/whas500", "title": "WHAS500"},
        "data_sha256": "d" * 64,
        "n": 500,
        "events": 215,
        "split": {"n_train": 350, "n_test": 150, "events_train": 151, "events_test": 64},
        "outcome": {"type": "survival", "events_by_horizon": 138, "censored_before_horizon": 0},
    }
    run_dir.write_json("data_manifest.json", manifest)
    return config, run_dir


def test_card_is_written_and_published_without_pdfs_when_weasyprint_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config, run_dir = _run_dir(tmp_path)
    training = {"selected": "cox_net", "candidates": [{"family": "cox_net"}], "tuning": {}}
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    publish = tmp_path / "model_cards"
    with caplog.at_level("WARNING"):
        files = survival_model_card(
            config, run_dir, metrics=METRICS, training=training, publish_dir=publish
        )
    skipped = [r.getMessage() for r in caplog.records if "PDFs skipped" in r.getMessage()]
    assert len(skipped) == 1 and "\n" not in skipped[0]
    assert not list(run_dir.path.glob("*.pdf"))
    assert {p.name for p in files} >= {"model_card.md", "model_card.da.html", "model_card.json"}
    # published as a binary run publishes: the cards, the headline figures, the linked plots
    assert sorted(p.name for p in publish.iterdir()) == [
        "ami_1y_mortality.da.md",
        "ami_1y_mortality.md",
        "ami_1y_mortality.metrics.json",
        "plots",
    ]
    assert len(list((publish / "plots").glob("ami_1y_mortality.*.png"))) == 6
    card = (publish / "ami_1y_mortality.md").read_text(encoding="utf-8")
    for link in ("calibration", "risk_groups", "decision_curve"):
        assert (publish / "plots" / f"ami_1y_mortality.{link}.png").is_file()
        assert f"(plots/ami_1y_mortality.{link}.png)" in card
    assert "about 29 will have died within 1 year" in card  # the pipeline's words
    headline = (publish / "ami_1y_mortality.metrics.json").read_text()
    assert "r7" not in headline  # run-id free: two runs of one model publish the same file
    assert json.loads(headline)["harrell_c"] == METRICS["metrics"]["harrell_c"]["estimate"]
