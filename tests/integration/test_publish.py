"""`clinai run --publish DIR`: what DVC declares as a stage's outputs and metrics is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clinai.cli import main

from .conftest import FAST

pytestmark = pytest.mark.integration


def test_publish_writes_every_language_and_the_headline_metrics(workspace: Path) -> None:
    # Issue 13 (8d, 14): model_cards/ held the English card only, and no metrics file for
    # `dvc metrics diff`.
    assert main(["run", "tiny.yaml", "--publish", "cards", *FAST]) == 0
    [run] = [p for p in (workspace / "runs" / "tiny").iterdir() if p.is_dir()]
    cards = workspace / "cards"
    assert (cards / "tiny.md").read_text() == (run / "model_card.md").read_text()
    danish = (cards / "tiny.da.md").read_text()
    assert danish == (run / "model_card.da.md").read_text()
    assert danish.startswith("# Modelkort")
    headline = json.loads((cards / "tiny.metrics.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    assert headline["auroc"] == metrics["auroc"]["estimate"]
    assert headline["calibration_slope"] == metrics["calibration"]["slope"]["estimate"]
    assert all(not isinstance(value, dict | list) for value in headline.values())  # flat
    assert sorted(p.name for p in cards.glob("*.md")) == ["tiny.da.md", "tiny.md"]
