"""Read vital signs (long or wide CSV/Parquet) into clinai's canonical long table.

The canonical table has one row per measurement, sorted by stay and time:

``stay_id`` (as read), ``time`` (``datetime64``, naive; UTC when the source
carried a zone), ``parameter`` (one of :data:`CANONICAL_PARAMETERS`) and ``value``
(float, canonical unit).

Every value that is dropped or changed is counted per parameter and rule in a
:class:`VitalsCleaningReport`; nothing is dropped silently. The report holds
counts only, never a stay identifier, so it may be logged or rendered.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from clinai.data._io import read_table
from clinai.data._news2 import ACVPU_CODES
from clinai.exceptions import DataError

__all__ = [
    "CANONICAL_PARAMETERS",
    "CANONICAL_UNITS",
    "PARAMETER_ALIASES",
    "PLAUSIBLE_RANGES",
    "VitalsCleaningReport",
    "clean_vitals",
    "read_vitals",
]

logger = logging.getLogger(__name__)

#: The canonical parameters and their units. ``consciousness`` is ACVPU coded
#: 0 alert, 1 new confusion, 2 voice, 3 pain, 4 unresponsive; ``gcs`` is the
#: Glasgow Coma Scale total; ``supplemental_oxygen`` is 1 on oxygen, 0 on air.
CANONICAL_UNITS: dict[str, str] = {
    "heart_rate": "/min",
    "sbp": "mmHg",
    "dbp": "mmHg",
    "resp_rate": "/min",
    "spo2": "%",
    "temperature": "degC",
    "consciousness": "ACVPU code 0-4",
    "gcs": "score 3-15",
    "supplemental_oxygen": "0/1",
}
CANONICAL_PARAMETERS: tuple[str, ...] = tuple(CANONICAL_UNITS)

#: Other names for each canonical parameter, LOINC vital-sign codes included, as
#: matched: lower-cased, runs of spaces, hyphens and other signs as one underscore, none
#: at the ends (so "SpO2 %" is "spo2").
PARAMETER_ALIASES: dict[str, str] = {
    **{name: "heart_rate" for name in ("hr", "pulse", "pulse_rate", "heartrate", "8867_4")},
    **{
        name: "sbp"
        for name in ("systolic", "systolic_bp", "nibp_sys", "abp_sys", "sys_bp", "8480_6")
    },
    **{
        name: "dbp"
        for name in ("diastolic", "diastolic_bp", "nibp_dia", "abp_dia", "dia_bp", "8462_4")
    },
    **{
        name: "resp_rate"
        for name in ("rr", "respiratory_rate", "respiration_rate", "resp", "9279_1")
    },
    **{
        name: "spo2"
        for name in ("sao2", "sp_o2", "o2_sat", "o2sat", "oxygen_saturation", "59408_5", "2708_6")
    },
    **{name: "temperature" for name in ("temp", "body_temperature", "8310_5")},
    **{name: "consciousness" for name in ("acvpu", "avpu", "level_of_consciousness")},
    **{name: "gcs" for name in ("glasgow_coma_scale", "gcs_total", "9269_2")},
    **{
        name: "supplemental_oxygen"
        for name in ("oxygen", "o2", "on_oxygen", "o2_flow", "oxygen_flow", "air_or_oxygen")
    },
}

#: Plausibility ranges (inclusive, canonical units); a value outside is dropped
#: as rule ``implausible``. Wide enough to keep every real extreme a ward or ICU
#: records, narrow enough to catch unit mix-ups and device codes.
PLAUSIBLE_RANGES: dict[str, tuple[float, float]] = {
    # below 20/min is agonal or asystole (an event, not a vital sign); above 300/min
    # exceeds atrioventricular conduction except in pre-excited AF, so it is artefact
    "heart_rate": (20.0, 300.0),
    # oscillometric cuffs measure about 40-280 mmHg (IEC 80601-2-30 validation ranges);
    # arterial lines read up to 300
    "sbp": (40.0, 300.0),
    "dbp": (10.0, 200.0),
    # 2/min is near-apnoea still charted; above 80/min no adult sustains
    "resp_rate": (2.0, 80.0),
    # saturation cannot exceed 100 %; oximeters are calibrated down to ~70 % and
    # values below 30 % are probe-off or device codes
    "spo2": (30.0, 100.0),
    # 25 degC: below this is probe error on a ward (deep accidental hypothermia is
    # rarer than sensor faults); above 45 degC is incompatible with life
    "temperature": (25.0, 45.0),
    # definitions of the scales
    "gcs": (3.0, 15.0),
    "consciousness": (0.0, 4.0),
    "supplemental_oxygen": (0.0, 1.0),
}

# SpO2 below this while the heart rate at the same time is in _CALM_HEART_RATE is a
# probe artefact: profound hypoxaemia causes bradycardia or arrest within minutes.
SPO2_ARTEFACT_BELOW = 50.0
_CALM_HEART_RATE = (50.0, 120.0)

_Conversion = tuple[str, Callable[[np.ndarray], np.ndarray]]


_PER_MINUTE = ("/min", "1/min", "min-1", "bpm", "per min", "{beats}/min", "beats/min")
_KPA_TO_MMHG: _Conversion = ("kpa_to_mmhg", lambda v: v * 7.500617)
_FRACTION: _Conversion = ("fraction_to_percent", lambda v: v * 100.0)
_FAHRENHEIT: _Conversion = ("degf_to_degc", lambda v: (v - 32.0) * 5.0 / 9.0)
_FLOW: _Conversion = ("flow_to_flag", lambda v: (v > 0).astype(float))
_BP = {"mmhg": None, "mm[hg]": None, "mm hg": None, "kpa": _KPA_TO_MMHG}

# Accepted units per parameter (lower-cased); None means already canonical.
# An empty or missing unit means the canonical unit.
_UNITS: dict[str, dict[str, _Conversion | None]] = {
    "heart_rate": dict.fromkeys(_PER_MINUTE),
    "resp_rate": dict.fromkeys((*_PER_MINUTE, "breaths/min", "{breaths}/min", "rpm")),
    "sbp": _BP,
    "dbp": _BP,
    "spo2": {"%": None, "percent": None, "fraction": _FRACTION, "1": _FRACTION, "ratio": _FRACTION},
    "temperature": {
        **dict.fromkeys(("degc", "cel", "c", "°c", "celsius", "[degc]")),
        **dict.fromkeys(("degf", "[degf]", "f", "°f", "fahrenheit"), _FAHRENHEIT),
    },
    "consciousness": dict.fromkeys(("acvpu", "avpu", "code", "{acvpu}")),
    "gcs": dict.fromkeys(("score", "{score}", "points")),
    "supplemental_oxygen": {
        **dict.fromkeys(("flag", "0/1", "bool", "{flag}")),
        **dict.fromkeys(("l/min", "l/min_", "lpm"), _FLOW),
    },
}

_TEXT_LEVELS = {
    **{letter.lower(): code for letter, code in ACVPU_CODES.items()},
    "alert": 0,
    "confusion": 1,
    "confused": 1,
    "new confusion": 1,
    "voice": 2,
    "pain": 3,
    "unresponsive": 4,
}
_TEXT_OXYGEN = {"yes": 1, "no": 0, "true": 1, "false": 0, "oxygen": 1, "air": 0, "o2": 1}
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)

NO_COLUMN = (
    "vitals file '{source}' has no {what} column '{column}': name it with {option}= "
    "(columns found: {found})"
)
BAD_FORMAT = "read_vitals: format must be 'auto', 'long' or 'wide', got {value!r}"
BAD_TIME = (
    "vitals file '{source}', column '{column}': data row {row} has time {value!r}, which is "
    "not a date-time: use ISO 8601 such as 2024-01-31T14:05:00"
)
MIXED_ZONES = (
    "vitals file '{source}', column '{column}': times mix time zones ({examples}): "
    "give every time the same zone or offset, or none"
)
OUT_OF_ORDER = (
    "vitals file '{source}', column '{column}': times go backwards within a stay at data row "
    "{row}: sort the file by stay and time, or pass sort=True; local clock times without an "
    "offset repeat an hour when summer time ends, so export them with their UTC offset "
    "(02:30+02:00, then 02:30+01:00)"
)
UNKNOWN_PARAMETER = (
    "vitals file '{source}', column '{column}': unknown parameter {name!r}: use one of "
    "{known}, pass aliases={{{name!r}: <canonical name>}}, or unknown_parameters='drop'"
)
UNKNOWN_UNIT = (
    "vitals file '{source}', column '{column}': unknown unit {unit!r} for {parameter}: "
    "use one of {accepted} (canonical: {canonical})"
)
BAD_ALIAS = "read_vitals: alias {alias!r} maps to {target!r}, which is not a canonical parameter"
BAD_UNKNOWN_MODE = "read_vitals: unknown_parameters must be 'error' or 'drop', got {value!r}"
NO_VALUES = "vitals file '{source}' has no vital-sign values after reading: check the columns"


@dataclass(frozen=True)
class VitalsCleaningReport:
    """What reading and cleaning did to the values of one vitals source.

    ``values_in`` counts the measurements read (long rows; non-empty cells in
    wide files), ``values_out`` those kept; ``values_in - values_out`` equals
    the sum of ``dropped``. A changed value (a unit converted) is kept and
    counted in ``changed``.

    Attributes
    ----------
    source : str
        The file name (or a label for an in-memory frame).
    format : str
        ``"long"`` or ``"wide"``.
    values_in, values_out : int
        Measurements read and kept.
    stays : int
        Stays with at least one value kept.
    dropped : tuple of (parameter, rule, count)
        Values removed, per parameter and rule. Rules: ``missing_value``,
        ``missing_stay``, ``missing_time``, ``not_a_value`` (text that is not a
        number or level), ``unknown_parameter``, ``implausible`` (outside
        :data:`PLAUSIBLE_RANGES`), ``duplicate`` (same stay, time and parameter:
        the first is kept), ``spo2_artefact`` (SpO2 below 50 % while the heart
        rate at the same time is 50-120/min), ``sbp_not_above_dbp`` (both
        values of the pair).
    changed : tuple of (parameter, rule, count)
        Values converted: ``kpa_to_mmhg``, ``fraction_to_percent``,
        ``degf_to_degc``, ``flow_to_flag``, ``text_to_code``, ``to_utc``.
    """

    source: str
    format: str
    values_in: int
    values_out: int
    stays: int
    dropped: tuple[tuple[str, str, int], ...]
    changed: tuple[tuple[str, str, int], ...]

    def n_dropped(self, parameter: str | None = None, rule: str | None = None) -> int:
        """Count dropped values, optionally for one parameter and/or rule."""
        return _total(self.dropped, parameter, rule)

    def n_changed(self, parameter: str | None = None, rule: str | None = None) -> int:
        """Count changed values, optionally for one parameter and/or rule."""
        return _total(self.changed, parameter, rule)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON-ready data (nested ``{parameter: {rule: n}}``)."""

        def nest(rows: tuple[tuple[str, str, int], ...]) -> dict[str, dict[str, int]]:
            out: dict[str, dict[str, int]] = {}
            for parameter, rule, count in rows:
                out.setdefault(parameter, {})[rule] = count
            return out

        return {
            "source": self.source,
            "format": self.format,
            "values_in": self.values_in,
            "values_out": self.values_out,
            "stays": self.stays,
            "dropped": nest(self.dropped),
            "changed": nest(self.changed),
        }


