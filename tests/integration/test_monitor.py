"""``clinai monitor`` end to end on a real SQLite MLflow registry (synthetic patients)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
import yaml

from clinai.cli import main

from ._monitoring import (
    KEY,
    MONTHS,
    PLAN,
    outcomes_file,
    period_of,
    raw_predictions,
    reference,
    register_version,
    write_predictions,
)
from .conftest import CANARY_ID, pdf_support, tiny_config


@pytest.fixture
def monitored(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The tiny workspace with a monitoring plan, a registered version 1 and its predictions."""
    monkeypatch.setenv("CLINAI_PSEUDONYM_KEY", KEY)
    config = tiny_config(monitoring=PLAN, languages=["en", "da"])
    config["evaluation"] = {"sensitive_attributes": ["sex"]}
    (workspace / "tiny.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    version = register_version(workspace, workspace / "tiny.yaml")
    raw = raw_predictions()
    written = write_predictions(raw, workspace / "predictions.parquet")
    return {"raw": raw, "written": written, "version": version, "config": config}


def _schema() -> dict[str, Any]:
    text = resources.files("clinai.reporting").joinpath("schemas/monitoring.schema.json")
    return dict(json.loads(text.read_text(encoding="utf-8")))


def _client(workspace: Path) -> Any:
    from mlflow import MlflowClient

    uri = f"sqlite:///{workspace / 'mlruns.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _monitoring_runs(workspace: Path) -> list[Any]:
    client = _client(workspace)
    experiment = client.get_experiment_by_name("tiny-monitoring")
    return [] if experiment is None else client.search_runs([experiment.experiment_id])


def _cli(*args: str) -> int:
    return main(["monitor", "tiny.yaml", "--quiet", *args])


def test_monitoring_json_numbers_equal_direct_calls(
    monitored: dict[str, Any], workspace: Path
) -> None:
    from clinai.evaluation import auroc_score, oe_ratio
    from clinai.evaluation.monitoring import feature_drift_frame

    raw = monitored["raw"]
    outcomes_file(raw, workspace / "outcomes.csv")
    code = _cli(
        "--predictions", "predictions.parquet", "--outcomes", "outcomes.csv", "--out", "mon"
    )
    assert code == 0
    document = json.loads((workspace / "mon" / "monitoring.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, _schema())
    for name in ("monitoring_report.html", "monitoring_report.da.md"):
        assert (workspace / "mon" / name).is_file()
    # the PDF where WeasyPrint's system libraries are there (skipped with one line otherwise)
    assert (workspace / "mon" / "monitoring_report.pdf").is_file() or not pdf_support()
    assert [p["period"] for p in document["periods"]] == list(MONTHS)
    model = document["model"]
    assert (model["name"], model["version"], model["alias"]) == (
        "tiny",
        monitored["version"],
        "approved",
    )
    version = _client(workspace).get_model_version("tiny", monitored["version"])
    assert model["mlflow_run_id"] == version.run_id
    months = period_of(raw)
    for entry in document["periods"]:
        rows = raw[months == entry["period"]]
        y, p = rows["outcome"].to_numpy(), rows["risk"].to_numpy()
        assert entry["n"] == len(rows) and entry["events"] == int(y.sum())
        assert entry["n_patients"] == rows["patient"].nunique()
        perf = entry["performance"]
        assert perf["auroc"]["estimate"] == pytest.approx(auroc_score(y, p), abs=1e-12)
        assert perf["oe_ratio"]["estimate"] == pytest.approx(oe_ratio(y, p), abs=1e-12)
        assert perf["alert_rate"]["estimate"] == pytest.approx(float((p >= 0.2).mean()))
        assert perf["auroc"]["ci_low"] <= perf["auroc"]["estimate"] <= perf["auroc"]["ci_high"]
        direct = feature_drift_frame(reference(), rows[["age", "sex", "lactate"]], risk=p).to_dict()
        for got, want in zip(entry["drift"]["features"], direct["features"], strict=True):
            assert got == pytest.approx(want)
        assert entry["drift"]["risk"] == pytest.approx(direct["risk"])
        assert entry["estimated"]["estimated"] is True
        for row in entry["subgroups"]["sex"]:
            members = (rows["sex"] == row["group"]).to_numpy()
            assert row["n"] == int(members.sum()) and not row["suppressed"]
            assert row["auroc"]["estimate"] == pytest.approx(auroc_score(y[members], p[members]))
        assert entry["verdict"]["level"] in ("in_control", "investigate", "recalibrate", "suspend")
    assert document["verdict"]["period"] == MONTHS[-1]
    (run,) = _monitoring_runs(workspace)
    assert run.info.status == "FINISHED"
    assert run.data.tags["clinai.model_name"] == "tiny"
    assert run.data.tags["clinai.model_version"] == monitored["version"]
    assert run.data.tags["clinai.monitoring_verdict"] == document["verdict"]["level"]
    records = [
        json.loads(line) for line in (workspace / "runs" / "audit.jsonl").read_text().splitlines()
    ]
    assert (
        records[-1]["kind"] == "monitor" and records[-1]["verdict"] == document["verdict"]["level"]
    )
    _assert_no_patient_id(workspace / "mon", monitored["written"], run)


def _assert_no_patient_id(folder: Path, written: pd.DataFrame, run: Any) -> None:
    """Neither a raw id nor a pseudonym reaches an output file or the MLflow run's texts."""
    pseudonyms = set(written["patient_id"])
    texts = [path.read_text(errors="ignore") for path in folder.rglob("*") if path.is_file()]
    texts += [str(v) for v in {**run.data.tags, **run.data.params}.values()]
    for text in texts:
        assert CANARY_ID not in text
        assert not any(p in text for p in pseudonyms)


def test_embedded_outcomes_and_duplicate_files(monitored: dict[str, Any], workspace: Path) -> None:
    """Without --outcomes the predictions' own outcomes count; a file passed twice (once as a
    quoted glob) counts once."""
    code = _cli(
        "--predictions", "predictions.parquet", "--predictions", "predictions.*", "--out", "m"
    )
    assert code == 0
    document = json.loads((workspace / "m" / "monitoring.json").read_text(encoding="utf-8"))
    months = period_of(monitored["raw"])
    assert [p["n"] for p in document["periods"]] == [int((months == m).sum()) for m in MONTHS]
    assert document["inputs"]["duplicates_dropped"] == len(monitored["raw"])
    assert all(p["outcomes_available"] for p in document["periods"])
    assert document["inputs"]["outcomes"] is None


def test_period_without_events_is_not_assessable(
    monitored: dict[str, Any], workspace: Path
) -> None:
    raw = monitored["raw"].copy()
    raw.loc[period_of(raw) == MONTHS[0], "outcome"] = 0
    write_predictions(raw, workspace / "p0.parquet")
    assert _cli("--predictions", "p0.parquet", "--out", "m") == 0
    document = json.loads((workspace / "m" / "monitoring.json").read_text(encoding="utf-8"))
    first = document["periods"][0]
    assert first["events"] == 0 and first["performance"] is None
    kinds = {r["metric"]: r["kind"] for r in first["verdict"]["reasons"]}
    assert kinds.get("oe_ratio") == "not_assessable"


def _unscored(monitored: dict[str, Any], workspace: Path) -> list[str]:
    raw = monitored["raw"]
    extra = raw.iloc[:1].assign(patient="NEVER-SCORED")
    outcomes_file(pd.concat([raw, extra]), workspace / "o.csv")
    return ["--predictions", "predictions.parquet", "--outcomes", "o.csv"]


def _no_event(monitored: dict[str, Any], workspace: Path) -> list[str]:
    outcomes_file(monitored["raw"], workspace / "o.csv", outcome=0)
    return ["--predictions", "predictions.parquet", "--outcomes", "o.csv"]


def _mixed(monitored: dict[str, Any], workspace: Path) -> list[str]:
    write_predictions(monitored["raw"].iloc[:10], workspace / "v2.parquet", version="2")
    return ["--predictions", "predictions.parquet", "--predictions", "v2.parquet"]


def _version_without_plan(monitored: dict[str, Any], workspace: Path) -> list[str]:
    version = register_version(workspace, workspace / "tiny.yaml", plan_tag=False)
    write_predictions(monitored["raw"], workspace / "v.parquet", version=version)
    return ["--predictions", "v.parquet"]


def _missing_feature(monitored: dict[str, Any], workspace: Path) -> list[str]:
    write_predictions(monitored["raw"], workspace / "f.parquet", drop=("feature:lactate",))
    return ["--predictions", "f.parquet"]


def _future(monitored: dict[str, Any], workspace: Path) -> list[str]:
    raw = monitored["raw"].copy()
    raw.loc[0, "prediction_time"] = pd.Timestamp("2100-01-01")
    write_predictions(raw, workspace / "t.parquet")
    return ["--predictions", "t.parquet"]


def _edited_plan(monitored: dict[str, Any], workspace: Path) -> list[str]:
    config = monitored["config"]
    config["monitoring"] = {**PLAN, "min_events": 6}
    (workspace / "tiny.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return ["--predictions", "predictions.parquet"]


BAD_INPUTS = {
    "outcomes_for_unscored_ids": (_unscored, "never scored"),
    "outcomes_without_event": (_no_event, "has no event"),
    "mixed_model_versions": (_mixed, "several model versions (tiny v1, tiny v2)"),
    "version_without_the_plan": (_version_without_plan, "registered without a monitoring plan"),
    "feature_missing": (_missing_feature, "feature:lactate"),
    "prediction_time_in_future": (_future, "lie in the future"),
    "edited_plan": (_edited_plan, "was edited after version 1 of tiny"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exit_2_nothing_written_run_failed(
    case: str, monitored: dict[str, Any], workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, expected = BAD_INPUTS[case]
    args = make(monitored, workspace)
    capsys.readouterr()
    before = sorted(p.name for p in workspace.iterdir())
    assert _cli(*args, "--out", "mon") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err, err
    assert sorted(p.name for p in workspace.iterdir()) == before  # nothing written
    assert not (workspace / "runs" / "audit.jsonl").exists()
    assert [run.info.status for run in _monitoring_runs(workspace)] == ["FAILED"]


def test_debug_after_the_command_shows_the_traceback(monitored: dict[str, Any]) -> None:
    """``--debug`` after the command (the issue's usage line) re-raises instead of exit 2."""
    from clinai.exceptions import DataError

    with pytest.raises(DataError, match="does not exist"):
        _cli("--predictions", "nowhere.parquet", "--debug")


# A machine without WeasyPrint's system libraries (pango, cairo): importing weasyprint fails
# there, which this interpreter reproduces by refusing the import (None in sys.modules).
_WITHOUT_WEASYPRINT = """
import sys
sys.modules["weasyprint"] = None
from clinai.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow  # a second interpreter; the report step alone: tests/runs/test_monitor_output.py
def test_without_weasyprint_the_reports_are_written_and_the_pdf_skip_is_one_line(
    monitored: dict[str, Any], workspace: Path
) -> None:
    args = ["monitor", "tiny.yaml", "--quiet", "--predictions", "predictions.parquet"]
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_WEASYPRINT, *args, "--out", "m"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    folder = workspace / "m"
    written = {p.name for p in folder.iterdir()}
    for suffix in ("", ".da"):
        assert {f"monitoring_report{suffix}.html", f"monitoring_report{suffix}.md"} <= written
    assert not list(folder.glob("*.pdf"))
    said = [line for line in result.stderr.splitlines() if "PDF skipped" in line]
    assert len(said) == 1, result.stderr
    assert "pip install weasyprint" in said[0]  # what to install, on the same line
    assert "written to" in result.stdout
