"""The evaluate stage writes site_summary.json; it pools with a site's `validate --summary`."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from clinai.cli import main
from clinai.runs._score import _folder_sha256

from .conftest import CANARY_ID, FAST

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_run_summary_names_its_model_and_plan_and_pools_with_a_sites(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "tiny.yaml", *FAST, "--set", "tracking.enabled=false"]) == 0
    (run,) = [p for p in (workspace / "runs" / "tiny").iterdir() if p.is_dir()]
    text = (run / "site_summary.json").read_text(encoding="utf-8")
    summary = json.loads(text)
    schema = resources.files("clinai.reporting").joinpath("schemas/site_summary.schema.json")
    jsonschema.validate(summary, json.loads(schema.read_text(encoding="utf-8")))
    assert CANARY_ID not in text
    plan = json.loads((run / "acceptance_plan.json").read_text())
    assert summary["plan_sha256"] == plan["sha256"]
    assert summary["model"] == {
        "name": "tiny",
        "version": None,
        "sha256": _folder_sha256(run / "model"),
    }
    assert summary["site"] == "tiny (test split)"

    # A second hospital validates the same model against the same plan (here: the run's own
    # predictions stand in for its data) and shares its summary; the two pool.
    config = yaml.safe_load((workspace / "tiny.yaml").read_text())
    (workspace / "plan.yaml").write_text(yaml.safe_dump(config["evaluation"]))
    site = workspace / "other.summary.json"
    argv = ["validate", str(run / "predictions.parquet"), "--outcome", "y_true"]
    argv += ["--score", "y_prob", "--config", "plan.yaml", "--out", "other", "--quiet"]
    argv += ["--bootstrap", "10", "--summary", str(site), "--site", "other", "--model-name"]
    argv += ["tiny", "--model-sha256", summary["model"]["sha256"]]
    assert main(argv) == 0
    assert json.loads(site.read_text())["plan_sha256"] == plan["sha256"]
    capsys.readouterr()
    summaries = [str(run / "site_summary.json"), str(site)]
    assert main(["meta-analyse", *summaries, "--out", "meta", "--quiet"]) == 0
    assert "2 sites: pooled AUROC" in capsys.readouterr().out
    pooled = json.loads((workspace / "meta" / "meta_analysis.json").read_text())
    assert pooled["metrics"]["auroc"]["pi_low"] is None  # two sites: no prediction interval
