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

The reader is split by concern: :mod:`clinai.data._fhir_files` opens the files
and yields numbered records, :mod:`clinai.data._fhir_resources` turns one record
into rows, :mod:`clinai.data._fhir_units` holds the LOINC codes and unit
conversions, and :mod:`clinai.data._fhir_report` the skip reasons, messages and
the ingest report. This module holds :func:`read_fhir_ndjson`, which runs them
over every file and reconciles what spans records (copies of one resource read
twice, patients named by an identifier), and :class:`FhirTables`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from clinai.data._fhir_files import _BLANK, _export_files, _file_names, _loads, _records
from clinai.data._fhir_report import (
    _COLLECTED,
    _NOT_ERRORS,
    FHIR_ENTRY_MSG,
    FHIR_LINE_MSG,
    FHIR_NO_FILES_MSG,
    REASONS,
    FhirIngestReport,
    _Skip,
    _Tally,
)
from clinai.data._fhir_resources import _PatientIdentifier, _read_record, _when
from clinai.exceptions import DataError

__all__ = ["FhirTables", "read_fhir_ndjson"]

logger = logging.getLogger(__name__)

#: Resource types of which one copy per resource id is kept (an Observation
#: without an id, which FHIR allows outside a server, is kept as it is).
_KEYED = frozenset({"Patient", "Encounter", "Observation", "Condition", "Procedure"})

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


class _Copies:
    """The rows of each resource id of :data:`_KEYED` types read, to keep one copy.

    An export read together with a later (``_since``) export, one copied twice,
    or a Bundle read with the NDJSON of the same export, holds a resource more
    than once: the copy with the later ``meta.lastUpdated`` is kept, else the
    one read last. An Observation may give several rows (a panel's components).
    """

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], tuple[tuple[str, int], str, range, datetime | None]] = {}
        self.dropped: dict[str, set[int]] = {}

    def add(
        self, kind: str, record: dict[str, Any], where: tuple[str, int], table: str, rows: range
    ) -> tuple[str, int] | None:
        """Register a copy at table rows ``rows``; return where the copy not kept was read."""
        meta = record.get("meta")
        try:
            updated = _when(meta.get("lastUpdated")) if isinstance(meta, dict) else None
        except _Skip:
            updated = None
        key = (kind, str(record["id"]))
        old = self.seen.get(key)
        if old is not None:
            _, old_table, old_rows, old_updated = old
            if updated is not None and old_updated is not None and updated < old_updated:
                return where  # the copy just read is the older one
            self.dropped.setdefault(old_table, set()).update(old_rows)
        self.seen[key] = (where, table, rows, updated)
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


class _Stays:
    """Stays read but not kept, and where each vital sign was read, to drop the orphaned.

    A vital sign of a stay whose Encounter was read and skipped (entered-in-error,
    cancelled, no start, a patient not found ...) belongs to no stay of the
    table. One of a stay the files do not hold at all (Observations read on
    their own) is kept: its Encounter may come in another read.
    """

    def __init__(self) -> None:
        self.skipped: set[str] = set()
        self.vitals: list[tuple[range, tuple[str, int]]] = []

    def skip(self, record: Any) -> None:
        """Note the id of an Encounter record that was not used."""
        if not isinstance(record, dict) or record.get("resourceType") != "Encounter":
            return
        if isinstance(record.get("id"), str):
            self.skipped.add(record["id"])

    def orphans(
        self, rows: dict[str, list[tuple[Any, ...]]], dropped: dict[str, set[int]]
    ) -> Iterator[tuple[str, int]]:
        """Drop the vital-sign rows of stays not kept; yield where each record was read."""
        gone = dropped.get("encounters", set())
        kept = {row[0] for i, row in enumerate(rows["encounters"]) if i not in gone}
        lost = (self.skipped | {row[0] for row in rows["encounters"]}) - kept
        if not lost:
            return
        dropped_vitals = dropped.setdefault("vitals", set())
        for span, where in self.vitals:
            if span.start in dropped_vitals:
                continue  # a copy read again, or a patient not found (already counted)
            if rows["vitals"][span.start][0] in lost:
                dropped_vitals.update(span)
                yield where


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
    procedures, refuted diagnoses), are skipped and counted, and so are the
    vital signs of a stay whose Encounter was read but not kept. A file may also
    hold one JSON document: a Bundle (as Synthea writes) or an array of
    resources; its entries are numbered instead of its lines. A patient named
    by an identifier (a logical or conditional reference) is matched, once
    every file is read, to the one Patient carrying that identifier. A
    Patient, Encounter, Observation, Condition or Procedure read twice (same
    id, e.g. in a Bundle and in the NDJSON of one export) keeps one copy: the
    one with the later ``meta.lastUpdated``, else the last read. A gzip file
    cut short keeps the lines before the break, and the break is counted.

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
        mode on a malformed line or a gzip file cut short; the message names
        the file and the line number.

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
    tally, copies, identifiers, stays = _Tally(), _Copies(), _Identifiers(), _Stays()
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
                stays.skip(record)
                continue
            where = (name, number)
            span = range(len(rows[table]), len(rows[table]) + len(new_rows))
            if kind in _KEYED and record.get("id"):
                stale = copies.add(kind, record, where, table, span)
                if stale is not None:
                    tally.skip(*stale, "duplicate_id")
                    if stale == where:
                        continue
                    tally.used[kind] -= 1
            if kind == "Patient":
                identifiers.add_patient(record)
            elif isinstance(new_rows[0][1], _PatientIdentifier):
                identifiers.pending.append((kind, table, span.start, span.stop, where))
            if kind == "Observation":
                stays.vitals.append((span, where))
            rows[table].extend(new_rows)
            tally.used[kind] += 1
    for kind, (name, number) in identifiers.resolve(rows, copies.dropped):
        if strict:
            message = FHIR_ENTRY_MSG if numbering[name] == "entry" else FHIR_LINE_MSG
            why = REASONS["subject_by_identifier"]
            raise DataError(message.format(file=name, line=number, problem=why))
        tally.used[kind] -= 1
        tally.skip(name, number, "subject_by_identifier")
    for name, number in stays.orphans(rows, copies.dropped):
        tally.used["Observation"] -= 1
        tally.skip(name, number, "stay_not_kept")
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
