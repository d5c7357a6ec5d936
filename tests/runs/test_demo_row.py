"""The `clinai demo` table row of a binary run (AUROC) and of a survival run (Harrell's C)."""

from __future__ import annotations

import json
from pathlib import Path

from clinai.runs._demo import demo_row
from tests.reporting.conftest import METRICS

SURVIVAL = json.loads(
    (Path(__file__).parents[1] / "reporting" / "survival_metrics_example.json").read_text()
)


def test_binary_row_shows_the_auroc_and_its_interval() -> None:
    row = demo_row(METRICS)
    auroc = METRICS["auroc"]
    assert row["discrimination"] == (
        f"{auroc['estimate']:.3f} ({auroc['ci_low']:.3f}-{auroc['ci_high']:.3f})"
    )
    assert row["n"] == str(METRICS["n"]) and row["events"] == str(METRICS["events"])


def test_survival_row_shows_harrells_c_and_the_events_by_the_horizon() -> None:
    # Before: the demo table read metrics["auroc"] and stopped with a KeyError on a survival run.
    row = demo_row(SURVIVAL)
    assert row == {
        "n": "150",
        "events": "43 by 365",
        "discrimination": "C 0.804 (0.759-0.854)",
        "slope": "0.92",
    }
