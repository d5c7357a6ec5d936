"""LOINC codes of the vital signs clinai reads from FHIR, and their units.

Which LOINC codes are vital signs and which clinai parameter each one fills, the
ACVPU words of the consciousness level, the UCUM unit of each parameter with the
units converted to it (and the conversions), and :func:`_value`, which reads an
Observation's (or a component's) value in that unit. A value in any other unit,
or without a unit where it could be in two, is skipped with a reason, never
guessed; the tables sit together so a new code or unit is one edit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clinai.data._fhir_report import _Skip

__all__ = ["LOINC_SYSTEM", "LOINC_VITALS"]

LOINC_SYSTEM = "http://loinc.org"
#: How systems spell LOINC's code system: the FHIR URI (with or without a final
#: slash or https) and LOINC's HL7 OID, which HL7 v2/CDA-based exports carry over.
_LOINC_SYSTEMS = frozenset(
    {LOINC_SYSTEM, "http://loinc.org/", "https://loinc.org", "urn:oid:2.16.840.1.113883.6.1"}
)

#: LOINC code -> canonical vital-sign parameter (names of clinai's vitals table).
#: The codes of the FHIR R4 vital-signs profile, and the LOINC codes that name the
#: same measurement at a body site, by a method or in a position (LOINC display
#: in each comment), as hospitals code what the device or the chart says.
LOINC_VITALS: dict[str, str] = {
    "8867-4": "heart_rate",  # Heart rate
    # the pulse counts the beats felt or sensed at an artery: the heart rate that
    # scores (NEWS2 "pulse") take, though lower in atrial fibrillation (pulse deficit)
    "8889-8": "heart_rate",  # Heart rate by Pulse oximetry
    "8893-0": "heart_rate",  # Heart rate Peripheral artery by Palpation
    "9279-1": "resp_rate",  # Respiratory rate
    # not read: ventilator breath rates (33438-3 Breath rate mechanical --on
    # ventilator, 19839-0 Breath rate spontaneous --on ventilator) are set by, or
    # are only part of, a machine's rate, not the patient's own breathing rate
    "2708-6": "spo2",  # Oxygen saturation in Arterial blood
    "59408-5": "spo2",  # Oxygen saturation in Arterial blood by Pulse oximetry
    "8480-6": "sbp",  # Systolic blood pressure
    "8459-0": "sbp",  # Systolic blood pressure--sitting
    "8460-8": "sbp",  # Systolic blood pressure--standing
    "8461-6": "sbp",  # Systolic blood pressure--supine
    "8462-4": "dbp",  # Diastolic blood pressure
    "8453-3": "dbp",  # Diastolic blood pressure--sitting
    "8454-1": "dbp",  # Diastolic blood pressure--standing
    "8455-8": "dbp",  # Diastolic blood pressure--supine
    # (not read: 8478-0 Mean blood pressure, another quantity)
    "8310-5": "temperature",  # Body temperature
    # the sites used to measure body temperature; peripheral ones (axilla, ear,
    # forehead) read a few tenths of a degree below core, and scores (NEWS2) take
    # the value as measured at any of them
    "8329-5": "temperature",  # Body temperature - Core
    "8331-1": "temperature",  # Oral temperature
    "8332-9": "temperature",  # Rectal temperature
    "8333-7": "temperature",  # Tympanic membrane temperature
    "8328-7": "temperature",  # Axillary temperature
    "75539-7": "temperature",  # Body temperature - Temporal artery
    # not read: 39106-0 Temperature of Skin and 61008-9 Body surface temperature
    # follow the room and the skin's blood flow, not the body's temperature
    "9269-2": "gcs",  # Glasgow coma score total
    "67775-7": "consciousness",  # Level of responsiveness (AVPU)
    "3151-8": "supplemental_oxygen",  # Inhaled oxygen flow rate
    "3150-0": "supplemental_oxygen",  # Inhaled oxygen concentration (FiO2)
}
#: Panels whose values sit in components (blood pressure; the vital-signs panel).
LOINC_PANELS = frozenset({"85354-9", "85353-1"})
_FLOW, _FIO2 = "3151-8", "3150-0"
#: ACVPU codes of clinai's ``consciousness`` parameter (0 alert ... 4 unresponsive).
_ACVPU = {"a": 0, "c": 1, "v": 2, "p": 3, "u": 4}
_ACVPU_WORDS = {"alert": 0, "confusion": 1, "new confusion": 1, "confused": 1, "voice": 2}
_ACVPU_WORDS |= {"pain": 3, "unresponsive": 4}


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
