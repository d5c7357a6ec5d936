"""One FHIR resource (Patient, Encounter, Observation, Condition, Procedure) into rows.

:func:`_read_record` takes one parsed JSON record and returns its resource type,
its table and its rows, or raises ``_Skip`` with the reason it is not used
(a missing id, subject or time, a status saying it did not take place, a code
that is not a vital sign ...). Reading references, codings and FHIR times is
here too. Each record is read on its own: what spans records (copies of one
resource, patients named by identifiers) is left to :mod:`clinai.data._fhir`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from clinai.data._fhir_report import _Skip
from clinai.data._fhir_units import _LOINC_SYSTEMS, LOINC_VITALS, _value

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
