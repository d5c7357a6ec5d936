"""Read FHIR R4 Bulk Data exports (NDJSON) into flat patient, stay, vitals and code tables.

A Bulk Data export (FHIR Bulk Data Access IG, ``$export``) is a set of NDJSON files,
one resource per line, often gzip-compressed; Synthea and some tools write a Bundle
or a JSON array per file instead, which is read too. This reader streams NDJSON line
by line and keeps Patient, Encounter, Observation (vital signs by LOINC code), Condition and
Procedure. Every line that is not used is counted per file and reason in a
:class:`FhirIngestReport`, with its line number (the first :data:`FHIR_MAX_LINES`
per file and reason, then a count); nothing is dropped silently. The report holds
counts, file names, reasons and line numbers only, never a resource's content.

A pipeline's ``load()`` may read an export with :func:`read_fhir_ndjson`: the
``runs`` layer gathers the reports of such reads (:func:`collect_fhir_reports`) and
shows the skipped lines in ``clinai check-data`` and ``data_quality.json``
(:func:`fhir_quality_checks`).
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pandas as pd

from clinai.data._quality import QualityCheck
from clinai.exceptions import DataError

__all__ = [
    "FHIR_ENTRY_MSG",
    "FHIR_LINE_MSG",
    "FHIR_MAX_LINES",
    "LOINC_SYSTEM",
    "LOINC_VITALS",
    "FhirIngestReport",
    "FhirProblem",
    "FhirTables",
    "collect_fhir_reports",
    "fhir_quality_checks",
    "read_fhir_ndjson",
]

logger = logging.getLogger(__name__)

LOINC_SYSTEM = "http://loinc.org"
#: How systems spell LOINC's code system: the FHIR URI (with or without a final
#: slash or https) and LOINC's HL7 OID, which HL7 v2/CDA-based exports carry over.
_LOINC_SYSTEMS = frozenset(
    {LOINC_SYSTEM, "http://loinc.org/", "https://loinc.org", "urn:oid:2.16.840.1.113883.6.1"}
)

#: LOINC code -> canonical vital-sign parameter (names of clinai's vitals table).
LOINC_VITALS: dict[str, str] = {
    "8867-4": "heart_rate",
    "9279-1": "resp_rate",
    "2708-6": "spo2",  # oxygen saturation in arterial blood
    "59408-5": "spo2",  # ... by pulse oximetry
    "8480-6": "sbp",
    "8462-4": "dbp",
    "8310-5": "temperature",
    "9269-2": "gcs",  # Glasgow Coma Scale total
    "67775-7": "consciousness",  # level of responsiveness (AVPU)
    "3151-8": "supplemental_oxygen",  # inhaled oxygen flow rate
    "3150-0": "supplemental_oxygen",  # inhaled oxygen concentration (FiO2)
}
#: Panels whose values sit in components (blood pressure; the vital-signs panel).
LOINC_PANELS = frozenset({"85354-9", "85353-1"})
_FLOW, _FIO2 = "3151-8", "3150-0"
#: ACVPU codes of clinai's ``consciousness`` parameter (0 alert ... 4 unresponsive).
_ACVPU = {"a": 0, "c": 1, "v": 2, "p": 3, "u": 4}
_ACVPU_WORDS = {"alert": 0, "confusion": 1, "new confusion": 1, "confused": 1, "voice": 2}
_ACVPU_WORDS |= {"pain": 3, "unresponsive": 4}

#: Resource types whose table holds one row per resource id.
_KEYED = frozenset({"Patient", "Encounter", "Condition", "Procedure"})
#: Statuses that say a record did not take place or holds no result yet (FHIR R4
#: value sets ObservationStatus, EncounterStatus and EventStatus).
_NOT_DONE: dict[str, frozenset[str]] = {
    "Observation": frozenset({"cancelled", "registered"}),
    "Encounter": frozenset({"cancelled", "planned"}),
    "Procedure": frozenset({"not-done"}),
}
#: Condition.verificationStatus codes (condition-ver-status) of diagnoses not to keep.
_VERIFICATION_SKIPS = {"entered-in-error": "entered_in_error", "refuted": "refuted"}
#: FHIR date precisions shorter than a day (a year; a year and month).
_PARTIAL_DATE = re.compile(r"\d{4}(-\d{2})?")
#: Whole years a ``datetime64[ns]`` column holds (1677-09-21 to 2262-04-11).
_YEARS = (1678, 2261)


# Unit conversions, from the UCUM definitions (unitsofmeasure.org, ucum-essence.xml):
# Cel is K - 273.15 and [degF] is 5/9 K offset by 459.67, so Cel = ([degF] - 32) * 5/9;
# mm[Hg] is 133.3220 Pa, so 1 kPa = 1000 / 133.322 mm[Hg]; % is 10^-2, so a fraction
# (UCUM unit 1) is 100 %. The FHIR R4 vital-signs profile binds the units to UCUM.
def _fahrenheit_to_celsius(value: float) -> float:
    return (value - 32.0) * 5.0 / 9.0


def _kelvin_to_celsius(value: float) -> float:
    return value - 273.15


def _kpa_to_mmhg(value: float) -> float:
    return value * 1000.0 / 133.322


def _fraction_to_percent(value: float) -> float:
    return value * 100.0


_Conversion = Callable[[float], float] | None
_PER_MINUTE: dict[str, _Conversion] = dict.fromkeys(
    (
        *("/min", "1/min", "min-1", "/minute", "per minute", "bpm", "beats/min", "beats/minute"),
        *("{beats}/min", "{beat}/min", "{breaths}/min", "{breath}/min", "breaths/min"),
        "breaths/minute",
    )
)
_MM_HG: dict[str, _Conversion] = {"mm[hg]": None, "mmhg": None, "mm hg": None}
_MM_HG["kpa"] = _kpa_to_mmhg
#: Canonical UCUM unit of each measured vital sign, and the units (lower-cased UCUM
#: codes or common unit texts) converted to it; any other unit is skipped.
_UNITS: dict[str, tuple[str, dict[str, _Conversion]]] = {
    "heart_rate": ("/min", _PER_MINUTE),
    "resp_rate": ("/min", _PER_MINUTE),
    "sbp": ("mm[Hg]", _MM_HG),
    "dbp": ("mm[Hg]", _MM_HG),
    "spo2": (
        "%",
        {"%": None, "percent": None}
        | dict.fromkeys(("1", "{ratio}", "ratio", "fraction"), _fraction_to_percent),
    ),
    "temperature": (
        "Cel",
        dict.fromkeys(("cel", "°c", "degc", "[degc]", "c", "celsius"))
        | dict.fromkeys(("[degf]", "degf", "°f", "f", "fahrenheit"), _fahrenheit_to_celsius)
        | dict.fromkeys(("k", "kelvin"), _kelvin_to_celsius),
    ),
}
#: The UCUM unit each conversion reads (named in the report, never the resource's text).
_CONVERTED_FROM: dict[Callable[[float], float], str] = {
    _fahrenheit_to_celsius: "[degF]",
    _kelvin_to_celsius: "K",
    _kpa_to_mmhg: "kPa",
    _fraction_to_percent: "1 (a fraction)",
}
#: Vital signs with one unit in use, so a value without a unit is read in it.
_ONE_UNIT = frozenset({"heart_rate", "resp_rate"})

FHIR_LINE_MSG = (
    "{file}, line {line}: {problem}; fix or remove the line, or read without strict "
    "mode to count and skip it"
)
FHIR_ENTRY_MSG = (
    "{file}, entry {line}: {problem}; fix or remove the entry, or read without strict "
    "mode to count and skip it"
)
FHIR_FILE_MSG = "FHIR file {file} cannot be read: {error}; pass an NDJSON or NDJSON.gz file"
FHIR_NO_FILES_MSG = "no FHIR NDJSON file given: pass one or more .ndjson or .ndjson.gz paths"
FHIR_EMPTY_FOLDER_MSG = (
    "FHIR export folder {folder} holds no .ndjson, .ndjson.gz, .json or .json.gz file: "
    "pass the folder the export was downloaded to, or the files"
)
#: Endings of the files read from a folder (a Bulk Data download, Synthea's fhir/).
_EXPORT_ENDINGS = (".ndjson", ".ndjson.gz", ".json", ".json.gz")
#: Line numbers kept per file and reason; the rest are counted.
FHIR_MAX_LINES = 50
FHIR_PROBLEM_MSG = "{count} {noun} ({description}): {lines}"
FHIR_MORE_LINES = " and {n:,} more"
FHIR_CHECK_MSG = "{problem}; fix or remove the line(s) in the export and read it again"
FHIR_CHECK_EXPECTED_MSG = "{problem} (expected in a complete export; not used)"

#: Reasons a line is not used, with the problem text used in strict mode.
REASONS: dict[str, str] = {
    "not_json": "not valid JSON",
    "not_utf8": "not UTF-8 text (FHIR JSON is UTF-8)",
    "not_an_object": "not a JSON object (one resource per line)",
    "missing_resource_type": "no resourceType",
    "unknown_resource_type": "a resource type clinai does not read",
    "missing_id": "the resource has no id",
    "missing_subject": "no subject (or patient) reference",
    "subject_by_identifier": (
        "the patient is named by an identifier that no Patient read carries (or several do)"
    ),
    "missing_encounter": "the observation has no encounter reference (no stay)",
    "missing_time": "no effective/period/onset time",
    "bad_time": "a time that is not a FHIR date or dateTime, or not in the years 1678-2261",
    "no_time_of_day": "a vital sign timed by a date only (no time of day)",
    "missing_code": "no coded concept (code.coding)",
    "no_loinc_code": "codes of other systems only (no LOINC code)",
    "unknown_loinc_code": "a LOINC code that is not a vital sign clinai knows",
    "missing_value": "no usable value",
    "data_absent": "no value, with a dataAbsentReason",
    "value_comparator": "a value with a comparator (<, >), not an exact measurement",
    "missing_unit": "no unit, where the value may be in more than one unit",
    "unknown_unit": "a unit clinai cannot convert to the vital sign's unit",
    "entered_in_error": "status entered-in-error",
    "not_performed": "status says it did not take place (cancelled, planned, not-done, registered)",
    "refuted": "a diagnosis whose verification status is refuted",
    "wrong_type": "a field of the wrong JSON type (e.g. text where FHIR has an object)",
    "duplicate_id": "a copy of a resource read again (same type and id); one copy is kept",
}
#: Reasons that are expected in a complete export and never raise in strict mode:
#: other resource types, labs and other observations, records marked as errors or
#: as not done, and values the source says are absent.
_NOT_ERRORS = frozenset(
    {
        "unknown_resource_type",
        "entered_in_error",
        "not_performed",
        "refuted",
        "no_loinc_code",
        "unknown_loinc_code",
        "data_absent",
        "duplicate_id",
    }
)

_COLUMNS: dict[str, list[str]] = {
    "patients": ["patient_id", "gender", "birth_date", "deceased", "deceased_time"],
    "encounters": ["stay_id", "patient_id", "status", "class", "start", "end"],
    # "converted" (the unit a value was converted from) goes to the report, not the table
    "vitals": ["stay_id", "patient_id", "time", "parameter", "value", "unit", "converted"],
    "conditions": [
        "condition_id",
        "patient_id",
        "stay_id",
        "system",
        "code",
        "display",
        "onset",
        "recorded",
    ],
    "procedures": [
        "procedure_id",
        "patient_id",
        "stay_id",
        "system",
        "code",
        "display",
        "status",
        "performed",
    ],
}
_TIME_COLUMNS = {
    "patients": ["deceased_time"],
    "encounters": ["start", "end"],
    "vitals": ["time"],
    "conditions": ["onset", "recorded"],
    "procedures": ["performed"],
}


class _Skip(Exception):
    """A line that cannot be used, with its reason (a key of REASONS)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FhirProblem:
    """Lines of one file not used for one reason.

    Attributes
    ----------
    file : str
        File name (without directories).
    reason : str
        A key of ``REASONS`` (``not_json``, ``unknown_loinc_code``, ...).
    count : int
        Number of lines.
    first_line : int
        1-based number of the first such line.
    lines : tuple of int
        1-based numbers of the first :data:`FHIR_MAX_LINES` such lines, in file
        order (``count - len(lines)`` more are counted, not listed).
    numbering : {"line", "entry"}
        What the numbers count: lines of an NDJSON file, or entries of a file
        holding one JSON document (a Bundle or an array of resources).
    """

    file: str
    reason: str
    count: int
    first_line: int
    lines: tuple[int, ...] = ()
    numbering: str = "line"

    @property
    def lines_not_listed(self) -> int:
        """Lines counted but not listed in ``lines`` (beyond the cap)."""
        return max(self.count - len(self.lines), 0)

    def describe(self) -> str:
        """Return one line: count, reason and every listed line number.

        Examples
        --------
        >>> FhirProblem("Observation.ndjson", "not_json", 2, 2557, (2557, 2790)).describe()
        '2 lines (not valid JSON): lines 2557, 2790'
        >>> FhirProblem("a.ndjson", "not_json", 60, 1, tuple(range(1, 51))).describe()[-22:]
        '48, 49, 50 and 10 more'
        >>> FhirProblem("b.json", "missing_id", 1, 7, (7,), "entry").describe()
        '1 entry (the resource has no id): entry 7'
        """
        one, many = (self.numbering, "entries" if self.numbering == "entry" else "lines")
        lines = self.lines or (self.first_line,)
        shown = (f"{one} " if len(lines) == 1 else f"{many} ") + ", ".join(map(str, lines))
        more = self.count - len(lines)
        if more > 0:
            shown += FHIR_MORE_LINES.format(n=more)
        return FHIR_PROBLEM_MSG.format(
            count=f"{self.count:,}",
            noun=one if self.count == 1 else many,
            description=REASONS[self.reason],
            lines=shown,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the problem as a JSON-ready dict."""
        return {
            "file": self.file,
            "reason": self.reason,
            "description": REASONS[self.reason],
            "count": self.count,
            "first_line": self.first_line,
            "lines": list(self.lines),
            "lines_not_listed": self.lines_not_listed,
            "numbering": self.numbering,
        }


@dataclass(frozen=True)
class FhirIngestReport:
    """What a FHIR NDJSON read kept and what it skipped, per file and reason.

    Attributes
    ----------
    files : tuple of str
        File names read.
    n_lines : int
        Lines read (blank lines included); entries, for a file holding one JSON
        document (a Bundle or an array of resources).
    n_blank : int
        Blank lines (allowed by NDJSON, e.g. a final newline; not data).
    resources : dict of str to int
        Resources used, per resource type.
    rows : dict of str to int
        Rows of each output table.
    problems : tuple of FhirProblem
        Lines not used, per file and reason.
    conversions : dict of str to int
        Vital-sign values converted to the parameter's unit, per parameter and
        unit converted from (``"temperature from [degF]"``).
    """

    files: tuple[str, ...]
    n_lines: int
    n_blank: int
    resources: dict[str, int]
    rows: dict[str, int]
    problems: tuple[FhirProblem, ...]
    conversions: dict[str, int] = field(default_factory=dict)

    @property
    def n_skipped(self) -> int:
        """Lines not used (blank lines excluded)."""
        return sum(p.count for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict (counts and reasons only)."""
        return {
            "files": list(self.files),
            "n_lines": self.n_lines,
            "n_blank": self.n_blank,
            "n_skipped": self.n_skipped,
            "resources": dict(self.resources),
            "rows": dict(self.rows),
            "problems": [p.to_dict() for p in self.problems],
            "conversions": dict(self.conversions),
        }


@dataclass(frozen=True)
class FhirTables:
    """Flat tables read from FHIR resources.

    Attributes
    ----------
    patients : pandas.DataFrame
        ``patient_id, gender, birth_date, deceased, deceased_time``.
    encounters : pandas.DataFrame
        One row per stay: ``stay_id, patient_id, status, class, start, end``.
    vitals : pandas.DataFrame
        Long format: ``stay_id, patient_id, time, parameter, value, unit``;
        ``parameter`` is a canonical name (``heart_rate``, ``sbp``, ``dbp``,
        ``resp_rate``, ``spo2``, ``temperature``, ``gcs``, ``consciousness``
        coded ACVPU 0-4, ``supplemental_oxygen`` coded 0 air, 1 oxygen);
        values are converted to one UCUM unit per parameter, named in ``unit``
        (``/min``, ``mm[Hg]``, ``%``, ``Cel``, ``{score}``, ``{ACVPU}``, ``0/1``).
    conditions, procedures : pandas.DataFrame
        Coded diagnoses and procedures (first coding of ``code``).
    report : FhirIngestReport
        Counts of what was used and skipped.

    Times are ``datetime64[ns, UTC]``, each converted from its own offset; a
    time without an offset is read as UTC; a FHIR partial date (``2019``,
    ``2019-05``) is its first day.
    """

    patients: pd.DataFrame
    encounters: pd.DataFrame
    vitals: pd.DataFrame
    conditions: pd.DataFrame
    procedures: pd.DataFrame
    report: FhirIngestReport = field(repr=False)


#: The reports of the reads inside :func:`collect_fhir_reports` (None outside it).
_COLLECTED: ContextVar[list[FhirIngestReport] | None] = ContextVar(
    "clinai_fhir_reports", default=None
)


@contextmanager
def collect_fhir_reports() -> Iterator[list[FhirIngestReport]]:
    """Gather the ingest report of every :func:`read_fhir_ndjson` call inside the block.

    The ``runs`` layer wraps a pipeline's ``load()`` in it, so the lines a
    pipeline's FHIR read skipped reach ``clinai check-data`` without the
    pipeline passing them on.

    Yields
    ------
    list of FhirIngestReport
        Filled as reads finish, in call order.

    Examples
    --------
    >>> with collect_fhir_reports() as reports:
    ...     pass
    >>> reports
    []
    """
    reports: list[FhirIngestReport] = []
    token = _COLLECTED.set(reports)
    try:
        yield reports
    finally:
        _COLLECTED.reset(token)


def fhir_quality_checks(reports: Iterable[FhirIngestReport]) -> list[QualityCheck]:
    """Turn the skipped lines of FHIR reads into data checks, one per file and reason.

    Parameters
    ----------
    reports : iterable of FhirIngestReport
        The reports (e.g. from :func:`collect_fhir_reports`).

    Returns
    -------
    list of QualityCheck
        ``fhir_lines`` checks; ``column`` is the file name, ``count`` the lines
        skipped, the message lists their numbers (capped at
        :data:`FHIR_MAX_LINES`, with the count of the rest). Damaged lines are a
        warning; resource types clinai does not read and entered-in-error
        records (expected in a complete export) pass.
    """
    checks = []
    for report in reports:
        for problem in report.problems:
            expected = problem.reason in _NOT_ERRORS
            template = FHIR_CHECK_EXPECTED_MSG if expected else FHIR_CHECK_MSG
            checks.append(
                QualityCheck(
                    name="fhir_lines",
                    status="pass" if expected else "warn",
                    count=problem.count,
                    column=problem.file,
                    message=template.format(problem=problem.describe()),
                )
            )
    return checks


def _loads() -> Callable[[bytes], Any]:
    try:
        import orjson
    except ImportError:
        return json.loads
    return orjson.loads  # type: ignore[no-any-return]


def _reference_id(ref: Any, kind: str) -> str | None:
    """Return the id in a reference (``Patient/123``, a full URL, ``urn:uuid:``).

    A version (``Patient/123/_history/2``) is dropped; a conditional reference
    (``Patient?identifier=...``) names no id and gives None.
    """
    if not isinstance(ref, dict) or not isinstance(ref.get("reference"), str):
        return None
    text = ref["reference"].split("/_history/")[0]
    if "?" in text:
        return None
    if text.startswith("urn:uuid:"):
        return text.removeprefix("urn:uuid:")
    parts = text.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == kind:
        return parts[-1]
    return None


@dataclass(frozen=True)
class _PatientIdentifier:
    """A patient named by an identifier: resolved against the Patients' identifiers."""

    system: str | None
    value: str


def _identifier_ref(ref: Any) -> _PatientIdentifier | None:
    """Return the identifier of a logical or conditional reference to a Patient, if any.

    Logical: ``{"identifier": {"system": ..., "value": ...}}``; conditional (in
    transaction Bundles): ``Patient?identifier=system|value``.
    """
    if not isinstance(ref, dict):
        return None
    text = ref.get("reference")
    if isinstance(text, str):
        kind, _, query = text.partition("?")
        found = parse_qs(query).get("identifier") if kind.endswith("Patient") else None
        if not found:
            return None
        namespace, _, value = found[0].rpartition("|")
        return _PatientIdentifier(namespace or None, value) if value else None
    identifier = ref.get("identifier")
    if not isinstance(identifier, dict) or not isinstance(identifier.get("value"), str):
        return None
    system = identifier.get("system")
    return _PatientIdentifier(system if isinstance(system, str) else None, identifier["value"])


def _subject(resource: dict[str, Any]) -> str | _PatientIdentifier:
    refs = (resource.get("subject"), resource.get("patient"))
    for ref in refs:
        found = _reference_id(ref, "Patient")
        if found:
            return found
    for ref in refs:
        identifier = _identifier_ref(ref)
        if identifier is not None:
            return identifier
    raise _Skip("missing_subject")


def _first_coding(concept: Any) -> dict[str, Any]:
    if isinstance(concept, dict):
        for coding in concept.get("coding") or []:
            if isinstance(coding, dict) and coding.get("code"):
                return coding
    return {}


def _loinc_codes(concept: Any) -> list[str]:
    if not isinstance(concept, dict):
        return []
    return [
        str(c["code"])
        for c in concept.get("coding") or []
        if isinstance(c, dict) and c.get("system") in _LOINC_SYSTEMS and c.get("code")
    ]


def _require_id(resource: dict[str, Any]) -> str:
    rid = resource.get("id")
    if not isinstance(rid, str) or not rid:
        raise _Skip("missing_id")
    return rid


def _check_status(resource: dict[str, Any], kind: str) -> None:
    status = resource.get("status")
    if status == "entered-in-error":
        raise _Skip("entered_in_error")
    if status in _NOT_DONE[kind]:
        raise _Skip("not_performed")


def _when(value: Any) -> datetime | None:
    """Return a FHIR date, dateTime or instant as a naive UTC datetime (None if absent).

    Each value is read on its own (pandas reads a zone-less time in a list after
    an offset time in that earlier offset). Python's ISO 8601 reader takes ``Z``,
    any offset and fractional seconds (kept to the microsecond); a FHIR partial
    date (a year, or year and month) is its first day; a time without an offset
    (FHIR requires one) is read as UTC.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Skip("bad_time")
    text = value.strip().upper()  # a lower-case "t" or "z" (not FHIR, but written)
    if _PARTIAL_DATE.fullmatch(text):
        text = (text + "-01-01")[:10]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _Skip("bad_time") from None
    if not _YEARS[0] <= parsed.year <= _YEARS[1]:
        raise _Skip("bad_time")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _period_time(resource: dict[str, Any], key: str) -> Any:
    """Return the start of a Period element, or its end when only the end is known."""
    period = resource.get(key)
    if period is None:
        return None
    if not isinstance(period, dict):
        raise _Skip("wrong_type")
    return period.get("start") or period.get("end")


def _patient(resource: dict[str, Any]) -> list[tuple[Any, ...]]:
    deceased = resource.get("deceasedBoolean")
    deceased_time = _when(resource.get("deceasedDateTime"))
    if deceased_time is not None:
        deceased = True
    return [
        (
            _require_id(resource),
            resource.get("gender"),
            resource.get("birthDate"),
            deceased,
            deceased_time,
        )
    ]


def _encounter(resource: dict[str, Any]) -> list[tuple[Any, ...]]:
    _check_status(resource, "Encounter")
    stay = _require_id(resource)
    patient = _subject(resource)
    period = resource.get("period") or {}
    if not isinstance(period, dict) or not period.get("start"):
        raise _Skip("missing_time")
    klass = resource.get("class")
    if isinstance(klass, list):  # R5 made class a list of CodeableConcepts
        klass = klass[0] if klass else {}
    if isinstance(klass, dict) and "coding" in klass:  # a CodeableConcept, not R4's Coding
        klass = _first_coding(klass)
    code = klass.get("code") if isinstance(klass, dict) else None
    start, end = _when(period["start"]), _when(period.get("end"))
    return [(stay, patient, resource.get("status"), code, start, end)]


def _effective_time(resource: dict[str, Any]) -> datetime:
    value = resource.get("effectiveDateTime") or resource.get("effectiveInstant")
    if not value:
        value = _period_time(resource, "effectivePeriod")
    if not value:  # ``issued`` is when it was reported, not measured: not used
        raise _Skip("missing_time")
    time = _when(value)
    if time is None or len(value.strip()) <= len("YYYY-MM-DD"):
        raise _Skip("no_time_of_day")
    return time


def _consciousness(element: dict[str, Any]) -> float | None:
    """ACVPU code from a coded or text value (``A``, ``Alert``, ``new confusion``...)."""
    texts: list[str] = []
    if isinstance(element.get("valueString"), str):
        texts.append(element["valueString"])
    concept = element.get("valueCodeableConcept")
    if isinstance(concept, dict):
        texts += [str(concept.get("text") or "")]
        for coding in concept.get("coding") or []:
            if isinstance(coding, dict):
                texts += [str(coding.get("display") or ""), str(coding.get("code") or "")]
    for text in texts:
        word = text.strip().lower()
        if word in _ACVPU_WORDS:
            return float(_ACVPU_WORDS[word])
        if word in _ACVPU:
            return float(_ACVPU[word])
    return None


def _number(element: dict[str, Any]) -> tuple[float, list[str]] | None:
    """Return the number of ``valueQuantity`` or ``valueInteger`` and its unit texts."""
    quantity = element.get("valueQuantity")
    if isinstance(quantity, dict):
        value = quantity.get("value")
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        if quantity.get("comparator"):  # "<", ">=" ...: a bound, not a measurement
            raise _Skip("value_comparator")
        units = [quantity.get("code"), quantity.get("unit")]
        return float(value), [u.strip() for u in units if isinstance(u, str) and u.strip()]
    value = element.get("valueInteger")
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value), []
    return None


def _value(element: dict[str, Any], code: str) -> tuple[float, str, str | None]:
    """Return the value of an observation or component in the parameter's canonical unit.

    The third item is the unit converted from (None when none was converted).
    """
    parameter = LOINC_VITALS[code]
    absent = "data_absent" if element.get("dataAbsentReason") else "missing_value"
    if parameter == "consciousness":
        level = _consciousness(element)
        if level is None:
            raise _Skip(absent)
        return level, "{ACVPU}", None
    number = _number(element)
    if number is None:
        raise _Skip(absent)
    value, units = number
    if code == _FLOW:  # on oxygen if any flow
        return float(value > 0), "0/1", None
    if code == _FIO2:  # on oxygen above room air (21 %); a fraction when <= 1
        percent = bool(units) and units[0] in ("%", "percent")
        fraction = value / 100 if percent or value > 1 else value
        return float(fraction > 0.21 + 1e-9), "0/1", None
    if parameter == "gcs":  # a score: no unit to convert
        return value, "{score}", None
    canonical, accepted = _UNITS[parameter]
    if not units:
        if parameter in _ONE_UNIT:
            return value, canonical, None
        raise _Skip("missing_unit")  # 98.6 may be degF, 0.97 a fraction: never guessed
    for unit in units:
        if unit.lower() in accepted:
            convert = accepted[unit.lower()]
            if convert is None:
                return value, canonical, None
            return convert(value), canonical, _CONVERTED_FROM[convert]
    raise _Skip("unknown_unit")


def _observation(resource: dict[str, Any]) -> list[tuple[Any, ...]]:
    _check_status(resource, "Observation")
    patient = _subject(resource)
    concept = resource.get("code")
    codes = _loinc_codes(concept)
    if not codes:
        raise _Skip("no_loinc_code" if _first_coding(concept) else "missing_code")
    # Known vital sign on the observation itself, and in components (BP panel).
    parts: list[tuple[dict[str, Any], str]] = [(resource, c) for c in codes if c in LOINC_VITALS][
        :1
    ]
    for component in resource.get("component") or []:
        known = [c for c in _loinc_codes(component.get("code")) if c in LOINC_VITALS]
        if known:
            parts.append((component, known[0]))
    if not parts:
        raise _Skip("unknown_loinc_code")
    stay = _reference_id(resource.get("encounter"), "Encounter")
    if not stay:
        raise _Skip("missing_encounter")
    time = _effective_time(resource)
    rows, absent = [], []
    for element, code in parts:
        try:
            value, unit, converted = _value(element, code)
        except _Skip as skip:
            # a panel keeps the components it has (a BP panel without its diastolic)
            if skip.reason not in ("data_absent", "missing_value"):
                raise
            absent.append(skip.reason)
            continue
        rows.append((stay, patient, time, LOINC_VITALS[code], value, unit, converted))
    if not rows:
        raise _Skip(absent[0])
    return rows


def _coded(resource: dict[str, Any], times: tuple[Any, ...], status: bool) -> list[tuple[Any, ...]]:
    rid = _require_id(resource)
    patient = _subject(resource)
    coding = _first_coding(resource.get("code"))
    if not coding:
        raise _Skip("missing_code")
    stay = _reference_id(resource.get("encounter"), "Encounter")
    extra = (resource.get("status"),) if status else ()
    row = (rid, patient, stay, coding.get("system"), coding.get("code"), coding.get("display"))
    return [(*row, *extra, *times)]


def _condition(resource: dict[str, Any]) -> list[tuple[Any, ...]]:
    verification = _first_coding(resource.get("verificationStatus")).get("code")
    if verification in _VERIFICATION_SKIPS:
        raise _Skip(_VERIFICATION_SKIPS[verification])
    onset = resource.get("onsetDateTime") or _period_time(resource, "onsetPeriod")
    return _coded(resource, (_when(onset), _when(resource.get("recordedDate"))), status=False)


def _procedure(resource: dict[str, Any]) -> list[tuple[Any, ...]]:
    _check_status(resource, "Procedure")
    performed = resource.get("performedDateTime") or _period_time(resource, "performedPeriod")
    return _coded(resource, (_when(performed),), status=True)


_READERS: dict[str, tuple[str, Callable[[dict[str, Any]], list[tuple[Any, ...]]]]] = {
    "Patient": ("patients", _patient),
    "Encounter": ("encounters", _encounter),
    "Observation": ("vitals", _observation),
    "Condition": ("conditions", _condition),
    "Procedure": ("procedures", _procedure),
}


def _open(path: Path) -> gzip.GzipFile | io.BufferedReader:
    # gzip by its magic number (RFC 1952), not the name: a download saved without
    # ".gz", or as ".GZ"
    with path.open("rb") as handle:
        zipped = handle.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if zipped else path.open("rb")


_BOM = b"\xef\xbb\xbf"  # files written on Windows often start with a byte order mark


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield the numbered lines of a file as bytes, without a byte order mark.

    Lines are decoded one by one (by the JSON reader), so a line that is not
    UTF-8 is one skipped line, not a file that cannot be read.
    """
    try:
        with _open(path) as handle:
            for number, line in enumerate(handle, start=1):
                yield number, line.removeprefix(_BOM) if number == 1 else line
    except (OSError, EOFError) as exc:  # a truncated or damaged gzip too
        raise DataError(FHIR_FILE_MSG.format(file=path, error=exc)) from exc


def _not_json(line: bytes) -> str:
    """Return why a line the JSON reader refused is not used."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return "not_utf8"
    return "not_json"


#: Marker of a blank line among parsed records (a line not read is a _Skip).
_BLANK = object()


def _bundle_entries(value: Any) -> list[Any] | None:
    """Return the resources of a Bundle (an entry without one gives an empty object)."""
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        return None
    entries = value.get("entry") or []
    return [e.get("resource", {}) if isinstance(e, dict) else e for e in entries]


def _document(path: Path, loads: Callable[[bytes], Any]) -> list[Any] | None:
    """Return the resources of a file holding one JSON document, or None.

    Synthea writes one Bundle per patient, often pretty-printed; other tools
    write a JSON array of resources, or one resource. An NDJSON file (a second
    line that holds JSON) is never read whole.
    """
    head: list[bytes] = []
    for _, line in _lines(path):
        if line.strip():
            head.append(line)
            if len(head) == 2:
                break
    if not head:
        return None
    try:
        value = loads(head[0])
    except ValueError:
        if head[0].lstrip()[:1] not in (b"{", b"["):
            return None
        try:  # the first line opens a document written over many lines
            with _open(path) as handle:
                value = loads(handle.read().removeprefix(_BOM))
        except (ValueError, OSError, EOFError):
            return None  # not one document: read line by line, which names the damage
        if isinstance(value, dict) and _bundle_entries(value) is None:
            return [value]  # one resource, pretty-printed
    else:
        if len(head) > 1:
            return None  # NDJSON
    if isinstance(value, list):
        return value
    return _bundle_entries(value)


def _records(path: Path, loads: Callable[[bytes], Any]) -> tuple[str, Iterator[tuple[int, Any]]]:
    """Return what the numbers count (``line`` or ``entry``) and the numbered records."""
    document = _document(path, loads)
    if document is not None:
        return "entry", enumerate(document, start=1)
    return "line", _ndjson(path, loads)


def _ndjson(path: Path, loads: Callable[[bytes], Any]) -> Iterator[tuple[int, Any]]:
    for number, line in _lines(path):
        if not line.strip():
            yield number, _BLANK
            continue
        try:
            value = loads(line)
        except ValueError:
            yield number, _Skip(_not_json(line))
            continue
        entries = _bundle_entries(value)
        if entries is None:
            yield number, value
        else:  # a Bundle on one line: its resources, each at that line
            for entry in entries:
                yield number, entry


class _Tally:
    """Resources used per type, and lines skipped per file and reason."""

    def __init__(self) -> None:
        self.used: Counter[str] = Counter()
        self.counts: Counter[tuple[str, str]] = Counter()
        self.listed: dict[tuple[str, str], list[int]] = {}

    def skip(self, name: str, number: int, reason: str) -> None:
        key = (name, reason)
        self.counts[key] += 1
        numbers = self.listed.setdefault(key, [])
        if len(numbers) < FHIR_MAX_LINES:
            numbers.append(number)

    def problems(self, numbering: dict[str, str]) -> tuple[FhirProblem, ...]:
        return tuple(
            FhirProblem(
                file=name,
                reason=reason,
                count=self.counts[(name, reason)],
                first_line=min(lines),
                lines=tuple(sorted(lines)),
                numbering=numbering[name],
            )
            for (name, reason), lines in sorted(self.listed.items())
        )


class _Copies:
    """The row of each resource id of :data:`_KEYED` types read, to keep one copy.

    An export read together with a later (``_since``) export, or one copied twice,
    holds a resource more than once: the copy with the later ``meta.lastUpdated``
    is kept, else the one read last.
    """

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], tuple[tuple[str, int], str, int, datetime | None]] = {}
        self.dropped: dict[str, set[int]] = {}

    def add(
        self, kind: str, record: dict[str, Any], where: tuple[str, int], table: str, index: int
    ) -> tuple[str, int] | None:
        """Register a copy at row ``index``; return where the copy not kept was read."""
        meta = record.get("meta")
        try:
            updated = _when(meta.get("lastUpdated")) if isinstance(meta, dict) else None
        except _Skip:
            updated = None
        key = (kind, str(record["id"]))
        old = self.seen.get(key)
        if old is not None:
            _, old_table, old_index, old_updated = old
            if updated is not None and old_updated is not None and updated < old_updated:
                return where  # the copy just read is the older one
            self.dropped.setdefault(old_table, set()).add(old_index)
        self.seen[key] = (where, table, index, updated)
        return None if old is None else old[0]


class _Identifiers:
    """Patient identifiers read, and the rows whose patient is named by one.

    Systems that name a patient by a business identifier (a medical record
    number) instead of a reference are resolved once every file is read, as
    the Patient file may come after the others.
    """

    def __init__(self) -> None:
        # (system, value) and (None, value) -> patient id; None when several patients
        self.index: dict[tuple[str | None, str], str | None] = {}
        self.pending: list[tuple[str, str, int, int, tuple[str, int]]] = []

    def add_patient(self, record: dict[str, Any]) -> None:
        for identifier in record.get("identifier") or []:
            if not isinstance(identifier, dict) or not isinstance(identifier.get("value"), str):
                continue
            system, value = identifier.get("system"), identifier["value"]
            for key in {(system if isinstance(system, str) else None, value), (None, value)}:
                if self.index.setdefault(key, record["id"]) != record["id"]:
                    self.index[key] = None

    def resolve(
        self, rows: dict[str, list[tuple[Any, ...]]], dropped: dict[str, set[int]]
    ) -> Iterator[tuple[str, tuple[str, int]]]:
        """Put patient ids into the pending rows; yield (kind, where) of those unresolved."""
        for kind, table, start, stop, where in self.pending:
            if start in dropped.get(table, ()):
                continue  # a copy read again later (already counted)
            identifier = rows[table][start][1]
            patient = self.index.get((identifier.system, identifier.value))
            if patient is None:
                dropped.setdefault(table, set()).update(range(start, stop))
                yield kind, where
                continue
            for index in range(start, stop):
                row = rows[table][index]
                rows[table][index] = (row[0], patient, *row[2:])


def _read_record(record: Any) -> tuple[str, str, list[tuple[Any, ...]]]:
    """Return the resource type, table and rows of one parsed record (or raise _Skip)."""
    if isinstance(record, _Skip):
        raise record
    if not isinstance(record, dict):
        raise _Skip("not_an_object")
    kind = record.get("resourceType")
    if not isinstance(kind, str) or not kind:
        raise _Skip("missing_resource_type")
    if kind not in _READERS:
        raise _Skip("unknown_resource_type")
    table, reader = _READERS[kind]
    try:
        return kind, table, reader(record)
    except (AttributeError, TypeError) as exc:  # e.g. a list where FHIR has an object
        raise _Skip("wrong_type") from exc


def _export_files(path: Path) -> list[Path]:
    """Return the file, or the export files of a folder (sorted by name)."""
    if not path.is_dir():
        return [path]
    found = sorted(
        p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(_EXPORT_ENDINGS)
    )
    if not found:
        raise DataError(FHIR_EMPTY_FOLDER_MSG.format(folder=path))
    return found


def _file_names(files: list[Path]) -> list[str]:
    """Names for the report: the file name, with its folder where two files share it."""
    names = Counter(p.name for p in files)
    return [p.name if names[p.name] == 1 else "/".join(p.parts[-2:]) for p in files]


def _frame(table: str, rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=_COLUMNS[table])
    for column in _TIME_COLUMNS[table]:  # naive UTC datetimes (see _when)
        frame[column] = pd.to_datetime(frame[column].astype(object)).dt.tz_localize("UTC")
    if table == "vitals":
        frame["value"] = frame["value"].astype("float64")
    return frame


def read_fhir_ndjson(
    paths: str | Path | Iterable[str | Path], *, strict: bool = False
) -> FhirTables:
    """Read FHIR R4 NDJSON files into flat tables, counting every line not used.

    Resources used: ``Patient``; ``Encounter`` (a stay); ``Observation`` with
    a LOINC vital-sign code (:data:`LOINC_VITALS`; the values of the blood
    pressure panel 85354-9 and the vital-signs panel 85353-1 are read from
    their components); ``Condition``; ``Procedure``. Inhaled oxygen flow
    (3151-8) becomes ``supplemental_oxygen`` 1 when above 0 L/min; inhaled
    oxygen concentration (3150-0) becomes 1 when above 21 % (room air).

    Vital signs are converted to one unit each (degF and K to Cel, kPa to
    mm[Hg], a fraction to %); a value in any other unit, or without a unit
    where it could be in two (temperature, blood pressure, SpO2), is skipped and
    counted, never guessed. Records marked entered-in-error, or as not done
    (cancelled, planned or registered encounters and observations, not-done
    procedures, refuted diagnoses), are skipped and counted. A file may also
    hold one JSON document: a Bundle (as Synthea writes) or an array of
    resources; its entries are numbered instead of its lines. A patient named
    by an identifier (a logical or conditional reference) is matched, once
    every file is read, to the one Patient carrying that identifier. A
    Patient, Encounter, Condition or Procedure read twice (same id) keeps one
    row: the copy with the later ``meta.lastUpdated``, else the last read.

    Parameters
    ----------
    paths : path or iterable of paths
        ``.ndjson`` files, or ``.ndjson.gz`` (gzip), one resource per line
        (UTF-8, with or without a byte order mark); or ``.json``/``.json.gz``
        files holding a Bundle or an array of resources; or a folder, whose
        files with these endings are read in name order.
    strict : bool, default=False
        Raise on the first malformed line (not JSON, a required field
        missing, a bad time or unit) instead of counting and skipping it.
        What a complete export holds besides vital signs (other resource
        types, labs, records marked entered-in-error or not done, values the
        source marks absent) is counted, never raised on.

    Returns
    -------
    FhirTables
        The tables and a :class:`FhirIngestReport`.

    Raises
    ------
    DataError
        If a file cannot be read, a folder holds no export file, or in strict
        mode on a malformed line; the message names the file and the line
        number.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> line = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "Patient.ndjson"
    >>> _ = path.write_text(json.dumps(line) + chr(10) + "{oops" + chr(10))
    >>> tables = read_fhir_ndjson(path)
    >>> len(tables.patients), tables.report.problems[0].reason
    (1, 'not_json')
    """
    given = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not given:
        raise DataError(FHIR_NO_FILES_MSG)
    files = [file for path in given for file in _export_files(path)]
    loads = _loads()
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _COLUMNS}
    tally, copies, identifiers = _Tally(), _Copies(), _Identifiers()
    numbering: dict[str, str] = {}
    names = _file_names(files)
    n_lines = n_blank = 0
    for path, name in zip(files, names, strict=True):
        numbering[name], records = _records(path, loads)
        message = FHIR_ENTRY_MSG if numbering[name] == "entry" else FHIR_LINE_MSG
        for number, record in records:
            n_lines += 1
            if record is _BLANK:
                n_blank += 1
                continue
            try:
                kind, table, new_rows = _read_record(record)
            except _Skip as skip:
                if strict and skip.reason not in _NOT_ERRORS:
                    why = REASONS[skip.reason]
                    raise DataError(message.format(file=name, line=number, problem=why)) from None
                tally.skip(name, number, skip.reason)
                continue
            if kind in _KEYED:
                where = (name, number)
                stale = copies.add(kind, record, where, table, len(rows[table]))
                if stale is not None:
                    tally.skip(*stale, "duplicate_id")
                    if stale == where:
                        continue
                    tally.used[kind] -= 1
            if kind == "Patient":
                identifiers.add_patient(record)
            elif isinstance(new_rows[0][1], _PatientIdentifier):
                start = len(rows[table])
                where = (name, number)
                identifiers.pending.append((kind, table, start, start + len(new_rows), where))
            rows[table].extend(new_rows)
            tally.used[kind] += 1
    for kind, (name, number) in identifiers.resolve(rows, copies.dropped):
        if strict:
            message = FHIR_ENTRY_MSG if numbering[name] == "entry" else FHIR_LINE_MSG
            why = REASONS["subject_by_identifier"]
            raise DataError(message.format(file=name, line=number, problem=why))
        tally.used[kind] -= 1
        tally.skip(name, number, "subject_by_identifier")
    frames = {}
    for table, table_rows in rows.items():
        dropped = copies.dropped.get(table)
        kept = [r for i, r in enumerate(table_rows) if i not in dropped] if dropped else table_rows
        frames[table] = _frame(table, kept)
    converted_from = frames["vitals"].pop("converted")
    converted = Counter(
        f"{parameter} from {unit}"
        for parameter, unit in zip(frames["vitals"]["parameter"], converted_from, strict=True)
        if unit
    )
    problems = tally.problems(numbering)
    report = FhirIngestReport(
        files=tuple(names),
        n_lines=n_lines,
        n_blank=n_blank,
        resources=dict(sorted(tally.used.items())),
        rows={table: len(frame) for table, frame in frames.items()},
        problems=problems,
        conversions=dict(sorted(converted.items())),
    )
    for problem in problems:
        logger.warning("%s: %s (skipped)", problem.file, problem.describe())
    collected = _COLLECTED.get()
    if collected is not None:
        collected.append(report)
    return FhirTables(report=report, **frames)