def _total(rows: tuple[tuple[str, str, int], ...], parameter: str | None, rule: str | None) -> int:
    return sum(
        count
        for p, r, count in rows
        if (parameter is None or p == parameter) and (rule is None or r == rule)
    )


class _Tally:
    """Counts per (parameter, rule); the only way cleaning removes or changes values."""

    def __init__(self) -> None:
        self.dropped: Counter[tuple[str, str]] = Counter()
        self.changed: Counter[tuple[str, str]] = Counter()

    def drop(self, frame: pd.DataFrame, mask: np.ndarray | pd.Series, rule: str) -> pd.DataFrame:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            for parameter, count in frame.loc[mask, "parameter"].value_counts().items():
                self.dropped[(str(parameter), rule)] += int(count)
        return frame.loc[~mask]

    def change(self, parameter: str, rule: str, count: int) -> None:
        if count:
            self.changed[(parameter, rule)] += count

    @staticmethod
    def rows(counter: Counter[tuple[str, str]]) -> tuple[tuple[str, str, int], ...]:
        return tuple((p, r, n) for (p, r), n in sorted(counter.items()))


def _key(name: object) -> str:
    # runs of spaces, hyphens and signs become one underscore, and signs at the ends go:
    # monitors label "SpO2 %", "SpO2 (%)" or "NIBP - sys"
    return re.sub(r"[\W_]+", "_", str(name).strip().lower()).strip("_")


