"""`clinai run` beside an existing score and the registered version, and without a test split."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from clinai import evaluation
from clinai.cli import main

from .conftest import FAST, write_scored_config

pytestmark = pytest.mark.integration
#: One tuning trial (nothing below depends on tuning); the bootstrap keeps its replicates.
ONE_TRIAL = ["--quiet", "--set", "tuning.n_trials=1"]


def _metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


@pytest.fixture
def scored(workspace: Path) -> Path:
    """A config for the fixture pipeline that loads its own synthetic data and has a score."""
    write_scored_config(workspace)
    return workspace


def test_existing_score_and_registered_version(scored: Path) -> None:
    assert main(["run", "scored.yaml", *ONE_TRIAL, "--run-id", "s1"]) == 0
    run = scored / "runs" / "scored" / "s1"
    manifest = json.loads((run / "data_manifest.json").read_text())
    assert manifest["source"]["type"] == "pipeline"
    assert manifest["source"]["synthetic"] is True
    assert manifest["source"]["options"] == {"n": 500, "seed": 3}
    metrics = _metrics(run)
    assert "registry_comparison" not in metrics  # nothing registered before the first run
    assert metrics["baseline_comparison"]["name"] == "TOYSCORE"
    points = metrics["baseline_operating_points"]
    assert [p["baseline_threshold"] for p in points["points"]] == [3, 5]

    # The numbers equal a direct computation on the run's own predictions.
    predictions = pd.read_parquet(run / "predictions.parquet")
    test = pd.read_parquet(run / "prepared" / "test.parquet")
    direct = evaluation.compare_operating_points(
        predictions["y_true"],
        predictions["y_prob"],
        test["__baseline__"],
        baseline_thresholds=[3, 5],
        n_boot=0,
    )
    for got, want in zip(points["points"], direct.points, strict=True):
        for rate in ("sensitivity", "specificity", "ppv", "flag_rate"):
            assert got["baseline"][rate]["estimate"] == pytest.approx(want.baseline[rate].estimate)
            assert got["model"][rate]["estimate"] == pytest.approx(want.model[rate].estimate)
    assert "TOYSCORE" in (run / "validation_report.html").read_text()
    assert "Compared with TOYSCORE" in (run / "model_card.md").read_text()
    assert "Sammenlignet med TOYSCORE" in (run / "model_card.da.md").read_text()

    # A second version is compared with the first, on the same test patients.
    args = ["run", "scored.yaml", *ONE_TRIAL, "--run-id", "s2", "--set", "seed=7"]
    assert main(args) == 0
    second = scored / "runs" / "scored" / "s2"
    comparison = _metrics(second)["registry_comparison"]
    assert comparison["version"] == "1"
    assert comparison["alias"] in {"approved", "candidate"}
    assert comparison["name"] == f"registered version 1 ({comparison['alias']})"
    diff = comparison["auroc_diff"]
    assert diff["ci_low"] <= diff["estimate"] <= diff["ci_high"]
    assert 0.0 <= comparison["p_value"] <= 1.0
    assert "registered version 1" in (second / "validation_report.html").read_text()


def test_no_test_split_reports_optimism_corrected_performance(workspace: Path) -> None:
    assert main(["run", "tiny.yaml", *FAST, "--run-id", "registered-first"]) == 0
    args = ["run", "tiny.yaml", *ONE_TRIAL, "--run-id", "internal", "--set", "split.method=none"]
    args += ["--set", "validation.method=optimism", "--set", "validation.n_replicates=4"]
    assert main(args) == 0
    run = workspace / "runs" / "tiny" / "internal"
    manifest = json.loads((run / "data_manifest.json").read_text())
    assert manifest["split"]["n_test"] == 0
    assert manifest["split"]["n_train"] == manifest["n"]
    metrics = _metrics(run)
    basis = metrics["validation_basis"]
    corrected = {"auroc", "brier", "calibration.slope", "calibration.intercept"}
    assert set(basis["corrected"]) == corrected
    auroc = metrics["internal_validation"]["metrics"]["auroc"]
    assert metrics["n"] == manifest["n"]
    assert metrics["auroc"]["estimate"] == pytest.approx(auroc["corrected"])
    assert auroc["corrected"] == pytest.approx(auroc["apparent"] - auroc["optimism"])
    # The apparent AUROC is the final model's on all of its development data.
    predictions = pd.read_parquet(run / "predictions.parquet")
    apparent = evaluation.auroc_score(predictions["y_true"], predictions["y_prob"])
    assert auroc["apparent"] == pytest.approx(apparent)
    assert metrics["auroc"]["ci_high"] > metrics["auroc"]["ci_low"]
    assert "No test split" in (run / "validation_report.html").read_text()
    # Version 1 is registered, but scored on its own development data the new version would
    # beat it unfairly: no comparison without a test split.
    assert "registry_comparison" not in metrics
    assert "No test split" in (run / "model_card.md").read_text()


def test_no_test_split_needs_optimism(workspace: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["run", "tiny.yaml", "--quiet", "--set", "split.method=none"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "validation.method: optimism" in err[0]
    assert not (workspace / "runs" / "tiny").exists()
