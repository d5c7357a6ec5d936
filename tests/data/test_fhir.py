"""FHIR R4 Bulk Data NDJSON ingest: resources to tables, every skipped line counted.

The resources below are written for these tests in the shape of the FHIR R4 spec's
vital-signs examples (heart rate, blood pressure panel with components, SpO2 by pulse
oximetry, body temperature), with made-up identifiers and values.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from clinai.data import read_fhir_ndjson
from clinai.data._fhir_report import (
    FHIR_FILE_MSG,
    FHIR_LINE_MSG,
    FHIR_MAX_LINES,
    REASONS,
    collect_fhir_reports,
    fhir_quality_checks,
)
from clinai.exceptions import DataError

LOINC = "http://loinc.org"


def _code(*codes: str) -> dict:
    return {"coding": [{"system": LOINC, "code": c} for c in codes]}


def _obs(oid: str, codes: tuple[str, ...], value: dict | None, **extra: object) -> dict:
    resource = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [{"coding": [{"code": "vital-signs"}]}],
        "code": _code(*codes),
        "subject": {"reference": "Patient/pat-a"},
        "encounter": {"reference": "Encounter/enc-1"},
        "effectiveDateTime": "2026-03-01T10:00:00+01:00",
    }
    if value is not None:
        resource.update(value)
    resource.update(extra)
    return resource


def _qty(value: float, code: str) -> dict:
    return {
        "valueQuantity": {
            "value": value,
            "unit": code,
            "system": "http://unitsofmeasure.org",
            "code": code,
        }
    }


PATIENTS = [
    {"resourceType": "Patient", "id": "pat-a", "gender": "female", "birthDate": "1950-04-02"},
    {
        "resourceType": "Patient",
        "id": "pat-b",
        "gender": "male",
        "birthDate": "1941-11-20",
        "deceasedDateTime": "2026-03-05T02:30:00Z",
    },
]
ENCOUNTERS = [
    {
        "resourceType": "Encounter",
        "id": "enc-1",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": "Patient/pat-a"},
        "period": {"start": "2026-03-01T08:00:00Z", "end": "2026-03-04T12:00:00Z"},
    },
    {
        "resourceType": "Encounter",
        "id": "enc-2",
        "status": "in-progress",
        "class": {"code": "ACUTE"},
        "subject": {"reference": "https://fhir.example.org/r4/Patient/pat-b"},
        "period": {"start": "2026-03-02T20:00:00-05:00"},
    },
]
BP_PANEL = _obs(
    "bp-1",
    ("85354-9",),
    None,
    component=[
        {"code": _code("8480-6"), **_qty(142, "mm[Hg]")},
        {"code": _code("8462-4"), **_qty(88, "mm[Hg]")},
    ],
)
OBSERVATIONS = [
    _obs("hr-1", ("8867-4",), _qty(104, "/min")),
    _obs("rr-1", ("9279-1",), _qty(22, "/min")),
    _obs("spo2-1", ("59408-5", "2708-6"), _qty(93, "%")),
    BP_PANEL,
    _obs("temp-1", ("8310-5",), _qty(38.4, "Cel")),
    _obs("gcs-1", ("9269-2",), {"valueInteger": 14}),
    _obs(
        "avpu-1",
        ("67775-7",),
        {"valueCodeableConcept": {"coding": [{"display": "Voice"}], "text": "Voice"}},
    ),
    _obs("o2-1", ("3151-8",), _qty(2, "L/min")),
    _obs("fio2-1", ("3150-0",), _qty(21, "%")),
]
CONDITION = {
    "resourceType": "Condition",
    "id": "cond-1",
    "code": {
        "coding": [{"system": "http://snomed.info/sct", "code": "91302008", "display": "Sepsis"}]
    },
    "subject": {"reference": "Patient/pat-a"},
    "encounter": {"reference": "Encounter/enc-1"},
    "onsetDateTime": "2026-03-01T09:00:00Z",
    "recordedDate": "2026-03-01T11:00:00Z",
}
PROCEDURE = {
    "resourceType": "Procedure",
    "id": "proc-1",
    "status": "completed",
    "code": {
        "coding": [
            {"system": "http://snomed.info/sct", "code": "40617009", "display": "Ventilation"}
        ]
    },
    "subject": {"reference": "Patient/pat-b"},
    "encounter": {"reference": "Encounter/enc-2"},
    "performedPeriod": {"start": "2026-03-03T01:00:00Z"},
}


def _write(path: Path, lines: list[object]) -> Path:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.fixture
def export(tmp_path: Path) -> list[Path]:
    return [
        _write(tmp_path / "Patient.ndjson", PATIENTS),
        _write(tmp_path / "Encounter.ndjson", ENCOUNTERS),
        _write(
            tmp_path / "Observation.ndjson",
            [
                *OBSERVATIONS,
                "{not json",  # line 10
                _obs("lab-1", ("2160-0",), _qty(1.1, "mg/dL")),  # creatinine: not a vital sign
                _obs("hr-2", ("8867-4",), _qty(99, "/min"), subject={}),  # no subject
                _obs("hr-3", ("8867-4",), _qty(98, "/min"), status="entered-in-error"),
                "",
                _obs("hr-4", ("8867-4",), None),  # no value
                "[1, 2]",
            ],
        ),
        _write(
            tmp_path / "Other.ndjson",
            [CONDITION, PROCEDURE, {"resourceType": "MedicationRequest", "id": "m1"}, {"id": "x"}],
        ),
    ]


def test_tables_from_an_export(export) -> None:
    tables = read_fhir_ndjson(export)
    assert tables.patients.to_dict("list") == {
        "patient_id": ["pat-a", "pat-b"],
        "gender": ["female", "male"],
        "birth_date": ["1950-04-02", "1941-11-20"],
        "deceased": [None, True],
        "deceased_time": [pd.NaT, pd.Timestamp("2026-03-05T02:30:00Z")],
    }
    enc = tables.encounters
    assert enc["stay_id"].tolist() == ["enc-1", "enc-2"]
    assert enc["patient_id"].tolist() == ["pat-a", "pat-b"]  # full URL reference resolved
    assert enc["class"].tolist() == ["IMP", "ACUTE"]
    assert enc["start"].tolist() == [
        pd.Timestamp("2026-03-01T08:00:00Z"),
        pd.Timestamp("2026-03-03T01:00:00Z"),  # -05:00 converted to UTC
    ]
    assert enc["end"].isna().tolist() == [False, True]

    vitals = tables.vitals
    assert list(vitals.columns) == ["stay_id", "patient_id", "time", "parameter", "value", "unit"]
    got = list(zip(vitals["parameter"], vitals["value"], vitals["unit"], strict=True))
    assert got == [
        ("heart_rate", 104.0, "/min"),
        ("resp_rate", 22.0, "/min"),
        ("spo2", 93.0, "%"),
        ("sbp", 142.0, "mm[Hg]"),
        ("dbp", 88.0, "mm[Hg]"),
        ("temperature", 38.4, "Cel"),
        ("gcs", 14.0, "{score}"),
        ("consciousness", 2.0, "{ACVPU}"),  # V of ACVPU
        ("supplemental_oxygen", 1.0, "0/1"),  # 2 L/min
        ("supplemental_oxygen", 0.0, "0/1"),  # FiO2 21 % is room air
    ]
    assert set(vitals["stay_id"]) == {"enc-1"}
    assert set(vitals["time"]) == {pd.Timestamp("2026-03-01T09:00:00Z")}  # +01:00 -> UTC

    assert tables.conditions.iloc[0].to_dict() == {
        "condition_id": "cond-1",
        "patient_id": "pat-a",
        "stay_id": "enc-1",
        "system": "http://snomed.info/sct",
        "code": "91302008",
        "display": "Sepsis",
        "onset": pd.Timestamp("2026-03-01T09:00:00Z"),
        "recorded": pd.Timestamp("2026-03-01T11:00:00Z"),
    }
    proc = tables.procedures.iloc[0]
    assert (proc["procedure_id"], proc["stay_id"], proc["status"]) == (
        "proc-1",
        "enc-2",
        "completed",
    )
    assert proc["performed"] == pd.Timestamp("2026-03-03T01:00:00Z")


def test_every_skipped_line_is_counted_per_file_and_reason(export) -> None:
    report = read_fhir_ndjson(export).report
    problems = {(p.file, p.reason): (p.count, p.first_line) for p in report.problems}
    assert problems == {
        ("Observation.ndjson", "not_json"): (1, 10),
        ("Observation.ndjson", "unknown_loinc_code"): (1, 11),
        ("Observation.ndjson", "missing_subject"): (1, 12),
        ("Observation.ndjson", "entered_in_error"): (1, 13),
        ("Observation.ndjson", "missing_value"): (1, 15),
        ("Observation.ndjson", "not_an_object"): (1, 16),
        ("Other.ndjson", "unknown_resource_type"): (1, 3),
        ("Other.ndjson", "missing_resource_type"): (1, 4),
    }
    assert report.n_lines == 2 + 2 + 16 + 4
    assert report.n_blank == 1
    # used + skipped + blank accounts for every line read
    assert sum(report.resources.values()) + report.n_skipped + report.n_blank == report.n_lines
    assert report.resources == {
        "Condition": 1,
        "Encounter": 2,
        "Observation": 9,
        "Patient": 2,
        "Procedure": 1,
    }
    assert report.rows == {
        "patients": 2,
        "encounters": 2,
        "vitals": 10,
        "conditions": 1,
        "procedures": 1,
    }


def test_report_to_dict_is_json_and_holds_no_patient_values(export) -> None:
    payload = read_fhir_ndjson(export).report.to_dict()
    text = json.dumps(payload)
    for secret in ("pat-a", "pat-b", "enc-1", "1950-04-02", "104", "Sepsis"):
        assert secret not in text
    first = payload["problems"][0]
    assert set(first) == {
        "file",
        "reason",
        "description",
        "count",
        "first_line",
        "lines",
        "lines_not_listed",
        "numbering",
    }
    assert first["description"] == REASONS[first["reason"]]


def _damaged_export(tmp_path: Path, bad: set[int], n_lines: int) -> Path:
    """One Patient file of ``n_lines`` lines; the line numbers in ``bad`` are not JSON."""
    path = tmp_path / "Patient.ndjson"
    lines = [
        "{oops" if number in bad else json.dumps({"resourceType": "Patient", "id": f"p{number}"})
        for number in range(1, n_lines + 1)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_every_damaged_line_is_listed_not_only_the_first(tmp_path, caplog) -> None:
    path = _damaged_export(tmp_path, {2557, 2790}, 3000)
    with caplog.at_level("WARNING", logger="clinai.data._fhir"):
        (problem,) = read_fhir_ndjson(path).report.problems
    assert (problem.count, problem.first_line, problem.lines) == (2, 2557, (2557, 2790))
    assert problem.describe() == "2 lines (not valid JSON): lines 2557, 2790"
    assert problem.to_dict()["lines"] == [2557, 2790]
    assert problem.to_dict()["lines_not_listed"] == 0
    assert "lines 2557, 2790" in caplog.text


def test_listed_lines_are_capped_with_the_count_of_the_rest(tmp_path) -> None:
    bad = set(range(10, 10 + 3 * 73, 3))  # 73 damaged lines
    path = _damaged_export(tmp_path, bad, 400)
    (problem,) = read_fhir_ndjson(path).report.problems
    assert problem.count == 73
    assert problem.lines == tuple(sorted(bad))[:FHIR_MAX_LINES]
    assert problem.lines_not_listed == 73 - FHIR_MAX_LINES
    text = problem.describe()
    assert text.startswith("73 lines (not valid JSON): lines 10, 13, 16, ")
    assert text.endswith(f", {sorted(bad)[FHIR_MAX_LINES - 1]} and 23 more")


def test_collected_reports_become_data_checks(export) -> None:
    with collect_fhir_reports() as reports:
        read_fhir_ndjson(export)
    read_fhir_ndjson(export)  # outside the block: not collected
    assert len(reports) == 1
    checks = {(c.column, c.message.split(":")[0]): c for c in fhir_quality_checks(reports)}
    damaged = checks[("Observation.ndjson", "1 line (not valid JSON)")]
    assert (damaged.name, damaged.status, damaged.count) == ("fhir_lines", "warn", 1)
    assert damaged.message.startswith("1 line (not valid JSON): line 10; fix or remove")
    expected = checks[("Other.ndjson", "1 line (a resource type clinai does not read)")]
    assert expected.status == "pass"
    assert len(checks) == len(reports[0].problems)


def test_gzip_files_read_the_same(export, tmp_path) -> None:
    zipped = []
    for path in export:
        target = tmp_path / f"{path.name}.gz"
        target.write_bytes(gzip.compress(path.read_bytes()))
        zipped.append(target)
    plain, packed = read_fhir_ndjson(export), read_fhir_ndjson(zipped)
    pd.testing.assert_frame_equal(plain.vitals, packed.vitals)
    pd.testing.assert_frame_equal(plain.patients, packed.patients)
    assert [p.count for p in plain.report.problems] == [p.count for p in packed.report.problems]


def test_strict_mode_names_file_and_line(export) -> None:
    msg = FHIR_LINE_MSG.format(file="Observation.ndjson", line=10, problem="not valid JSON")
    with pytest.raises(DataError, match=re.escape(msg)):
        read_fhir_ndjson(export, strict=True)


def test_strict_mode_accepts_other_resource_types(tmp_path) -> None:
    path = _write(tmp_path / "x.ndjson", [*PATIENTS, {"resourceType": "Location", "id": "w1"}])
    tables = read_fhir_ndjson(str(path), strict=True)
    assert len(tables.patients) == 2
    assert [(p.reason, p.count) for p in tables.report.problems] == [("unknown_resource_type", 1)]


def test_strict_mode_raises_on_an_observation_without_a_code(tmp_path) -> None:
    # (a lab's LOINC code is expected in an export, and counted: see test_fhir_exports.py)
    path = _write(tmp_path / "obs.ndjson", [_obs("lab", (), _qty(1.0, "mg/dL"))])
    problem = REASONS["missing_code"]
    with pytest.raises(
        DataError, match=re.escape(FHIR_LINE_MSG.format(file="obs.ndjson", line=1, problem=problem))
    ):
        read_fhir_ndjson(path, strict=True)


def test_empty_export_gives_empty_typed_tables(tmp_path) -> None:
    tables = read_fhir_ndjson(_write(tmp_path / "empty.ndjson", []))
    assert tables.vitals.empty
    assert tables.vitals.columns[0] == "stay_id"
    assert str(tables.vitals["time"].dtype) == "datetime64[ns, UTC]"
    assert tables.report.n_blank == 1


def test_unreadable_file_is_one_clear_error(tmp_path) -> None:
    missing = tmp_path / "nope.ndjson"
    with pytest.raises(DataError, match=re.escape(f"FHIR file {missing} cannot be read")):
        read_fhir_ndjson([missing])
    assert FHIR_FILE_MSG.startswith("FHIR file {file}")
    # (a gzip file cut short is read up to the break: see test_fhir_exports.py)


def test_vitals_table_feeds_the_vitals_cleaner(export) -> None:
    from clinai.data import clean_vitals

    vitals = read_fhir_ndjson(export).vitals
    cleaned, report = clean_vitals(vitals.drop(columns=["patient_id"]), source="FHIR")
    got = dict(zip(cleaned["parameter"], cleaned["value"], strict=True))
    # every unit and parameter is understood; only the second oxygen row of the same
    # minute (flow and FiO2 both say "on oxygen") is dropped, and counted
    assert report.to_dict()["dropped"] == {"supplemental_oxygen": {"duplicate": 1}}
    assert len(cleaned) == len(vitals) - 1
    assert got["sbp"] == 142.0
    assert got["temperature"] == pytest.approx(38.4)
    assert got["consciousness"] == 2.0