def _resolver(aliases: Mapping[str, str] | None) -> dict[str, str]:
    table = {name: name for name in CANONICAL_PARAMETERS} | dict(PARAMETER_ALIASES)
    for alias, target in (aliases or {}).items():
        if target not in CANONICAL_UNITS:
            raise DataError(BAD_ALIAS.format(alias=alias, target=target))
        table[_key(alias)] = target
    return table


class TimesNotParsed(Exception):
    """Times that cannot be read as instants: ``mixed`` zones or a ``bad`` value.

    ``row`` is the 1-based data row of the first bad value; ``examples`` holds one time
    with and one without a zone (``mixed``) or the bad value (``bad``).
    """

    def __init__(self, kind: str, row: int, examples: list[str]) -> None:
        super().__init__(kind)
        self.kind, self.row, self.examples = kind, row, examples


def to_naive_utc(values: pd.Series) -> tuple[pd.Series, int]:
    """Parse times (ISO 8601 text or datetimes) to naive UTC; return them and the offsets seen.

    Text with a zone or offset is converted to UTC (each row from its own offset, so
    summer and winter times are exact instants); text without one is kept as written.
    Missing values stay missing. Raises :class:`TimesNotParsed` for text that mixes
    zoned and unzoned times, or that is not an ISO 8601 date-time (numbers included).
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None), 1
    if pd.api.types.is_datetime64_any_dtype(values):
        return values, 0
    text = values.astype("string").str.strip()
    present = text.notna()
    offsets = text[present].str.extract(_OFFSET, expand=False)
    has_zone = offsets.notna()
    if has_zone.any() and not has_zone.all():
        first = int(np.flatnonzero(present.to_numpy())[0]) + 1
        examples = [text[present][has_zone].iloc[0], text[present][~has_zone].iloc[0]]
        raise TimesNotParsed("mixed", first, examples)
    parsed = pd.to_datetime(text, errors="coerce", utc=bool(has_zone.any()), format="ISO8601")
    bad = present & parsed.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise TimesNotParsed("bad", row, [str(text[bad].iloc[0])])
    if has_zone.any():
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed, int(offsets.nunique())


def _parse_times(values: pd.Series, source: str, column: str, tally: _Tally) -> pd.Series:
    try:
        parsed, n_offsets = to_naive_utc(values)
    except TimesNotParsed as exc:
        if exc.kind == "mixed":
            raise DataError(
                MIXED_ZONES.format(source=source, column=column, examples=exc.examples)
            ) from None
        raise DataError(
            BAD_TIME.format(source=source, column=column, row=exc.row, value=exc.examples[0])
        ) from None
    if n_offsets > 1 and not isinstance(values.dtype, pd.DatetimeTZDtype):
        # different offsets are still exact instants (e.g. summer time): count them
        tally.change("*", "to_utc", int(values.notna().sum()))
    return parsed


def _check_order(frame: pd.DataFrame, source: str, column: str) -> None:
    # file order (the data row) within each stay
    order = np.lexsort((frame["_row"].to_numpy(), pd.factorize(frame["stay_id"])[0]))
    stays = pd.factorize(frame["stay_id"])[0][order]
    times = frame["time"].to_numpy()[order]
    backwards = (stays[1:] == stays[:-1]) & (times[1:] < times[:-1])
    if backwards.any():
        row = int(frame["_row"].to_numpy()[order][1:][backwards].min())
        raise DataError(OUT_OF_ORDER.format(source=source, column=column, row=row))


def _to_numbers(frame: pd.DataFrame, tally: _Tally) -> pd.DataFrame:
    raw = frame["value"]
    numeric = pd.to_numeric(raw, errors="coerce")
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        text = raw.astype("string").str.strip().str.lower()
        needs_text = numeric.isna() & raw.notna()
        for parameter, table in (
            ("consciousness", _TEXT_LEVELS),
            ("supplemental_oxygen", _TEXT_OXYGEN),
        ):
            mask = needs_text & (frame["parameter"] == parameter) & text.isin(list(table))
            if mask.any():
                codes = pd.to_numeric(text.map(table), errors="coerce")
                numeric = numeric.where(~mask, codes)
                tally.change(parameter, "text_to_code", int(mask.sum()))
    frame = frame.assign(value=numeric.astype(float))
    frame = tally.drop(frame, raw.isna().to_numpy(), "missing_value")
    return tally.drop(frame, frame["value"].isna().to_numpy(), "not_a_value")


def _convert_units(
    frame: pd.DataFrame, units: pd.Series | None, source: str, column: str, tally: _Tally
) -> pd.DataFrame:
    if units is None:
        return frame
    unit_key = units.loc[frame.index].astype("string").str.strip().str.lower().fillna("")
    values = frame["value"].to_numpy().copy()
    groups = frame.groupby([frame["parameter"], unit_key]).groups
    for key, index in groups.items():
        parameter, unit = str(key[0]), str(key[1])  # type: ignore[index]
        if unit == "":
            continue
        accepted = _UNITS[parameter]
        if unit not in accepted:
            raise DataError(
                UNKNOWN_UNIT.format(
                    source=source,
                    column=column,
                    unit=units.loc[index[0]],
                    parameter=parameter,
                    accepted=sorted(accepted),
                    canonical=CANONICAL_UNITS[parameter],
                )
            )
        conversion = accepted[unit]
        if conversion is not None:
            rule, convert = conversion
            where = frame.index.get_indexer(index)
            values[where] = convert(values[where])
            tally.change(parameter, rule, len(where))
    return frame.assign(value=values)


def _apply_rules(frame: pd.DataFrame, tally: _Tally) -> pd.DataFrame:
    lows = {name: bounds[0] for name, bounds in PLAUSIBLE_RANGES.items()}
    highs = {name: bounds[1] for name, bounds in PLAUSIBLE_RANGES.items()}
    low = frame["parameter"].map(lows).to_numpy(dtype=float)
    high = frame["parameter"].map(highs).to_numpy(dtype=float)
    values = frame["value"].to_numpy()
    frame = tally.drop(frame, (values < low) | (values > high), "implausible")
    gcs = (frame["parameter"] == "gcs") & (frame["value"] % 1 != 0)
    frame = tally.drop(frame, gcs.to_numpy(), "not_a_value")
    duplicate = frame.duplicated(["stay_id", "time", "parameter"], keep="first")
    frame = tally.drop(frame, duplicate.to_numpy(), "duplicate")

    keys = ["stay_id", "time"]
    spo2 = frame.loc[frame["parameter"] == "spo2", [*keys, "value"]]
    heart = frame.loc[frame["parameter"] == "heart_rate", [*keys, "value"]]
    paired = spo2.reset_index().merge(heart, on=keys, suffixes=("", "_hr"))
    artefact = paired.loc[
        (paired["value"] < SPO2_ARTEFACT_BELOW) & paired["value_hr"].between(*_CALM_HEART_RATE),
        "index",
    ]
    frame = tally.drop(frame, frame.index.isin(artefact), "spo2_artefact")

    sbp = frame.loc[frame["parameter"] == "sbp", [*keys, "value"]].reset_index()
    dbp = frame.loc[frame["parameter"] == "dbp", [*keys, "value"]].reset_index()
    pair = sbp.merge(dbp, on=keys, suffixes=("", "_dbp"))
    bad = pair.loc[pair["value"] <= pair["value_dbp"]]
    removed = np.concatenate([bad["index"].to_numpy(), bad["index_dbp"].to_numpy()])
    return tally.drop(frame, frame.index.isin(removed), "sbp_not_above_dbp")


def _long_from_wide(
    frame: pd.DataFrame,
    *,
    stay_column: str,
    time_column: str,
    resolve: Mapping[str, str],
    units: Mapping[str, str] | None,
    unknown_parameters: str,
    source: str,
    tally: _Tally,
) -> tuple[pd.DataFrame, pd.Series | None, int]:
    value_columns = [c for c in frame.columns if c not in (stay_column, time_column, "_row")]
    known: list[tuple[str, str]] = []
    unknown_values = 0
    for column in value_columns:
        if str(column).lower() == "synthetic":
            continue  # the label column of clinai's synthetic data
        canonical = resolve.get(_key(column))
        if canonical is None:
            if unknown_parameters == "error":
                raise DataError(
                    UNKNOWN_PARAMETER.format(
                        source=source,
                        column=column,
                        name=column,
                        known=list(CANONICAL_PARAMETERS),
                    )
                )
            count = int(frame[column].notna().sum())
            tally.dropped[(str(column), "unknown_parameter")] += count
            unknown_values += count
            continue
        known.append((column, canonical))
    parts = []
    for column, canonical in known:
        present = frame[column].notna()
        parts.append(
            pd.DataFrame(
                {
                    "stay_id": frame.loc[present, stay_column],
                    "time": frame.loc[present, time_column],
                    "parameter": canonical,
                    "value": frame.loc[present, column],
                    "_row": frame.loc[present, "_row"],
                }
            )
        )
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    unit_series = None
    if units:
        by_parameter = {resolve.get(_key(k), k): v for k, v in units.items()}
        unit_series = long["parameter"].map(by_parameter)
    return long, unit_series, unknown_values


def clean_vitals(
    frame: pd.DataFrame,
    *,
    source: str = "<frame>",
    format: Literal["auto", "long", "wide"] = "auto",
    stay_column: str = "stay_id",
    time_column: str = "time",
    parameter_column: str = "parameter",
    value_column: str = "value",
    unit_column: str | None = "unit",
    units: Mapping[str, str] | None = None,
    aliases: Mapping[str, str] | None = None,
    unknown_parameters: Literal["error", "drop"] = "error",
    sort: bool = False,
) -> tuple[pd.DataFrame, VitalsCleaningReport]:
    """Clean an in-memory vitals table; see :func:`read_vitals` for the parameters."""
    if format not in ("auto", "long", "wide"):
        raise DataError(BAD_FORMAT.format(value=format))
    if unknown_parameters not in ("error", "drop"):
        raise DataError(BAD_UNKNOWN_MODE.format(value=unknown_parameters))
    found = list(map(str, frame.columns))[:20]
    for what, column, option in (
        ("time", time_column, "time_column"),
        ("stay", stay_column, "stay_column"),
    ):
        if column not in frame.columns:
            raise DataError(
                NO_COLUMN.format(
                    source=source, what=what, column=column, option=option, found=found
                )
            )
    if format == "auto":
        is_long = parameter_column in frame.columns and value_column in frame.columns
        format = "long" if is_long else "wide"
    if format == "long":
        for what, column, option in (
            ("parameter", parameter_column, "parameter_column"),
            ("value", value_column, "value_column"),
        ):
            if column not in frame.columns:
                raise DataError(
                    NO_COLUMN.format(
                        source=source, what=what, column=column, option=option, found=found
                    )
                )
    tally = _Tally()
    resolve = _resolver(aliases)
    frame = frame.reset_index(drop=True).assign(_row=np.arange(1, len(frame) + 1))
    times = _parse_times(frame[time_column], source, time_column, tally)
    frame = frame.assign(**{time_column: times})

    if format == "long":
        names = frame[parameter_column].astype("string")
        mapping = {name: resolve.get(_key(name)) for name in names.dropna().unique()}
        unknown = sorted(name for name, target in mapping.items() if target is None)
        long = pd.DataFrame(
            {
                "stay_id": frame[stay_column],
                "time": frame[time_column],
                "parameter": names.map(mapping),
                "value": frame[value_column],
                "_row": frame["_row"],
            }
        )
        values_in = len(long)
        if unknown:
            if unknown_parameters == "error":
                raise DataError(
                    UNKNOWN_PARAMETER.format(
                        source=source,
                        column=parameter_column,
                        name=unknown[0],
                        known=list(CANONICAL_PARAMETERS),
                    )
                )
            mask = long["parameter"].isna() & names.notna()
            for name, count in names[mask].value_counts().items():
                tally.dropped[(str(name), "unknown_parameter")] += int(count)
            long = long.loc[~mask.to_numpy()]
        long = tally.drop(
            long.assign(parameter=long["parameter"].fillna("<missing>")),
            long["parameter"].isna().to_numpy(),
            "missing_parameter",
        )
        unit_series: pd.Series | None = None
        if unit_column is not None and unit_column in frame.columns:
            unit_series = frame[unit_column]
        elif units:
            by_parameter = {resolve.get(_key(k), k): v for k, v in units.items()}
            unit_series = long["parameter"].map(by_parameter)
    else:
        long, unit_series, unknown_count = _long_from_wide(
            frame,
            stay_column=stay_column,
            time_column=time_column,
            resolve=resolve,
            units=units,
            unknown_parameters=unknown_parameters,
            source=source,
            tally=tally,
        )
        values_in = len(long) + unknown_count

    if long.empty:
        raise DataError(NO_VALUES.format(source=source))
    long = tally.drop(long, long["stay_id"].isna().to_numpy(), "missing_stay")
    long = tally.drop(long, long["time"].isna().to_numpy(), "missing_time")
    if not sort:
        _check_order(long, source, time_column)
    long = _to_numbers(long, tally)
    unit_name = unit_column if unit_column is not None else "unit"
    long = _convert_units(long, unit_series, source, unit_name, tally)
    long = long.sort_values(["stay_id", "time", "parameter", "_row"], kind="stable")
    long = _apply_rules(long, tally)
    out = long.drop(columns="_row").reset_index(drop=True)
    out["parameter"] = out["parameter"].astype(object)
    report = VitalsCleaningReport(
        source=source,
        format=format,
        values_in=values_in,
        values_out=len(out),
        stays=int(out["stay_id"].nunique()),
        dropped=tally.rows(tally.dropped),
        changed=tally.rows(tally.changed),
    )
    logger.info(
        "vitals %s: %d values in, %d kept, %d dropped, %d changed",
        source,
        report.values_in,
        report.values_out,
        report.n_dropped(),
        report.n_changed(),
    )
    return out, report


def read_vitals(
    path: str | Path,
    *,
    format: Literal["auto", "long", "wide"] = "auto",
    stay_column: str = "stay_id",
    time_column: str = "time",
    parameter_column: str = "parameter",
    value_column: str = "value",
    unit_column: str | None = "unit",
    units: Mapping[str, str] | None = None,
    aliases: Mapping[str, str] | None = None,
    unknown_parameters: Literal["error", "drop"] = "error",
    sort: bool = False,
) -> tuple[pd.DataFrame, VitalsCleaningReport]:
    r"""Read vital signs from CSV or Parquet into the canonical long table.

    Long files have one row per measurement (stay, time, parameter, value and
    optionally unit); wide files have one column per parameter. Parameter names
    are matched after lower-casing (runs of spaces and signs as one underscore) against
    :data:`CANONICAL_PARAMETERS` and :data:`PARAMETER_ALIASES`. Units are
    converted to :data:`CANONICAL_UNITS` (kPa to mmHg, SpO2 fraction to
    percent, degF to degC, oxygen flow to an on-oxygen flag); ACVPU text
    becomes codes 0-4. Then values outside :data:`PLAUSIBLE_RANGES`, duplicates
    and artefacts (SpO2 below 50 % with a heart rate of 50-120/min at the same
    time; a systolic pressure not above the diastolic) are dropped. Each drop
    and change is counted in the report (see :class:`VitalsCleaningReport`).

    Times with a zone or offset are converted to UTC and returned naive; a file
    that mixes times with and without a zone is refused.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.csv`` or ``.parquet`` file.
    format : {"auto", "long", "wide"}, default "auto"
        ``"auto"`` reads long when the parameter and value columns exist.
    stay_column, time_column, parameter_column, value_column : str
        Column names in the file.
    unit_column : str or None, default "unit"
        The unit column of a long file; used when present.
    units : mapping, optional
        Unit per parameter where the file has no unit column (wide files),
        e.g. ``{"temperature": "degF", "spo2": "fraction"}``.
    aliases : mapping, optional
        Extra names for canonical parameters, e.g. ``{"puls": "heart_rate"}``.
    unknown_parameters : {"error", "drop"}, default "error"
        Stop at an unknown parameter, or drop and count its values.
    sort : bool, default False
        Sort rows by stay and time instead of stopping when times go backwards
        within a stay.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``stay_id``, ``time``, ``parameter``, ``value``, sorted.
    report : VitalsCleaningReport
        Counts of everything dropped or changed, per parameter and rule.

    Raises
    ------
    DataError
        The file cannot be read, lacks the time or stay column, mixes time
        zones, has unparseable or out-of-order times, an unknown parameter or
        unit. The message names the file and column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "vitals.csv"
    >>> _ = path.write_text("stay_id,time,parameter,value,unit\n"
    ...     "1,2024-01-01 10:00,HR,80,/min\n1,2024-01-01 10:00,temp,99.5,degF\n"
    ...     "1,2024-01-01 10:05,SpO2,0.97,fraction\n1,2024-01-01 10:06,HR,400,/min\n")
    >>> frame, report = read_vitals(path)
    >>> frame[["parameter", "value"]].round(1).values.tolist()
    [['heart_rate', 80.0], ['temperature', 37.5], ['spo2', 97.0]]
    >>> report.to_dict()["dropped"], report.n_changed()
    ({'heart_rate': {'implausible': 1}}, 2)
    """
    path = Path(path)
    frame = read_table(path)
    return clean_vitals(
        frame,
        source=path.name,
        format=format,
        stay_column=stay_column,
        time_column=time_column,
        parameter_column=parameter_column,
        value_column=value_column,
        unit_column=unit_column,
        units=units,
        aliases=aliases,
        unknown_parameters=unknown_parameters,
        sort=sort,
    )
