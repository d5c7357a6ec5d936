"""Clinical labels (English and Danish, with units) of generated feature names.

A model card must say "Heart rate, slope over the last 6 h (/min per hour)", not
``heart_rate_6h_slope``. A pipeline gives its own columns labels; the columns
that :func:`clinai.data.window_features` generates follow one pattern
(``<parameter>_last``, ``<parameter>_hours_since_last``,
``<parameter>_<window>_<statistic>`` and ``<parameter>__h<k>`` hourly means), so
:func:`window_feature_labels` labels them for every pipeline at once.

A label is ``{"en": text, "da": text, "unit": unit}`` where ``unit`` (optional)
is a text used in every language or a mapping ``{"en": ..., "da": ...}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "SEX_MALE_1_FEMALE_0",
    "UNIT_HOURS",
    "UNIT_YEARS",
    "VITAL_SIGN_LABELS",
    "window_feature_labels",
]

#: Units that pipelines' labels share (``"unit": UNIT_YEARS``); labels are copied on use.
UNIT_HOURS: dict[str, str] = {"en": "h", "da": "t"}
UNIT_YEARS: dict[str, str] = {"en": "years", "da": "år"}
#: The label of a sex column coded 1 for male and 0 for female, the coding shown to the reader.
SEX_MALE_1_FEMALE_0: dict[str, str] = {
    "en": "Male sex (1 male, 0 female)",
    "da": "Mandligt køn (1 mand, 0 kvinde)",
}

#: Name of each canonical vital sign (:data:`clinai.data.CANONICAL_PARAMETERS`) at the
#: start of a label and inside a sentence, in English and Danish, and its unit.
VITAL_SIGN_LABELS: dict[str, dict[str, Any]] = {
    "heart_rate": {
        "en": ("Heart rate", "heart rate"),
        "da": ("Puls", "puls"),
        "unit": "/min",
    },
    "sbp": {
        "en": ("Systolic blood pressure", "systolic blood pressure"),
        "da": ("Systolisk blodtryk", "systolisk blodtryk"),
        "unit": "mmHg",
    },
    "dbp": {
        "en": ("Diastolic blood pressure", "diastolic blood pressure"),
        "da": ("Diastolisk blodtryk", "diastolisk blodtryk"),
        "unit": "mmHg",
    },
    "resp_rate": {
        "en": ("Respiratory rate", "respiratory rate"),
        "da": ("Respirationsfrekvens", "respirationsfrekvens"),
        "unit": "/min",
    },
    "spo2": {
        "en": ("Oxygen saturation (SpO2)", "oxygen saturation (SpO2)"),
        "da": ("Iltmætning (SpO2)", "iltmætning (SpO2)"),
        "unit": "%",
    },
    "temperature": {
        "en": ("Temperature", "temperature"),
        "da": ("Temperatur", "temperatur"),
        "unit": "°C",
    },
    "consciousness": {
        "en": ("Level of consciousness (ACVPU)", "level of consciousness (ACVPU)"),
        "da": ("Bevidsthedsniveau (ACVPU)", "bevidsthedsniveau (ACVPU)"),
        "unit": {"en": "0 alert to 4 unresponsive", "da": "0 vågen til 4 ikke-reagerende"},
    },
    "gcs": {
        "en": ("Glasgow Coma Scale", "Glasgow Coma Scale"),
        "da": ("Glasgow Coma Scale", "Glasgow Coma Scale"),
        "unit": {"en": "score 3-15", "da": "point 3-15"},
    },
    "supplemental_oxygen": {
        "en": ("Supplemental oxygen", "supplemental oxygen"),
        "da": ("Ilttilskud", "ilttilskud"),
        "unit": {"en": "1 on oxygen, 0 on air", "da": "1 med ilt, 0 uden"},
    },
}

_WINDOW = re.compile(r"^(\d+)(min|h|d)$")
_WINDOW_UNITS = {"min": ("min", "min"), "h": ("h", "t"), "d": ("d", "d")}
_PER_HOUR = {"en": "per hour", "da": "pr. time"}

# (English, Danish) templates; {P} the parameter at the start, {p} inside a sentence, {w} window
_STATISTICS = {
    "count": ("{P}, number of measurements in the last {w}", "{P}, antal målinger de seneste {w}"),
    "mean": ("{P}, mean over the last {w}", "{P}, gennemsnit de seneste {w}"),
    "min": ("{P}, lowest in the last {w}", "{P}, laveste de seneste {w}"),
    "max": ("{P}, highest in the last {w}", "{P}, højeste de seneste {w}"),
    "slope": ("{P}, slope over the last {w}", "{P}, hældning de seneste {w}"),
}


def _unit(unit: Any, language: str) -> str | None:
    if isinstance(unit, Mapping):
        return unit.get(language)
    return unit


def _window_text(window: str, language: str) -> str | None:
    match = _WINDOW.match(window)
    if match is None:
        return None
    english, danish = _WINDOW_UNITS[match.group(2)]
    return f"{match.group(1)} {english if language == 'en' else danish}"


def _label(parameter: str, rest: str, names: Mapping[str, Any]) -> dict[str, Any] | None:
    """Label of the column ``<parameter>_<rest>`` (or ``<parameter>__h<k>``), None if unknown."""
    entry = names[parameter]
    texts: dict[str, str] = {}
    units: dict[str, str | None] = {}
    for language, statistic_index in (("en", 0), ("da", 1)):
        start, inside = entry[language]
        unit = _unit(entry.get("unit"), language)
        if rest == "_last":
            texts[language] = (
                f"{start}, last value" if language == "en" else f"{start}, seneste værdi"
            )
            units[language] = unit
        elif rest == "_hours_since_last":
            texts[language] = (
                f"Time since last {inside} measurement"
                if language == "en"
                else f"Tid siden seneste måling af {inside}"
            )
            units[language] = UNIT_HOURS[language]
        elif (hour := re.fullmatch(r"__h(\d+)", rest)) is not None:
            k = int(hour.group(1)) + 1  # h0 is the hour ending at the prediction time
            texts[language] = (
                f"{start}, mean in hour {k} before the prediction"
                if language == "en"
                else f"{start}, gennemsnit i time {k} før forudsigelsen"
            )
            units[language] = unit
        else:
            match = re.fullmatch(r"_([0-9a-z]+)_([a-z]+)", rest)
            if match is None or match.group(2) not in _STATISTICS:
                return None
            window = _window_text(match.group(1), language)
            if window is None:
                return None
            statistic = match.group(2)
            template = _STATISTICS[statistic][statistic_index]
            texts[language] = template.format(P=start, p=inside, w=window)
            if statistic == "count":
                units[language] = None
            elif statistic == "slope":
                per_hour = _PER_HOUR[language]
                units[language] = (
                    f"{unit} {per_hour}"
                    if unit and unit.startswith("/")
                    else (f"{unit}, {per_hour}" if unit else per_hour)
                )
            else:
                units[language] = unit
    label: dict[str, Any] = dict(texts)
    if any(units.values()):
        label["unit"] = {language: value for language, value in units.items() if value}
    return label


def window_feature_labels(
    columns: Iterable[str], *, parameters: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Label the window-feature columns among ``columns`` in English and Danish.

    Recognised names (``<p>`` a parameter of ``parameters``, ``<w>`` a window such
    as ``6h`` or ``30min``): ``<p>_last``, ``<p>_hours_since_last``,
    ``<p>_<w>_count|mean|min|max|slope`` and the hourly means ``<p>__h<k>``.
    Other columns are left out (the caller labels them, or they keep their name).

    Parameters
    ----------
    columns : iterable of str
        Feature column names.
    parameters : mapping, optional
        ``{parameter: {"en": (start, inside), "da": (start, inside), "unit": ...}}``;
        default :data:`VITAL_SIGN_LABELS`.

    Returns
    -------
    dict of str to dict
        ``{column: {"en": ..., "da": ..., "unit": {"en": ..., "da": ...}}}``; ``unit``
        is absent for a count.

    Examples
    --------
    >>> labels = window_feature_labels(["heart_rate_6h_slope", "age"])
    >>> labels["heart_rate_6h_slope"]["en"], labels["heart_rate_6h_slope"]["unit"]["en"]
    ('Heart rate, slope over the last 6 h', '/min per hour')
    >>> labels["heart_rate_6h_slope"]["da"], labels["heart_rate_6h_slope"]["unit"]["da"]
    ('Puls, hældning de seneste 6 t', '/min pr. time')
    >>> list(labels)
    ['heart_rate_6h_slope']
    """
    names = VITAL_SIGN_LABELS if parameters is None else parameters
    # longest first: "resp_rate" must not be read as a parameter "resp" (none is a prefix today)
    ordered = sorted(names, key=len, reverse=True)
    out: dict[str, dict[str, Any]] = {}
    for column in columns:
        text = str(column)
        for parameter in ordered:
            if text.startswith(parameter + "_"):
                label = _label(parameter, text[len(parameter) :], names)
                if label is not None:
                    out[text] = label
                break
    return out
