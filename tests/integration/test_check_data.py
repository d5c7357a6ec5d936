"""`clinai check-data CONFIG` and the data_quality.json of the prepare stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from clinai.cli import main

from .conftest import CANARY_ID, FIXTURES, synthetic_frame

pytestmark = pytest.mark.integration
# check-data must write nothing, mlruns.db included: no pre-made store.
FRESH_STORE = True


def _checks(payload: dict) -> dict[tuple[str, str | None], dict]:
    return {(c["name"], c["column"]): c for c in payload["checks"]}


def test_check_data_passes_prints_a_table_and_writes_json(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check-data", "tiny.yaml", "--out", "dq.json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Data checks of tiny" in captured.out
    assert "outcome_prevalence" in captured.out
    payload = json.loads((workspace / "dq.json").read_text())
    assert payload["experiment"] == "tiny"
    assert payload["status"] == "pass"
    checks = _checks(payload)
    assert checks[("split_overlap", "patient")]["status"] == "pass"
    assert checks[("duplicate_ids", "patient")]["status"] == "pass"
    assert checks[("type", "lactate")]["status"] == "pass"
    prevalence = checks[("outcome_prevalence", "outcome")]
    frame = synthetic_frame()
    assert prevalence["count"] == int(frame.loc[frame["age"] >= 18, "event"].sum())
    assert CANARY_ID not in (workspace / "dq.json").read_text()
    assert CANARY_ID not in captured.out + captured.err
    assert not (workspace / "runs").exists()  # check-data writes no run directory


def test_check_data_without_out_prints_only(workspace: Path) -> None:
    before = {p.name for p in workspace.iterdir()}
    assert main(["check-data", "tiny.yaml", "--set", "split.test_size=0.25"]) == 0
    assert {p.name for p in workspace.iterdir()} == before


def test_failing_check_exits_2_after_writing_the_report(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = synthetic_frame()
    frame["patient"] = [f"{CANARY_ID}-{i // 2:04d}" for i in range(len(frame))]
    frame.to_csv(workspace / "patients.csv", index=False)
    code = main(["check-data", "tiny.yaml", "--set", "split.method=stratified", "--out", "q.json"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.strip().splitlines() == [
        "error: data check duplicate_ids failed for column 'patient': 150 row(s) repeat an "
        "identifier: remove the duplicates, or keep each identifier's rows together "
        "(split.method: grouped)"
    ]
    payload = json.loads((workspace / "q.json").read_text())
    assert payload["status"] == "fail"
    assert _checks(payload)[("split_overlap", "patient")]["status"] == "fail"
    assert CANARY_ID not in (workspace / "q.json").read_text() + captured.out


def test_prevalence_outside_the_band_is_a_warning_not_a_failure(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = synthetic_frame()
    frame["event"] = (frame.index % 4 != 0).astype(int)  # 75 % events
    frame.to_csv(workspace / "patients.csv", index=False)
    assert main(["check-data", "tiny.yaml", "--out", "q.json"]) == 0
    payload = json.loads((workspace / "q.json").read_text())
    assert payload["status"] == "warn"
    assert _checks(payload)[("outcome_prevalence", "outcome")]["status"] == "warn"
    assert "warn" in capsys.readouterr().out


def test_prepare_writes_data_quality_json(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = yaml.safe_load((workspace / "tiny.yaml").read_text())
    config["tracking"] = {"enabled": False}
    (workspace / "tiny.yaml").write_text(yaml.safe_dump(config))
    assert main(["prepare", "tiny.yaml"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    payload = json.loads((run_dir / "data_quality.json").read_text())
    assert payload["schema_version"] == 1
    assert payload["status"] == "pass"
    assert payload["n_rows"] == json.loads((run_dir / "data_manifest.json").read_text())["n"]
    assert CANARY_ID not in (run_dir / "data_quality.json").read_text()


def test_columns_46_percent_empty_warn_listed_and_counted(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reported as 0 missing and 'pass' before: the summary row said 0, the level was 50 %."""
    frame = synthetic_frame()
    empty = frame.index % 50 < 23  # 46 % of the rows
    frame.loc[empty, "lactate"] = None
    frame["sex"] = frame["sex"].where(~empty)
    frame.to_csv(workspace / "patients.csv", index=False)
    assert main(["check-data", "tiny.yaml", "--out", "q.json"]) == 0
    out = capsys.readouterr().out
    payload = json.loads((workspace / "q.json").read_text())
    n_empty = int(empty.sum())
    assert n_empty == 138
    assert payload["status"] == "warn"
    assert payload["n_missing_cells"] == 2 * n_empty
    checks = _checks(payload)
    for column in ("sex", "lactate"):
        assert checks[("missing", column)]["status"] == "warn"
        assert checks[("missing", column)]["count"] == n_empty
        assert checks[("missing", column)]["message"].startswith(
            "46% of values are missing (138 of 300"
        )
    assert "Data checks of tiny: 300 rows, 276 missing feature values, warn" in out
    assert "columns with 20% or more missing: lactate (46%), sex (46%)" in out


