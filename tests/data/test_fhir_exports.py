"""FHIR exports written the way other systems write them, read to the right values.

Each fixture mimics a shape seen in real exports (Synthea Bundles and ``urn:uuid``
references, HAPI/Epic/Cerner style references and codings, UCUM unit variants,
statuses, time zones, file encodings); identifiers and values are made up.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from pathlib import Path

import pandas as pd
import pytest

from clinai.data import read_fhir_ndjson
from clinai.data._fhir_report import (
    FHIR_EMPTY_FOLDER_MSG,
    FHIR_ENTRY_MSG,
    FHIR_LINE_MSG,
    REASONS,
    collect_fhir_reports,
    fhir_quality_checks,
)
from clinai.exceptions import DataError
from tests.data.test_fhir import (
    BP_PANEL,
    CONDITION,
    ENCOUNTERS,
    OBSERVATIONS,
    PATIENTS,
    _code,
    _obs,
    _qty,
    _write,
)

UTC = "2026-03-01T{}Z"


def _read(tmp_path: Path, resources: list[object], name: str = "Observation.ndjson", **kw):
    tables = read_fhir_ndjson(_write(tmp_path / name, resources), **kw)
    reasons = {p.reason: p.lines for p in tables.report.problems}
    return tables, reasons


def _vital_rows(tables) -> list[tuple[str, float, str]]:
    vitals = tables.vitals
    values = [round(v, 2) for v in vitals["value"]]
    return list(zip(vitals["parameter"], values, vitals["unit"], strict=True))


# --- files -----------------------------------------------------------------------


def test_bom_crlf_blank_and_partial_lines(tmp_path) -> None:
    # Windows tools write a UTF-8 BOM and CRLF; an interrupted copy ends mid-line
    text = "\r\n".join([json.dumps(PATIENTS[0]), "", json.dumps(PATIENTS[1]), '{"resourceTy'])
    path = tmp_path / "Patient.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    tables = read_fhir_ndjson(path)
    assert tables.patients["patient_id"].tolist() == ["pat-a", "pat-b"]
    assert [(p.reason, p.lines) for p in tables.report.problems] == [("not_json", (4,))]
    assert (tables.report.n_lines, tables.report.n_blank) == (4, 1)


def test_a_line_that_is_not_utf8_is_one_skipped_line(tmp_path) -> None:
    # one record re-encoded as Latin-1 by a tool on the way (the name "Zoë")
    bad = json.dumps({**PATIENTS[1], "name": [{"given": ["Zoë"]}]}, ensure_ascii=False)
    lines = [json.dumps(PATIENTS[0]).encode(), bad.encode("latin-1"), b"{oops"]
    path = tmp_path / "Patient.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    tables = read_fhir_ndjson(path)
    assert tables.patients["patient_id"].tolist() == ["pat-a"]
    assert [(p.reason, p.lines) for p in tables.report.problems] == [
        ("not_json", (3,)),
        ("not_utf8", (2,)),
    ]
    msg = FHIR_LINE_MSG.format(file="Patient.ndjson", line=2, problem=REASONS["not_utf8"])
    with pytest.raises(DataError, match=re.escape(msg)):
        read_fhir_ndjson(path, strict=True)


def test_a_gzip_file_cut_short_keeps_the_lines_before_the_break(tmp_path, caplog) -> None:
    # an interrupted transfer: the first half of the compressed bytes of 400 Patients
    lines = [{**PATIENTS[0], "id": f"p{i:03d}"} for i in range(400)]
    packed = gzip.compress(_write(tmp_path / "all.ndjson", lines).read_bytes())
    cut = tmp_path / "Patient.ndjson.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    whole = zlib.decompressobj(wbits=31).decompress(cut.read_bytes()).count(b"\n")
    assert 0 < whole < 400
    stays = _write(tmp_path / "Encounter.ndjson", ENCOUNTERS)
    with caplog.at_level("WARNING", logger="clinai.data._fhir"):
        tables = read_fhir_ndjson([cut, stays])
    assert tables.patients["patient_id"].tolist() == [f"p{i:03d}" for i in range(whole)]
    assert len(tables.encounters) == 2  # the next file is read as well
    report = tables.report
    assert [(p.file, p.reason, p.lines) for p in report.problems] == [
        ("Patient.ndjson.gz", "truncated", (whole + 1,))
    ]
    assert sum(report.resources.values()) + report.n_skipped + report.n_blank == report.n_lines
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning.startswith(f"Patient.ndjson.gz: 1 line ({REASONS['truncated']}): line ")
    msg = FHIR_LINE_MSG.format(file=cut.name, line=whole + 1, problem=REASONS["truncated"])
    with pytest.raises(DataError, match=re.escape(msg)):
        read_fhir_ndjson(cut, strict=True)
    # cut before the first line ends, and inside the gzip trailer (after every line)
    for end, kept in ((30, 0), (-4, 400)):
        cut.write_bytes(packed[:end])
        tables = read_fhir_ndjson(cut)
        assert len(tables.patients) == kept
        assert [(p.reason, p.lines) for p in tables.report.problems] == [("truncated", (kept + 1,))]


def _synthea_bundle() -> dict:
    """A Synthea-style transaction Bundle: UUID ids, ``urn:uuid`` references."""
    pid, eid = "3f1c5a2e-8d4b-4c1e-9b7a-2d5e6f708192", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    patient = {"resourceType": "Patient", "id": pid, "gender": "male", "birthDate": "1960-01-02"}
    encounter = {
        "resourceType": "Encounter",
        "id": eid,
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": f"urn:uuid:{pid}"},
        "period": {"start": "2026-03-01T08:00:00-05:00", "end": "2026-03-02T08:00:00-05:00"},
    }
    heart = _obs("hr-s", ("8867-4",), _qty(88, "/min"))
    heart |= {
        "subject": {"reference": f"urn:uuid:{pid}"},
        "encounter": {"reference": f"urn:uuid:{eid}"},
    }
    claim = {"resourceType": "Claim", "id": "c1"}
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": f"urn:uuid:{r['id']}", "resource": r, "request": {"method": "POST"}}
            for r in (patient, encounter, heart, claim)
        ]
        + [{"fullUrl": "urn:uuid:0"}],  # an entry without a resource
    }


def test_a_pretty_printed_bundle_file_is_read_entry_by_entry(tmp_path) -> None:
    path = tmp_path / "Bundle.json"
    path.write_text(json.dumps(_synthea_bundle(), indent=2), encoding="utf-8")
    tables = read_fhir_ndjson(path)
    assert tables.patients["patient_id"].str.len().tolist() == [36]
    assert tables.encounters["patient_id"].tolist() == tables.patients["patient_id"].tolist()
    assert tables.encounters["start"].tolist() == [pd.Timestamp(UTC.format("13:00:00"))]
    assert _vital_rows(tables) == [("heart_rate", 88.0, "/min")]
    assert tables.vitals["stay_id"].tolist() == tables.encounters["stay_id"].tolist()
    report = tables.report
    assert report.n_lines == 5  # entries
    problems = {p.reason: (p.lines, p.numbering) for p in report.problems}
    assert problems == {
        "unknown_resource_type": ((4,), "entry"),
        "missing_resource_type": ((5,), "entry"),
    }
    assert report.problems[0].describe().endswith("entry 5")


def test_json_arrays_and_gzipped_bundles_are_read(tmp_path) -> None:
    array = tmp_path / "Patient.json"
    array.write_text(json.dumps(PATIENTS), encoding="utf-8")  # one line
    packed = tmp_path / "bundle.json.gz"
    packed.write_bytes(gzip.compress(json.dumps(_synthea_bundle(), indent=1).encode()))
    pretty_array = tmp_path / "Encounter.json"
    pretty_array.write_text(json.dumps(ENCOUNTERS, indent=2), encoding="utf-8")
    one = tmp_path / "one.json"
    one.write_text(json.dumps({**PATIENTS[0], "id": "pat-c"}, indent=2), encoding="utf-8")
    # one Bundle per line: each line's resources, numbered by that line
    bundles = _write(
        tmp_path / "bundles.ndjson",
        [
            {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Claim"}}, {}]},
            {"resourceType": "Bundle", "entry": [{"resource": PATIENTS[1]}]},
        ],
    )
    tables = read_fhir_ndjson([array, packed, pretty_array, one, bundles])
    ids = tables.patients["patient_id"].tolist()
    assert ids[:1] + ids[2:] == ["pat-a", "pat-c", "pat-b"]  # pat-b's last copy kept
    assert tables.encounters["stay_id"].tolist()[1:] == ["enc-1", "enc-2"]
    assert tables.vitals["value"].tolist() == [88.0]
    problems = {(p.file, p.reason): (p.lines, p.numbering) for p in tables.report.problems}
    assert problems == {
        ("Patient.json", "duplicate_id"): ((2,), "entry"),
        ("bundle.json.gz", "unknown_resource_type"): ((4,), "entry"),
        ("bundle.json.gz", "missing_resource_type"): ((5,), "entry"),
        ("bundles.ndjson", "unknown_resource_type"): ((1,), "line"),
        ("bundles.ndjson", "missing_resource_type"): ((1,), "line"),
    }


def test_strict_mode_names_the_entry_of_a_bundle(tmp_path) -> None:
    path = tmp_path / "Bundle.json"
    bundle = _synthea_bundle()
    bundle["entry"][2]["resource"]["status"] = "final"
    del bundle["entry"][2]["resource"]["subject"]
    path.write_text(json.dumps(bundle, indent=2), encoding="utf-8")
    msg = FHIR_ENTRY_MSG.format(file="Bundle.json", line=3, problem=REASONS["missing_subject"])
    with pytest.raises(DataError, match=re.escape(msg)):
        read_fhir_ndjson(path, strict=True)


def test_a_file_that_is_neither_ndjson_nor_json_stays_line_by_line(tmp_path) -> None:
    path = tmp_path / "Patient.ndjson"
    path.write_text("{\n" + json.dumps(PATIENTS[0]) + "\n", encoding="utf-8")
    tables = read_fhir_ndjson(path)
    assert len(tables.patients) == 1
    assert [(p.reason, p.lines, p.numbering) for p in tables.report.problems] == [
        ("not_json", (1,), "line")
    ]


# --- times -----------------------------------------------------------------------


def test_mixed_offsets_and_zone_less_times_order_in_utc(tmp_path) -> None:
    times = [
        "2026-03-01T10:00:00+01:00",  # 09:00 UTC
        "2026-03-01T10:00:00",  # no zone (invalid FHIR, common): read as UTC
        "2026-03-01T04:30:00-05:00",  # 09:30 UTC
        "2026-03-01T09:15:00.123456789Z",  # nanoseconds
        "2026-03-01T10:30+01:00",  # no seconds
    ]
    resources = [
        _obs(f"hr{i}", ("8867-4",), _qty(80 + i, "/min"), effectiveDateTime=t)
        for i, t in enumerate(times)
    ]
    tables, reasons = _read(tmp_path, resources)
    assert reasons == {}
    got = tables.vitals.sort_values("time", kind="stable")
    assert got["value"].tolist() == [80.0, 83.0, 82.0, 84.0, 81.0]
    assert got["time"].tolist() == [
        pd.Timestamp(UTC.format(t))
        for t in ("09:00:00", "09:15:00.123456", "09:30:00", "09:30:00", "10:00:00")
    ]


def test_bad_times_are_skipped_with_a_reason_not_kept_as_missing(tmp_path) -> None:
    stay = {**ENCOUNTERS[0], "period": {"start": "2026-03-01T08:00:00Z", "end": "2026-02-30"}}
    resources = [
        _obs("a", ("8867-4",), _qty(80, "/min"), effectiveDateTime="yesterday 10:00"),
        _obs("b", ("8867-4",), _qty(81, "/min"), effectiveDateTime="0001-01-01T00:00:00Z"),
        _obs("c", ("8867-4",), _qty(82, "/min"), effectiveDateTime="2026-03-01"),  # no time
        _obs("d", ("8867-4",), _qty(83, "/min"), effectiveDateTime=20260301),
        stay,
        {**PATIENTS[1], "deceasedDateTime": "unknown"},
    ]
    tables, reasons = _read(tmp_path, resources, name="mixed.ndjson")
    assert tables.vitals.empty and tables.encounters.empty and tables.patients.empty
    assert reasons == {"bad_time": (1, 2, 4, 5, 6), "no_time_of_day": (3,)}


def test_other_time_elements_and_partial_dates(tmp_path) -> None:
    resources = [
        _obs(
            "i",
            ("8867-4",),
            _qty(70, "/min"),
            effectiveDateTime=None,
            effectiveInstant="2026-03-01t09:00:00.5z",
        ),
        _obs(
            "p",
            ("8867-4",),
            _qty(71, "/min"),
            effectiveDateTime=None,
            effectivePeriod={"end": "2026-03-01T09:05:00Z"},
        ),
        _obs(
            "s",
            ("8867-4",),
            _qty(72, "/min"),
            effectiveDateTime=None,
            issued="2026-03-01T09:10:00Z",
        ),  # issued is not when it was measured
        {
            "resourceType": "Condition",
            "id": "c",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]},
            "subject": {"reference": "Patient/pat-a"},
            "onsetPeriod": {"start": "2019-05"},
            "recordedDate": "2020",
        },
    ]
    tables, reasons = _read(tmp_path, resources, name="mixed.ndjson")
    assert tables.vitals["time"].tolist() == [
        pd.Timestamp(UTC.format("09:00:00.5")),
        pd.Timestamp(UTC.format("09:05:00")),
    ]
    assert reasons == {"missing_time": (3,)}
    onset, recorded = tables.conditions.loc[0, ["onset", "recorded"]]
    assert (onset, recorded) == (
        pd.Timestamp("2019-05-01", tz="UTC"),
        pd.Timestamp("2020-01-01", tz="UTC"),
    )


# --- units -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "quantity", "expected"),
    [
        # UCUM [degF]: degC = (degF - 32) * 5/9
        (
            ("8310-5",),
            {"value": 98.6, "unit": "°F", "code": "[degF]"},
            ("temperature", 37.0, "Cel"),
        ),
        (("8310-5",), {"value": 101.3, "unit": "degF"}, ("temperature", 38.5, "Cel")),
        (("8310-5",), {"value": 310.15, "code": "K"}, ("temperature", 37.0, "Cel")),
        (("8310-5",), {"value": 37.2, "unit": "°C"}, ("temperature", 37.2, "Cel")),
        # UCUM "1" (a fraction) -> %
        (("59408-5",), {"value": 0.97, "code": "1"}, ("spo2", 97.0, "%")),
        (("2708-6",), {"value": 96, "unit": "percent"}, ("spo2", 96.0, "%")),
        # UCUM mm[Hg] = 133.322 Pa, so 1 kPa = 7.50062 mm[Hg]
        (("8480-6",), {"value": 16.0, "code": "kPa"}, ("sbp", 120.01, "mm[Hg]")),
        (("8462-4",), {"value": 80, "unit": "mmHg"}, ("dbp", 80.0, "mm[Hg]")),
        (("8867-4",), {"value": 72, "unit": "beats/minute"}, ("heart_rate", 72.0, "/min")),
        (("8867-4",), {"value": 72}, ("heart_rate", 72.0, "/min")),  # one possible unit
        (("9279-1",), {"value": 18, "code": "{breaths}/min"}, ("resp_rate", 18.0, "/min")),
        (("9269-2",), {"value": 15, "code": "{score}"}, ("gcs", 15.0, "{score}")),
    ],
)
def test_units_are_converted_to_the_canonical_ucum_unit(tmp_path, codes, quantity, expected):
    tables, reasons = _read(tmp_path, [_obs("o", codes, {"valueQuantity": quantity})])
    assert reasons == {}
    assert _vital_rows(tables) == [expected]


def test_vital_signs_coded_by_site_method_or_position_are_read(tmp_path) -> None:
    variants = {
        "temperature": ("8329-5", "8331-1", "8332-9", "8333-7", "8328-7", "75539-7"),
        "heart_rate": ("8889-8", "8893-0"),
        "sbp": ("8459-0", "8460-8", "8461-6"),
        "dbp": ("8453-3", "8454-1", "8455-8"),
    }
    unit = {"temperature": "Cel", "heart_rate": "/min", "sbp": "mm[Hg]", "dbp": "mm[Hg]"}
    resources = [
        _obs(code, (code,), _qty(37.5, unit[parameter]))
        for parameter, codes in variants.items()
        for code in codes
    ]
    # another quantity: skin temperature, a ventilator's rate, mean blood pressure
    others = [_obs(c, (c,), _qty(30, "Cel")) for c in ("39106-0", "33438-3", "8478-0")]
    tables, reasons = _read(tmp_path, resources + others, strict=True)
    expected = [(p, 37.5, unit[p]) for p, codes in variants.items() for _ in codes]
    assert _vital_rows(tables) == expected
    assert reasons == {"unknown_loinc_code": (15, 16, 17)}


def test_unknown_or_missing_units_are_skipped_not_guessed(tmp_path) -> None:
    resources = [
        _obs("t1", ("8310-5",), _qty(98.6, "mg")),  # not a temperature unit
        _obs("t2", ("8310-5",), {"valueQuantity": {"value": 98.6}}),  # degC or degF?
        _obs("s1", ("59408-5",), {"valueInteger": 97}),
        _obs(
            "bp",
            ("85354-9",),
            None,
            component=[
                {"code": _code("8480-6"), **_qty(120, "mm[Hg]")},
                {"code": _code("8462-4"), **_qty(10.6, "cmH2O")},
            ],
        ),
        _obs("ok", ("8310-5",), _qty(99.5, "[degF]")),
    ]
    tables, reasons = _read(tmp_path, resources)
    assert _vital_rows(tables) == [("temperature", 37.5, "Cel")]
    assert reasons == {"unknown_unit": (1, 4), "missing_unit": (2, 3)}
    assert tables.report.to_dict()["conversions"] == {"temperature from [degF]": 1}
    assert list(tables.vitals.columns)[-1] == "unit"
    with pytest.raises(DataError, match=re.escape(REASONS["unknown_unit"])):
        _read(tmp_path, resources, strict=True)


def test_cleaned_vitals_keep_converted_values(tmp_path) -> None:
    from clinai.data import clean_vitals

    tables, _ = _read(tmp_path, [_obs("t", ("8310-5",), _qty(102.2, "[degF]"))])
    cleaned, _ = clean_vitals(tables.vitals.drop(columns=["patient_id"]), source="FHIR")
    assert cleaned["value"].tolist() == [pytest.approx(39.0)]


# --- values, statuses, codes ----------------------------------------------------


def test_absent_censored_and_text_values(tmp_path) -> None:
    absent = {"dataAbsentReason": {"coding": [{"code": "asked-declined"}]}}
    resources = [
        _obs("a", ("8867-4",), absent),
        _obs(
            "bp",
            ("85354-9",),
            None,
            component=[
                {"code": _code("8480-6"), **_qty(131, "mm[Hg]")},
                {"code": _code("8462-4"), **absent},
            ],
        ),
        _obs("c", ("59408-5",), {"valueQuantity": {"value": 99, "comparator": ">", "code": "%"}}),
        _obs("d", ("8867-4",), {"valueString": "120"}),
        _obs("e", ("8867-4",), {"valueQuantity": {"value": True, "code": "/min"}}),
        _obs("f", ("8480-6", "8462-4"), {"valueString": "120/80"}),
    ]
    tables, reasons = _read(tmp_path, resources)
    assert _vital_rows(tables) == [("sbp", 131.0, "mm[Hg]")]
    assert reasons == {"data_absent": (1,), "value_comparator": (3,), "missing_value": (4, 5, 6)}


@pytest.mark.parametrize(
    ("status", "kept"),
    [
        ("final", True),
        ("amended", True),
        ("corrected", True),
        ("preliminary", True),
        ("entered-in-error", False),
        ("cancelled", False),
        ("registered", False),
    ],
)
def test_observation_status(tmp_path, status, kept) -> None:
    tables, reasons = _read(tmp_path, [_obs("o", ("8867-4",), _qty(90, "/min"), status=status)])
    assert len(tables.vitals) == int(kept)
    assert bool(reasons) is not kept


def test_records_that_did_not_happen_are_not_stays_procedures_or_diagnoses(tmp_path) -> None:
    verification = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

    def condition(cid: str, code: str) -> dict:
        status = {"coding": [{"system": verification, "code": code}]}
        return {
            "resourceType": "Condition",
            "id": cid,
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91302008"}]},
            "subject": {"reference": "Patient/pat-a"},
            "verificationStatus": status,
        }

    procedure = {
        "resourceType": "Procedure",
        "code": {"coding": [{"code": "40617009"}]},
        "subject": {"reference": "Patient/pat-b"},
    }
    resources = [
        {**ENCOUNTERS[0], "id": "e1", "status": "entered-in-error"},
        {**ENCOUNTERS[0], "id": "e2", "status": "cancelled"},
        {**ENCOUNTERS[0], "id": "e3", "status": "planned"},
        {**ENCOUNTERS[0], "id": "e4", "status": "in-progress"},
        {**procedure, "id": "p1", "status": "not-done"},
        {**procedure, "id": "p2", "status": "completed"},
        condition("c1", "refuted"),
        condition("c2", "entered-in-error"),
        condition("c3", "confirmed"),
    ]
    tables, reasons = _read(tmp_path, resources, name="mixed.ndjson", strict=True)
    assert tables.encounters["stay_id"].tolist() == ["e4"]
    assert tables.procedures["procedure_id"].tolist() == ["p2"]
    assert tables.conditions["condition_id"].tolist() == ["c3"]
    assert reasons == {"entered_in_error": (1, 8), "not_performed": (2, 3, 5), "refuted": (7,)}


def test_loinc_found_among_other_codings_and_system_spellings(tmp_path) -> None:
    def codes(*codings: tuple[str, str]) -> dict:
        return {"code": {"coding": [{"system": s, "code": c} for s, c in codings]}}

    epic = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"  # a local flowsheet code first
    resources = [
        _obs("a", (), _qty(77, "/min"), **codes((epic, "8"), ("http://loinc.org", "8867-4"))),
        _obs("b", (), _qty(78, "/min"), **codes(("urn:oid:2.16.840.1.113883.6.1", "8867-4"))),
        _obs("c", (), _qty(79, "/min"), **codes(("http://loinc.org/", "8867-4"))),
        _obs("d", (), _qty(79, "/min"), **codes((epic, "8"))),  # local code only
    ]
    tables, reasons = _read(tmp_path, resources, strict=True)
    assert tables.vitals["value"].tolist() == [77.0, 78.0, 79.0]
    assert reasons == {"no_loinc_code": (4,)}


def test_strict_mode_reads_an_observation_file_with_labs_and_panels(tmp_path) -> None:
    # a real Observation.ndjson holds labs, surveys and vital-signs panels whose
    # values are other observations (hasMember): expected content, not damage
    panel = _obs("vs", ("85353-1",), None, hasMember=[{"reference": "Observation/hr"}])
    resources = [
        _obs("lab", ("2160-0",), _qty(1.1, "mg/dL")),
        panel,
        _obs("hr", ("8867-4",), _qty(91, "/min")),
    ]
    with collect_fhir_reports() as reports:
        tables, reasons = _read(tmp_path, resources, strict=True)
    assert tables.vitals["value"].tolist() == [91.0]
    assert reasons == {"unknown_loinc_code": (1, 2)}
    assert {c.status for c in fhir_quality_checks(reports)} == {"pass"}


def test_encounter_class_as_a_codeable_concept(tmp_path) -> None:
    resources = [
        {**ENCOUNTERS[0], "class": {"coding": [{"code": "EMER"}], "text": "Emergency"}},
        {**ENCOUNTERS[0], "id": "enc-7", "subject": {"reference": "Patient/pat-a/_history/2"}},
    ]
    tables, reasons = _read(tmp_path, resources, name="Encounter.ndjson")
    assert tables.encounters["class"].tolist() == ["EMER", "IMP"]
    assert tables.encounters["patient_id"].tolist() == ["pat-a", "pat-a"]
    assert reasons == {}


MRN = "urn:oid:1.2.3.4"


def _identifier_export(tmp_path: Path) -> list[Path]:
    """Stays and vitals that name the patient by medical record number; Patients last."""

    def by_mrn(value: str, system: str | None = MRN) -> dict:
        return {"identifier": {"value": value} | ({"system": system} if system else {})}

    stays = [
        {**ENCOUNTERS[0], "id": "e1", "subject": by_mrn("000123")},
        {**ENCOUNTERS[0], "id": "e2", "subject": {"reference": f"Patient?identifier={MRN}|000456"}},
        {**ENCOUNTERS[0], "id": "e3", "subject": by_mrn("000999")},  # no such patient
        {**ENCOUNTERS[0], "id": "e4", "subject": by_mrn("000777", None)},  # two patients
    ]
    vitals = [_obs("hr", ("8867-4",), _qty(90, "/min"), subject=by_mrn("000456", None))]
    mrn_of = {"pat-a": "000123", "pat-b": "000456", "pat-c": "000777", "pat-d": "000777"}
    patients = [
        {"resourceType": "Patient", "id": pid, "identifier": [{"system": MRN, "value": mrn}]}
        for pid, mrn in mrn_of.items()
    ]
    return [
        _write(tmp_path / "Encounter.ndjson", stays),
        _write(tmp_path / "Observation.ndjson", vitals),
        _write(tmp_path / "Patient.ndjson", patients),
    ]


def test_patients_named_by_identifier_are_resolved_after_every_file(tmp_path) -> None:
    tables = read_fhir_ndjson(_identifier_export(tmp_path))
    stays = tables.encounters
    assert dict(zip(stays["stay_id"], stays["patient_id"], strict=True)) == {
        "e1": "pat-a",
        "e2": "pat-b",
    }
    assert tables.vitals["patient_id"].tolist() == ["pat-b"]
    report = tables.report
    assert [(p.file, p.reason, p.lines) for p in report.problems] == [
        ("Encounter.ndjson", "subject_by_identifier", (3, 4))
    ]
    assert report.resources == {"Encounter": 2, "Observation": 1, "Patient": 4}
    assert "000" not in json.dumps(report.to_dict())  # no identifier in the report
    problem = REASONS["subject_by_identifier"]
    msg = FHIR_LINE_MSG.format(file="Encounter.ndjson", line=3, problem=problem)
    with pytest.raises(DataError, match=re.escape(msg)):
        read_fhir_ndjson(_identifier_export(tmp_path), strict=True)


def test_strict_message_of_a_line(tmp_path) -> None:
    resources = [_obs("x", ("8867-4",), _qty(80, "/min"), effectiveDateTime="13/03/2026")]
    msg = FHIR_LINE_MSG.format(file="Observation.ndjson", line=1, problem=REASONS["bad_time"])
    with pytest.raises(DataError, match=re.escape(msg)):
        _read(tmp_path, resources, strict=True)


def test_fields_of_the_wrong_json_type_are_counted_not_a_traceback(tmp_path) -> None:
    resources = [
        _obs("a", ("85354-9",), None, component={"code": _code("8480-6"), **_qty(120, "mm[Hg]")}),
        _obs("b", ("8867-4",), _qty(80, "/min"), effectiveDateTime=None, effectivePeriod="x"),
        {**ENCOUNTERS[0], "class": "inpatient"},  # a plain string: no code, still a stay
        {
            "resourceType": "Condition",
            "id": "c",
            "code": {"coding": {"code": "44054006"}},
            "subject": {"reference": "Patient/pat-a"},
        },
    ]
    tables, reasons = _read(tmp_path, resources, name="mixed.ndjson")
    assert tables.encounters["class"].tolist() == [None]
    assert reasons == {"wrong_type": (1, 2), "missing_code": (4,)}


def test_files_of_the_same_name_in_two_folders_are_reported_apart(tmp_path) -> None:
    paths = []
    for site, bad_line in (("site_a", 2), ("site_b", 3)):
        (tmp_path / site).mkdir()
        lines: list[object] = [{**PATIENTS[0], "id": f"{site}-{i}"} for i in range(3)]
        lines[bad_line - 1] = "{oops"
        paths.append(_write(tmp_path / site / "Patient.ndjson", lines))
    report = read_fhir_ndjson(paths).report
    assert report.files == ("site_a/Patient.ndjson", "site_b/Patient.ndjson")
    assert [(p.file, p.lines) for p in report.problems] == [
        ("site_a/Patient.ndjson", (2,)),
        ("site_b/Patient.ndjson", (3,)),
    ]


def test_a_resource_read_twice_is_one_row_the_newer_copy(tmp_path) -> None:
    # a full export read with a later _since export: changed resources come again
    def stay(status: str, updated: str | None) -> dict:
        meta = {"meta": {"lastUpdated": updated}} if updated else {}
        return {**ENCOUNTERS[0], "status": status, **meta}

    (tmp_path / "full").mkdir()
    first = _write(
        tmp_path / "full" / "Encounter.ndjson",
        [stay("in-progress", "2026-03-02T10:00:00Z"), ENCOUNTERS[1], PATIENTS[0]],
    )
    (tmp_path / "since").mkdir()
    later = _write(
        tmp_path / "since" / "Encounter.ndjson",
        [
            stay("finished", "2026-03-04T13:00:00+01:00"),
            stay("arrived", "2026-03-01T09:00:00Z"),  # an older copy, read last
            PATIENTS[0],
        ],
    )
    tables = read_fhir_ndjson([first, later])
    assert tables.encounters["stay_id"].tolist() == ["enc-2", "enc-1"]
    assert tables.encounters["status"].tolist() == ["in-progress", "finished"]
    assert tables.patients["patient_id"].tolist() == ["pat-a"]
    report = tables.report
    assert [(p.file, p.reason, p.lines) for p in report.problems] == [
        ("full/Encounter.ndjson", "duplicate_id", (1, 3)),
        ("since/Encounter.ndjson", "duplicate_id", (2,)),
    ]
    assert report.resources == {"Encounter": 2, "Patient": 1}
    assert sum(report.resources.values()) + report.n_skipped + report.n_blank == report.n_lines


def test_an_observation_read_twice_gives_its_rows_once(tmp_path) -> None:
    # one export read both as its Bundle and as its NDJSON; the heart rate was
    # corrected (a later lastUpdated) in the Bundle, which is read first
    def updated(resource: dict, day: str, **changed: object) -> dict:
        return {**resource, "meta": {"lastUpdated": f"2026-03-0{day}T00:00:00Z"}, **changed}

    bundle = tmp_path / "Bundle.json"
    newer = [updated(OBSERVATIONS[0], "3", **_qty(105, "/min")), BP_PANEL, CONDITION]
    bundle.write_text(
        json.dumps({"resourceType": "Bundle", "entry": [{"resource": r} for r in newer]}),
        encoding="utf-8",
    )
    ndjson = _write(
        tmp_path / "Observation.ndjson",
        [updated(OBSERVATIONS[0], "2"), BP_PANEL, CONDITION, {**BP_PANEL, "id": "bp-2"}],
    )
    tables = read_fhir_ndjson([bundle, ndjson])
    assert _vital_rows(tables) == [
        ("heart_rate", 105.0, "/min"),  # the newer copy, though read first
        ("sbp", 142.0, "mm[Hg]"),  # the panel's last copy: both components once
        ("dbp", 88.0, "mm[Hg]"),
        ("sbp", 142.0, "mm[Hg]"),  # another id: another measurement
        ("dbp", 88.0, "mm[Hg]"),
    ]
    assert len(tables.conditions) == 1
    report = tables.report
    assert [(p.file, p.reason, p.lines) for p in report.problems] == [
        ("Bundle.json", "duplicate_id", (2, 3)),
        ("Observation.ndjson", "duplicate_id", (1,)),
    ]
    assert report.resources == {"Condition": 1, "Observation": 3}
    assert sum(report.resources.values()) + report.n_skipped + report.n_blank == report.n_lines
    assert "hr-1" not in json.dumps(report.to_dict())  # counts, never ids


def test_vital_signs_of_a_stay_not_kept_are_dropped_and_counted(tmp_path) -> None:
    stays = [
        ENCOUNTERS[0],
        {**ENCOUNTERS[0], "id": "e-error", "status": "entered-in-error"},
        {**ENCOUNTERS[0], "id": "e-cancelled", "status": "cancelled"},
        {**ENCOUNTERS[0], "id": "e-no-start", "period": {}},
        {**ENCOUNTERS[0], "id": "e-unknown", "subject": {"identifier": {"value": "000999"}}},
        {**ENCOUNTERS[0], "id": "e-planned", "status": "planned"},
        {**ENCOUNTERS[0], "id": "e-planned", "status": "in-progress"},  # a later copy
    ]

    def on(stay: str, oid: str, resource: dict = OBSERVATIONS[0]) -> dict:
        return {**resource, "id": oid, "encounter": {"reference": f"Encounter/{stay}"}}

    vitals = [
        on("enc-1", "o1"),
        on("e-error", "o2"),
        on("e-cancelled", "o3", BP_PANEL),  # both components go
        on("e-no-start", "o4"),
        on("e-unknown", "o5"),
        on("e-planned", "o6"),  # the stay is kept (its later copy)
        on("enc-9", "o7"),  # a stay these files do not hold: kept
    ]
    files = [_write(tmp_path / "Encounter.ndjson", stays)]
    files.append(_write(tmp_path / "Observation.ndjson", vitals))
    with collect_fhir_reports() as reports:
        tables = read_fhir_ndjson(files)
    assert tables.vitals["stay_id"].tolist() == ["enc-1", "e-planned", "enc-9"]
    assert tables.encounters["stay_id"].tolist() == ["enc-1", "e-planned"]
    problems = {(p.file, p.reason): p.lines for p in tables.report.problems}
    assert problems[("Observation.ndjson", "stay_not_kept")] == (2, 3, 4, 5)
    assert tables.report.resources == {"Encounter": 2, "Observation": 3}
    (check,) = [c for c in fhir_quality_checks(reports) if "Encounter was read" in c.message]
    assert (check.column, check.status, check.count) == ("Observation.ndjson", "pass", 4)


def test_an_export_folder_is_read_file_by_file(tmp_path) -> None:
    # a Bulk Data download: one file per type (and part), plus the manifest
    export = tmp_path / "export"
    export.mkdir()
    _write(export / "Patient.ndjson", PATIENTS)
    (export / "Encounter.000.ndjson.gz").write_bytes(
        gzip.compress("\n".join(json.dumps(e) for e in ENCOUNTERS).encode())
    )
    (export / "notes.txt").write_text("not part of the export", encoding="utf-8")
    # gzip saved without its ending (a download decoded by name only)
    condition = json.dumps({**CONDITION, "encounter": {}}).encode()
    (export / "Condition.NDJSON").write_bytes(gzip.compress(condition))
    tables = read_fhir_ndjson(export)
    assert tables.report.files == (
        "Condition.NDJSON",
        "Encounter.000.ndjson.gz",
        "Patient.ndjson",
    )
    assert (len(tables.patients), len(tables.encounters), len(tables.conditions)) == (2, 2, 1)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=re.escape(FHIR_EMPTY_FOLDER_MSG.format(folder=empty))):
        read_fhir_ndjson([empty])
