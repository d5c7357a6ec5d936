"""`clinai validate --time --event --horizon`: WHAS500 with a Cox model's 1-year risk, bad input."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from clinai.cli import main
from clinai.runs._validate_survival import validate_survival_file

from ..conftest import require_weasyprint

CANARY = "CANARY-PATIENT-surv"
HORIZON = 365.0


@pytest.fixture(scope="module")
def predictions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """WHAS500 with a Cox model's predicted risk of death within a year (in-sample)."""
    from sksurv.datasets import load_whas500
    from sksurv.linear_model import CoxPHSurvivalAnalysis

    x, y = load_whas500()
    features = x[["age", "bmi", "hr", "sysbp", "diasbp"]].astype(float)
    model = CoxPHSurvivalAnalysis().fit(features, y)
    survival = model.predict_survival_function(features)
    frame = pd.DataFrame(
        {
            "patient": [f"{CANARY}-{i}" for i in range(len(features))],
            "days": y["lenfol"],
            "died": y["fstat"].astype(int),
            "risk": [1.0 - float(fn(HORIZON)) for fn in survival],
            "lp": model.predict(features),
            "gender": np.where(x["gender"].astype(str) == "1", "male", "female"),
        }
    )
    path = tmp_path_factory.mktemp("whas") / "whas500_predictions.csv"
    frame.to_csv(path, index=False)
    return path


ARGS = ["--time", "days", "--event", "died", "--horizon", "365", "--score", "risk"]


EXTRA = ["--lp", "lp", "--patient", "patient", "--group", "gender", "--bootstrap", "20"]


@pytest.fixture(scope="module")
def out(predictions: Path) -> Path:
    """The run's folder without PDFs (printing them takes most of a run's time)."""
    folder = predictions.parent / "validation"
    validate_survival_file(
        predictions,
        time="days",
        event="died",
        horizon=HORIZON,
        score="risk",
        lp="lp",
        patient="patient",
        groups=["gender"],
        n_boot=10,
        out_dir=folder,
        show_progress=False,
        pdf=False,
    )
    return folder


@pytest.mark.slow
def test_cli_writes_the_reports_with_pdfs(predictions: Path, tmp_path: Path) -> None:
    require_weasyprint()  # OSError, not ImportError, where pango is missing: importorskip fails
    code = main(["validate", str(predictions), *ARGS, *EXTRA, "--out", str(tmp_path / "v")])
    assert code == 0
    assert (tmp_path / "v" / "validation_report.pdf").is_file()
    assert (tmp_path / "v" / "validation_report.da.pdf").is_file()


def test_outputs_are_listed_and_the_json_matches_its_schema(out: Path) -> None:
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    expected = {
        "survival_metrics.json",
        "audit.json",
        "validation_report.html",
        "validation_report.md",
        "validation_report.da.html",
        "validation_report.da.md",
        "plots/risk_groups.png",
        "plots/calibration_curve.png",
        "plots/decision_curve.png",
        "plots/risk_groups.da.png",
    }
    assert expected <= names
    audit = json.loads((out / "audit.json").read_text())
    assert set(audit["outputs"]) == names - {"audit.json"}
    document = json.loads((out / "survival_metrics.json").read_text())
    schema = resources.files("clinai.reporting").joinpath("schemas/survival_metrics.schema.json")
    jsonschema.validate(document, json.loads(schema.read_text()))
    assert document["calibration_covariate"] == "lp"
    assert 0.6 < document["metrics"]["harrell_c"]["estimate"] < 0.8
    assert "Of 100 patients like these" in (out / "validation_report.md").read_text()
    assert "Af 100 patienter som disse" in (out / "validation_report.da.md").read_text()


def test_no_patient_identifier_reaches_any_output(out: Path) -> None:
    for path in out.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path


def _write(predictions: Path, folder: Path, change: dict) -> Path:
    original = pd.read_csv(predictions)
    frame = original.copy()
    for column, values in change.items():
        frame[column] = values(original) if callable(values) else values
    path = folder / "bad.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("change", "args", "expect"),
    [
        ({"days": lambda f: f["days"].where(f.index != 3, -5)}, [], ["'days'", "negative"]),
        ({"days": lambda f: f["days"].where(f.index != 3, np.nan)}, [], ["'days'", "missing"]),
        ({"died": lambda f: f["died"].where(f.index != 3, 2)}, [], ["'died'", "got 2"]),
        ({}, ["--event-codes", "1,2"], ["'died'", "1 (censored) and 2 (event)"]),
        ({}, ["--horizon", "9999"], ["--horizon 9999", "last follow-up"]),
        ({"died": lambda f: np.where(f["days"] <= 365, 0, f["died"])}, [], ["no events up to"]),
        ({"days": 0.0}, [], ["follow-up 0", "'days'"]),
        (
            {"days": lambda f: f["died"], "died": lambda f: f["days"]},
            [],
            ["look swapped", "--time died --event days"],
        ),
        ({"risk": lambda f: f["risk"] * 3}, [], ["'risk'", "[0, 1]"]),
        ({}, ["--outcome", "died"], ["--time needs --event and --horizon"]),
    ],
)
def test_bad_input_stops_with_one_line_and_writes_nothing(
    predictions: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict,
    args: list[str],
    expect: list[str],
) -> None:
    path = _write(predictions, tmp_path, change)
    argv = ["validate", str(path), *ARGS, *args, "--bootstrap", "2", "--quiet"]
    code = main([*argv, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    for text in expect:
        assert text in err, err
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out*"))
