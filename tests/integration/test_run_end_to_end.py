"""`clinai run` end to end on a synthetic CSV use case, with a real SQLite MLflow store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clinai.cli import main
from tests._helpers import METRICS_JSON_KEYS

from .conftest import CANARY_ID, FAST, enter_workspace, pdf_support

pytestmark = pytest.mark.integration

RUN_FILES = [
    "config.resolved.yaml",
    "data_manifest.json",
    "training.json",
    "acceptance_plan.json",
    "metrics.json",
    "importance.json",
    "predictions.parquet",
    "model/MLmodel",
    "model_card.md",
    "model_card.json",
    "model_card.html",
    "model_card.da.md",
    "model_card.da.html",
    "validation_report.html",
    "validation_report.pdf",
    "model_card.pdf",
    "model_card.da.pdf",
    "audit.json",
    "plots/calibration.png",
]


def _only_run_dir(workspace: Path) -> Path:
    runs = [p for p in (workspace / "runs" / "tiny").iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, empty_store: Path) -> tuple[Path, Path]:
    """One ``clinai run --publish cards`` (its workspace, its run directory) for the module.

    Shared: the tests that use it only read what the run wrote.
    """
    root = tmp_path_factory.mktemp("finished")
    with pytest.MonkeyPatch.context() as patch:
        enter_workspace(root, patch, empty_store)
        assert main(["run", "tiny.yaml", "--quiet", "--publish", "cards"]) == 0
    return root, _only_run_dir(root)


@pytest.fixture
def finished_run(finished: tuple[Path, Path]) -> Path:
    return finished[1]


@pytest.fixture
def finished_workspace(finished: tuple[Path, Path]) -> Path:
    return finished[0]


def _expected_files() -> list[str]:
    """The run's files; without WeasyPrint's system libraries (PyPI only) no PDF."""
    return RUN_FILES if pdf_support() else [n for n in RUN_FILES if not n.endswith(".pdf")]


def test_run_writes_every_artifact(finished_run: Path, finished_workspace: Path) -> None:
    workspace = finished_workspace
    for name in _expected_files():
        assert (finished_run / name).exists(), name
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert set(metrics) >= METRICS_JSON_KEYS
    assert metrics["schema_version"] == 1
    auroc = metrics["auroc"]
    assert auroc["ci_low"] <= auroc["estimate"] <= auroc["ci_high"]
    assert metrics["acceptance"][0]["criterion"] == "discrimination"
    assert (
        metrics["sample_size"]["n_available"]
        == json.loads((finished_run / "data_manifest.json").read_text())["split"]["n_train"]
    )
    assert isinstance(metrics["sample_size"]["adequate"], bool)
    assert [t.get("target_sensitivity") for t in metrics["thresholds"]] == [None, 0.8]
    audit = json.loads((finished_run / "audit.json").read_text())
    assert len(audit["config_sha256"]) == 64 and len(audit["data_sha256"]) == 64
    assert audit["acceptance_verdict"] in {"accepted", "not accepted"}
    assert (workspace / "cards" / "tiny.md").read_text() == (
        finished_run / "model_card.md"
    ).read_text()


def test_run_is_tracked_and_registered(finished_run: Path, finished_workspace: Path) -> None:
    workspace = finished_workspace
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{workspace / 'mlruns.db'}")
    experiment = client.get_experiment_by_name("tiny")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    trials = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert len(trials) == 3
    assert {t.data.tags["mlflow.parentRunId"] for t in trials} == {parents[0].info.run_id}
    assert "auroc" in parents[0].data.metrics
    version = client.get_model_version_by_alias("tiny", "candidate")
    assert version.tags["acceptance_verdict"] in {"accepted", "not accepted"}
    mlflow.set_tracking_uri(f"sqlite:///{workspace / 'mlruns.db'}")
    artifacts = {a.path for a in client.list_artifacts(parents[0].info.run_id)}
    assert "metrics.json" in artifacts
    assert "predictions.parquet" not in artifacts and "prepared" not in artifacts


def test_no_patient_identifier_reaches_documents_or_mlflow(
    finished_run: Path, finished_workspace: Path
) -> None:
    workspace = finished_workspace
    readable = [
        p
        for p in finished_run.rglob("*")
        if p.is_file() and p.suffix in {".md", ".html", ".json", ".yaml", ".txt"}
    ]
    assert readable
    for path in readable:
        assert CANARY_ID not in path.read_text(encoding="utf-8"), path
    mlartifacts = workspace / "mlartifacts"
    for path in mlartifacts.rglob("*"):
        if path.is_file():
            assert CANARY_ID.encode() not in path.read_bytes(), path
    assert CANARY_ID.encode() not in (workspace / "mlruns.db").read_bytes()


def test_stages_one_by_one_give_the_same_outputs(workspace: Path) -> None:
    for stage in ("prepare", "train", "evaluate", "report"):
        assert (
            main(
                [stage, "tiny.yaml", "--run-id", "staged"]
                + ([] if stage in ("prepare", "report") else ["--quiet"])
            )
            == 0
        ), stage
    run_dir = workspace / "runs" / "tiny" / "staged"
    for name in _expected_files():
        assert (run_dir / name).exists(), name
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{workspace / 'mlruns.db'}")
    experiment = client.get_experiment_by_name("tiny")
    parents = [
        r
        for r in client.search_runs([experiment.experiment_id])
        if "mlflow.parentRunId" not in r.data.tags
    ]
    assert [p.info.status for p in parents] == ["FINISHED"]


def test_same_seed_gives_identical_metrics(workspace: Path) -> None:
    # One trial and ten replicates: test_determinism covers three trials of tuning.
    assert main(["run", "tiny.yaml", *FAST, "--run-id", "a"]) == 0
    assert main(["run", "tiny.yaml", *FAST, "--run-id", "b"]) == 0
    first = json.loads((workspace / "runs" / "tiny" / "a" / "metrics.json").read_text())
    second = json.loads((workspace / "runs" / "tiny" / "b" / "metrics.json").read_text())
    # The second run is also compared with the version the first one registered: the same
    # model, so the same predictions and a difference of exactly zero.
    comparison = second.pop("registry_comparison")
    assert comparison["auroc_diff"]["estimate"] == 0.0
    assert comparison["brier_diff"]["estimate"] == 0.0
    assert first == second


def test_optimism_corrected_internal_validation(workspace: Path) -> None:
    args = [
        "run",
        "tiny.yaml",
        *FAST,
        "--run-id",
        "opt",
        "--set",
        "validation.method=optimism",
        "--set",
        "validation.n_replicates=3",
    ]
    assert main(args) == 0
    metrics = json.loads((workspace / "runs" / "tiny" / "opt" / "metrics.json").read_text())
    internal = metrics["internal_validation"]
    assert internal["n_done"] + internal["n_skipped"] == 3
    auroc = internal["metrics"]["auroc"]
    assert auroc["corrected"] == pytest.approx(auroc["apparent"] - auroc["optimism"])


def test_second_version_report_has_a_change_log(workspace: Path) -> None:
    assert main(["run", "tiny.yaml", *FAST, "--run-id", "v1"]) == 0
    assert main(["run", "tiny.yaml", *FAST, "--run-id", "v2", "--set", "seed=7"]) == 0
    first = (workspace / "runs" / "tiny" / "v1" / "validation_report.html").read_text()
    second = (workspace / "runs" / "tiny" / "v2" / "validation_report.html").read_text()
    assert "First registered version" in first
    assert "First registered version" not in second


def test_without_weasyprint_a_run_writes_everything_but_the_pdfs(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Refusing the import fails as it fails on a machine without pango: one line, no PDF."""
    import sys

    monkeypatch.setitem(sys.modules, "weasyprint", None)
    with caplog.at_level("WARNING", logger="clinai.runs._report"):
        assert main(["run", "tiny.yaml", "--quiet"]) == 0
    run = _only_run_dir(workspace)
    assert not list(run.glob("*.pdf"))
    for name in ("validation_report.html", "validation_report.md", "model_card.html"):
        assert (run / name).is_file(), name
    skipped = [r.getMessage() for r in caplog.records if "PDFs skipped" in r.getMessage()]
    assert len(skipped) == 1 and "\n" not in skipped[0]
    assert "pip install weasyprint" in skipped[0]
    audit = json.loads((run / "audit.json").read_text())
    assert not [name for name in json.dumps(audit).split('"') if name.endswith(".pdf")]
