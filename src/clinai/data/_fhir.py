"""Read FHIR R4 Bulk Data exports (NDJSON) into flat patient, stay, vitals and code tables.

A Bulk Data export (FHIR Bulk Data Access IG, ``$export``) is a set of NDJSON files,
one resource per line, often gzip-compressed. This reader streams them line by line
and keeps Patient, Encounter, Observation (vital signs by LOINC code), Condition and
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
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from clinai.data._quality import QualityCheck
from clinai.exceptions import DataError

__all__ = [
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

FHIR_LINE_MSG = (
    "{file}, line {line}: {problem}; fix or remove the line, or read without strict "
    "mode to count and skip it"
)
FHIR_FILE_MSG = "FHIR file {file} cannot be read: {error}; pass an NDJSON or NDJSON.gz file"
FHIR_NO_FILES_MSG = "no FHIR NDJSON file given: pass one or more .ndjson or .ndjson.gz paths"
#: Line numbers kept per file and reason; the rest are counted.
FHIR_MAX_LINES = 50
FHIR_PROBLEM_MSG = "{count} {noun} ({description}): {lines}"
FHIR_MORE_LINES = " and {n:,} more"
FHIR_CHECK_MSG = "{problem}; fix or remove the line(s) in the export and read it again"
FHIR_CHECK_EXPECTED_MSG = "{problem} (expected in a complete export; not used)"

#: Reasons a line is not used, with the problem text used in strict mode.
REASONS: dict[str, str] = {
    "not_json": "not valid JSON",
    "not_an_object": "not a JSON object (one resource per line)",
    "missing_resource_type": "no resourceType",
    "unknown_resource_type": "a resource type clinai does not read",
    "missing_id": "the resource has no id",
    "missing_subject": "no subject (or patient) reference",
    "missing_encounter": "the observation has no encounter reference (no stay)",
    "missing_time": "no effective/period/onset time",
    "missing_code": "no LOINC code",
    "unknown_loinc_code": "a LOINC code that is not a vital sign clinai knows",
    "missing_value": "no usable value",
    "entered_in_error": "status entered-in-error",
}
#: Reasons that are expected in a complete export and never raise in strict mode.
_NOT_ERRORS = frozenset({"unknown_resource_type", "entered_in_error"})

_COLUMNS: dict[str, list[str]] = {
    "patients": ["patient_id", "gender", "birth_date", "deceased", "deceased_time"],
    "encounters": ["stay_id", "patient_id", "status", "class", "start", "end"],
    "vitals": ["stay_id", "patient_id", "time", "parameter", "value", "unit"],
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
    """

    file: str
    reason: str
    count: int
    first_line: int
    lines: tuple[int, ...] = ()

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
        """
        lines = self.lines or (self.first_line,)
        shown = ("line " if len(lines) == 1 else "lines ") + ", ".join(map(str, lines))
        more = self.count - len(lines)
        if more > 0:
            shown += FHIR_MORE_LINES.format(n=more)
        return FHIR_PROBLEM_MSG.format(
            count=f"{self.count:,}",
            noun="line" if self.count == 1 else "lines",
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
        }


@dataclass(frozen=True)
class FhirIngestReport:
    """What a FHIR NDJSON read kept and what it skipped, per file and reason.

    Attributes
    ----------
    files : tuple of str
        File names read.
    n_lines : int
        Lines read (blank lines included).
    n_blank : int
        Blank lines (allowed by NDJSON, e.g. a final newline; not data).
    resources : dict of str to int
        Resources used, per resource type.
    rows : dict of str to int
        Rows of each output table.
    problems : tuple of FhirProblem
        Lines not used, per file and reason.
    """

    files: tuple[str, ...]
    n_lines: int
    n_blank: int
    resources: dict[str, int]
    rows: dict[str, int]
    problems: tuple[FhirProblem, ...]

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
        ``unit`` is the UCUM unit of the resource.
    conditions, procedures : pandas.DataFrame
        Coded diagnoses and procedures (first coding of ``code``).
    report : FhirIngestReport
        Counts of what was used and skipped.

    Times are ``datetime64[ns, UTC]``; a time without a zone is read as UTC.
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


def _loads() -> Callable[[str], Any]:
    try:
        import orjson
    except ImportError:
        return json.loads
    return orjson.loads  # type: ignore[no-any-return]


def _reference_id(ref: Any, kind: str) -> str | None:
    """Return the id in a reference (``Patient/123``, a full URL or ``urn:uuid:``)."""
    if not isinstance(ref, dict) or not isinstance(ref.get("reference"), str):
        return None
    text = ref["reference"].split("/_history/")[0]
    if text.startswith("urn:uuid:"):
        return text.removeprefix("urn:uuid:")
    parts = text.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == kind:
        return parts[-1]
    return None


def _subject(resource: dict[str, Any]) -> str:
    patient = _reference_id(resource.get("subject"), "Patient") or _reference_id(
        resource.get("patient"), "Patient"
    )
    if not patient:
        raise _Skip("missing_subject")
    return patient


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
        if isinstance(c, dict) and c.get("system") == LOINC_SYSTEM and c.get("code")
    ]


def _require_id(resource: dict[str, Any]) -> str:
    rid = resource.get("id")
    if not isinstance(rid, str) or not rid:
        raise _Skip("missing_id")
    return rid


def _patient(resource: dict[str, Any]) -> list[tuple[Any, ...]]:
    deceased = resource.get("deceasedBoolean")
    deceased_time = resource.get("deceasedDateTime")
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
    stay = _require_id(resource)
    patient = _subject(resource)
    period = resource.get("period") or {}
    if not isinstance(period, dict) or not period.get("start"):
        raise _Skip("missing_time")
    klass = resource.get("class")
    if isinstance(klass, list):  # R5 made class a list of CodeableConcepts
        klass = _first_coding(klass[0]) if klass else {}
    code = klass.get("code") if isinstance(klass, dict) else None
    return [(stay, patient, resource.get("status"), code, period["start"], period.get("end"))]


def _effective_time(resource: dict[str, Any]) -> Any:
    for key in ("effectiveDateTime", "effectiveInstant"):
        if resource.get(key):
            return resource[key]
    period = resource.get("effectivePeriod")
    if isinstance(period, dict) and period.get("start"):
        return period["start"]
    raise _Skip("missing_time")


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


def _value(element: dict[str, Any], code: str) -> tuple[float, str | None] | None:
    """Return the value and UCUM unit of an observation or component (None if absent)."""
    if LOINC_VITALS[code] == "consciousness":
        level = _consciousness(element)
        return None if level is None else (level, "{ACVPU}")
    quantity = element.get("valueQuantity")
    if isinstance(quantity, dict) and isinstance(quantity.get("value"), int | float):
        value = float(quantity["value"])
        unit = quantity.get("code") or quantity.get("unit")
    elif isinstance(element.get("valueInteger"), int):
        value, unit = float(element["valueInteger"]), None
    else:
        return None
    if code == _FLOW:  # on oxygen if any flow
        return float(value > 0), "0/1"
    if code == _FIO2:  # on oxygen above room air (21 %); a fraction when <= 1
        fraction = value if unit not in ("%", "percent") and value <= 1 else value / 100
        return float(fraction > 0.21 + 1e-9), "0/1"
    return value, unit


def _observation(resource: dict[str, Any]) -> list[tuple[Any, ...]]:
    if resource.get("status") == "entered-in-error":
        raise _Skip("entered_in_error")
    patient = _subject(resource)
    codes = _loinc_codes(resource.get("code"))
    if not codes:
        raise _Skip("missing_code")
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
    rows = []
    for element, code in parts:
        value = _value(element, code)
        if value is not None:
            rows.append((stay, patient, time, LOINC_VITALS[code], value[0], value[1]))
    if not rows:
        raise _Skip("missing_value")
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
    onset = resource.get("onsetDateTime") or (resource.get("onsetPeriod") or {}).get("start")
    return _coded(resource, (onset, resource.get("recordedDate")), status=False)


def _procedure(resource: dict[str, Any]) -> list[tuple[Any, ...]]:
    if resource.get("status") == "entered-in-error":
        raise _Skip("entered_in_error")
    performed = resource.get("performedDateTime") or (resource.get("performedPeriod") or {}).get(
        "start"
    )
    return _coded(resource, (performed,), status=True)


_READERS: dict[str, tuple[str, Callable[[dict[str, Any]], list[tuple[Any, ...]]]]] = {
    "Patient": ("patients", _patient),
    "Encounter": ("encounters", _encounter),
    "Observation": ("vitals", _observation),
    "Condition": ("conditions", _condition),
    "Procedure": ("procedures", _procedure),
}


def _open(path: Path) -> TextIO:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with _open(path) as handle:
            yield from enumerate(handle, start=1)
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DataError(FHIR_FILE_MSG.format(file=path, error=exc)) from exc


def _frame(table: str, rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=_COLUMNS[table])
    for column in _TIME_COLUMNS[table]:
        frame[column] = pd.to_datetime(frame[column], utc=True, errors="coerce", format="ISO8601")
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

    Parameters
    ----------
    paths : path or iterable of paths
        ``.ndjson`` files, or ``.ndjson.gz`` (gzip), one resource per line.
    strict : bool, default=False
        Raise on the first malformed line (not JSON, a required field
        missing, an unknown LOINC code) instead of counting and skipping it.
        Resource types clinai does not read and entered-in-error records are
        counted, never raised on.

    Returns
    -------
    FhirTables
        The tables and a :class:`FhirIngestReport`.

    Raises
    ------
    DataError
        If a file cannot be read, or in strict mode on a malformed line; the
        message names the file and the line number.

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
    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not files:
        raise DataError(FHIR_NO_FILES_MSG)
    loads = _loads()
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _COLUMNS}
    used: Counter[str] = Counter()
    counts: Counter[tuple[str, str]] = Counter()
    listed: dict[tuple[str, str], list[int]] = {}
    n_lines = n_blank = 0
    for path in files:
        for number, line in _lines(path):
            n_lines += 1
            if not line.strip():
                n_blank += 1
                continue
            try:
                try:
                    resource = loads(line)
                except ValueError as exc:
                    raise _Skip("not_json") from exc
                if not isinstance(resource, dict):
                    raise _Skip("not_an_object")
                kind = resource.get("resourceType")
                if not isinstance(kind, str) or not kind:
                    raise _Skip("missing_resource_type")
                if kind not in _READERS:
                    raise _Skip("unknown_resource_type")
                table, reader = _READERS[kind]
                rows[table].extend(reader(resource))
                used[kind] += 1
            except _Skip as skip:
                if strict and skip.reason not in _NOT_ERRORS:
                    raise DataError(
                        FHIR_LINE_MSG.format(
                            file=path.name, line=number, problem=REASONS[skip.reason]
                        )
                    ) from None
                key = (path.name, skip.reason)
                counts[key] += 1
                numbers = listed.setdefault(key, [])
                if len(numbers) < FHIR_MAX_LINES:
                    numbers.append(number)
    frames = {table: _frame(table, table_rows) for table, table_rows in rows.items()}
    problems = tuple(
        FhirProblem(
            file=f,
            reason=r,
            count=counts[(f, r)],
            first_line=listed[(f, r)][0],
            lines=tuple(listed[(f, r)]),
        )
        for f, r in sorted(counts)
    )
    report = FhirIngestReport(
        files=tuple(p.name for p in files),
        n_lines=n_lines,
        n_blank=n_blank,
        resources=dict(sorted(used.items())),
        rows={table: len(frame) for table, frame in frames.items()},
        problems=problems,
    )
    for problem in problems:
        logger.warning("%s: %s (skipped)", problem.file, problem.describe())
    collected = _COLLECTED.get()
    if collected is not None:
        collected.append(report)
    return FhirTables(report=report, **frames)