def test_passed_rows_of_the_table_keep_their_counts() -> None:
    from clinai.data import QualityCheck, quality_report
    from clinai.runs._check_data import PASSED_TOTAL_MSG, quality_table

    checks = [QualityCheck("missing", "pass", n, c, "") for n, c in ((5, "a"), (7, "b"))]
    table = quality_table(quality_report(checks, n_rows=100), title="t")
    cells = [list(column.cells) for column in table.columns]
    assert [row for row in zip(*cells, strict=True)] == [
        ("missing", "2 columns", "[green]pass[/green]", "12", PASSED_TOTAL_MSG)
    ]


def test_text_in_a_numeric_column_stops_check_data(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, 'abc' in one row turned lactate into a categorical feature, silently."""
    frame = synthetic_frame()
    frame["lactate"] = frame["lactate"].astype(object)
    frame.loc[57, "lactate"] = "abc"
    frame.to_csv(workspace / "patients.csv", index=False)
    assert main(["check-data", "tiny.yaml"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: column 'lactate': 1 row holds text in a numeric column (data row 58): fix the "
        "value(s) in the data, or declare the column categorical in the pipeline "
        "(CATEGORICAL = [...] in the pipeline module, or .astype('category') in features())"
    ]


def test_a_column_the_pipeline_declares_categorical_may_hold_text(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = synthetic_frame()
    frame["lactate"] = frame["lactate"].round(0).astype(int).astype(object)
    frame.loc[57, "lactate"] = "unmeasurable"
    frame.to_csv(workspace / "patients.csv", index=False)
    source = (FIXTURES / "tiny_pipeline.py").read_text(encoding="utf-8")
    (workspace / "declared.py").write_text(source + '\nCATEGORICAL = ["lactate"]\n')
    assert main(["check-data", "tiny.yaml", "--set", "pipeline=declared.py"]) == 0
    (workspace / "declared.py").write_text(source + '\nCATEGORICAL = ["lactat"]\n')
    assert main(["check-data", "tiny.yaml", "--set", "pipeline=declared.py"]) == 2
    assert "CATEGORICAL of pipeline 'declared.py' names 'lactat'" in capsys.readouterr().err


FHIR_PIPELINE = '''
"""A tiny use case whose load() reads a FHIR export (synthetic, for the tests)."""
import pandas as pd
from clinai.data import read_fhir_ndjson

METADATA = {"title": "FHIR test", "setting": "acute", "dataset": "synthetic FHIR",
            "outcome": "death", "prediction_time": "admission", "intended_use": "tests"}


def load(path):
    patients = read_fhir_ndjson(path).patients
    return pd.DataFrame({"patient": patients["patient_id"], "sex": patients["gender"],
                         "event": patients["deceased"].fillna(False).astype(int)})


def exclusions(raw):
    return []


def outcome(cohort):
    return cohort["event"]


def features(cohort):
    return cohort[["sex"]]


def sensitive_attributes(cohort):
    return cohort[["sex"]].astype(str)
'''


def test_check_data_lists_every_damaged_fhir_line(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, only the first damaged line per reason was named (in a log line)."""
    bad = list(range(100, 100 + 2 * 60, 2))  # 60 damaged lines
    lines = []
    for number in range(1, 400):
        resource = {
            "resourceType": "Patient",
            "id": f"{CANARY_ID}-{number}",
            "gender": "female" if number % 2 else "male",
            "deceasedBoolean": number % 5 == 0,
        }
        lines.append("{oops" if number in bad else json.dumps(resource))
    (workspace / "Patient.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (workspace / "fhir_case.py").write_text(FHIR_PIPELINE, encoding="utf-8")
    overrides = [
        "--set",
        "pipeline=fhir_case.py",
        "--set",
        "data.source.type=pipeline",
        "--set",
        "data.source.path=null",
        "--set",
        "data.source.options.path=Patient.ndjson",
    ]
    code = main(["check-data", "tiny.yaml", *overrides, "--out", "q.json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    payload = json.loads((workspace / "q.json").read_text())
    check = _checks(payload)[("fhir_lines", "Patient.ndjson")]
    listed = ", ".join(map(str, bad[:50]))
    assert check["status"] == "warn"
    assert check["count"] == 60
    assert check["message"] == (
        f"60 lines (not valid JSON): lines {listed} and 10 more; fix or remove the line(s) "
        "in the export and read it again"
    )
    assert "fhir_lines" in captured.out and "Patient.ndjson" in captured.out
    assert CANARY_ID not in (workspace / "q.json").read_text() + captured.out
