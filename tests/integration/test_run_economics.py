"""`clinai run` with an economics: section: metrics.json, report and card (issue 17).

The fixture pipeline's synthetic patients (not real people) and its toy early-warning
score TOYSCORE (alert cut-offs 3 and 5) as the comparator. The documents without an
economics section are checked by tests/reporting/test_economics_section.py and by the
other run tests, whose metrics.json has no ``economics`` key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from clinai.cli import main
from tests._helpers import ECONOMICS_SECTION

from .conftest import FAST, write_scored_config

# about 90 s: two whole runs with their documents
pytestmark = [pytest.mark.integration, pytest.mark.slow]

ECONOMICS = {**ECONOMICS_SECTION, "comparator": "TOYSCORE", "n_draws": 500}
_IMAGE = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def test_run_with_economics(workspace: Path) -> None:
    write_scored_config(workspace, economics=ECONOMICS)
    # no registry: the second run would otherwise be compared with the first's version
    fast = [*FAST, "--set", "tracking.enabled=false"]
    assert main(["run", "scored.yaml", *fast, "--run-id", "e1", "--publish", "cards"]) == 0
    assert main(["run", "scored.yaml", *fast, "--run-id", "e0", "--set", "economics=null"]) == 0
    run = workspace / "runs" / "scored" / "e1"

    # The section adds the block and changes no other number of metrics.json.
    with_economics = json.loads((run / "metrics.json").read_text())
    without = json.loads((workspace / "runs" / "scored" / "e0" / "metrics.json").read_text())
    assert "economics" not in without
    assert {k: v for k, v in with_economics.items() if k != "economics"} == without
    assert not (workspace / "runs" / "scored" / "e0" / "plots" / "ceac.png").exists()

    block = json.loads((run / "metrics.json").read_text())["economics"]
    assert block["basis"] == "test" and block["comparator"]["name"] == "TOYSCORE"
    labels = [row["label"] for row in block["net_monetary_benefit"]["strategies"]]
    assert labels[:2] == ["treat_none", "treat_all"]
    assert {"TOYSCORE >= 3", "TOYSCORE >= 5", "model >= 0.2"} <= set(labels)
    assert block["sensitivity"]["n_draws"] == 500
    assert (
        block["alert_burden"]["admissions"] == json.loads((run / "metrics.json").read_text())["n"]
    )  # one row per patient here

    headings = {
        "": "What would it cost and what would it save?",
        ".da": "Hvad koster det, og hvad sparer det?",
    }
    for suffix, heading in headings.items():
        for name in (
            f"model_card{suffix}.md",
            f"model_card{suffix}.html",
            f"validation_report{suffix}.html",
            f"validation_report{suffix}.md",
        ):
            path = run / name
            if not path.exists() and name.startswith("validation_report") and suffix:
                continue  # a run writes the Danish report only where its languages say so
            text = _IMAGE.sub("", path.read_text(encoding="utf-8"))
            assert heading in text, name
            assert "TOYSCORE ≥ 3" in text and "DKK" in text, name
    card = json.loads((run / "model_card.json").read_text())
    assert card["clinai"]["economics"]["comparator"]["name"] == "TOYSCORE"
    assert (run / "plots" / "ceac.png").is_file()
    # the published card's linked plots are published beside it, under the experiment's name
    published = (workspace / "cards" / "scored.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((plots/[^)]+)\)", published)
    assert "plots/scored.ceac.png" in links
    for link in links:
        assert (workspace / "cards" / link).is_file(), link
