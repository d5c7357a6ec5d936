"""What a FHIR read did not use, and the report that says so.

The reasons a line or entry is skipped (:data:`REASONS`, and which of them a
complete export is expected to hold), the message texts of the FHIR reader, the
exception that carries a reason (``_Skip``), the ingest report
(:class:`FhirProblem`, :class:`FhirIngestReport`) and the tally that builds it,
and the two ways the ``runs`` layer gets at the reports
(:func:`collect_fhir_reports`, :func:`fhir_quality_checks`). They sit apart from
the reading so that what may reach a report (counts, file names, reasons and
line numbers, never a resource's content) is in one place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from clinai.data._quality import QualityCheck

__all__ = [
    "FHIR_ENTRY_MSG",
    "FHIR_LINE_MSG",
    "FHIR_MAX_LINES",
    "REASONS",
    "FhirIngestReport",
    "FhirProblem",
    "collect_fhir_reports",
    "fhir_quality_checks",
]

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
    "truncated": (
        "the gzip file breaks off here, cut short in transfer or damaged; the lines "
        "before are read, the rest is lost: download the file again"
    ),
    "stay_not_kept": (
        "a vital sign of a stay whose Encounter was read but not kept (entered-in-error, "
        "cancelled, planned, or skipped for a reason counted on its own line)"
    ),
}
#: Reasons that are expected in a complete export and never raise in strict mode:
#: other resource types, labs and other observations, records marked as errors or
#: as not done, values the source says are absent, copies of a resource, and the
#: vital signs of a stay not kept (its Encounter line is counted, or raises, itself).
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
        "stay_not_kept",
    }
)


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
