"""NEWS2, the National Early Warning Score 2 (Royal College of Physicians, 2017).

The score adds seven component scores, each read from the RCP chart:

============================  ====  =======  =======  =========  =======  =======  ====
parameter                     3     2        1        0          1        2        3
============================  ====  =======  =======  =========  =======  =======  ====
respiration rate (/min)       <=8            9-11     12-20               21-24    >=25
SpO2 scale 1 (%)              <=91  92-93    94-95    >=96
SpO2 scale 2 (%)              <=83  84-85    86-87    88-92,     93-94 O2 95-96 O2 >=97 O2
                                                      >=93 air
air or oxygen                       oxygen            air
systolic BP (mmHg)            <=90  91-100   101-110  111-219                      >=220
pulse (/min)                  <=40           41-50    51-90      91-110   111-130  >=131
consciousness (ACVPU)                                 alert                        C, V, P, U
temperature (degC)            <=35.0         35.1-36  36.1-38.0  38.1-39  >=39.1
============================  ====  =======  =======  =========  =======  =======  ====

Scale 2 is for patients with hypercapnic respiratory failure (usually COPD) whose
target saturation is 88-92 %, as documented by a clinician; its upper bands score
only on supplemental oxygen. The chart is written in whole numbers (temperature in
tenths of a degree), so a value is first rounded half up to that precision, as a
nurse charts it (20.4 /min is charted 20, 20.5 is charted 21).

Reference: Royal College of Physicians. National Early Warning Score (NEWS) 2:
standardising the assessment of acute-illness severity in the NHS. London: RCP, 2017.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clinai.exceptions import DataError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["ACVPU_CODES", "NEWS2_COMPONENTS", "news2", "news2_component"]

logger = logging.getLogger(__name__)

#: Consciousness levels and their numeric codes in clinai's canonical vitals
#: (0 alert, 1 new confusion, 2 voice, 3 pain, 4 unresponsive).
ACVPU_CODES: dict[str, int] = {"A": 0, "C": 1, "V": 2, "P": 3, "U": 4}

#: The component columns :func:`news2` returns, in the chart's order.
NEWS2_COMPONENTS: tuple[str, ...] = (
    "resp_rate",
    "spo2",
    "supplemental_oxygen",
    "sbp",
    "heart_rate",
    "consciousness",
    "temperature",
)

# Bands as (upper bound inclusive, score), checked in order after rounding to the
# chart's precision; the last band has no upper bound.
_BANDS: dict[str, tuple[tuple[float, int], ...]] = {
    "resp_rate": ((8, 3), (11, 1), (20, 0), (24, 2), (np.inf, 3)),
    "spo2_scale1": ((91, 3), (93, 2), (95, 1), (np.inf, 0)),
    "sbp": ((90, 3), (100, 2), (110, 1), (219, 0), (np.inf, 3)),
    "heart_rate": ((40, 3), (50, 1), (90, 0), (110, 1), (130, 2), (np.inf, 3)),
    "temperature": ((35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1), (np.inf, 2)),
}
# Scale 2 below the target range scores the same on air and oxygen.
_SCALE2_LOW = ((83, 3), (85, 2), (87, 1), (np.inf, 0))
# Scale 2 above 92 % on oxygen: 93-94 scores 1, 95-96 scores 2, >= 97 scores 3.
_SCALE2_HIGH_ON_OXYGEN = ((92, 0), (94, 1), (96, 2), (np.inf, 3))
_DECIMALS = {"temperature": 1}

MISSING_COLUMNS = (
    "news2: the frame lacks column(s) {missing}: it needs {needed} "
    "(consciousness as ACVPU letters or codes 0-4, supplemental_oxygen as 0/1)"
)
BAD_CONSCIOUSNESS = (
    "news2: column 'consciousness' has value {value!r}, which is not ACVPU: "
    "use A, C, V, P, U (or alert, confusion, voice, pain, unresponsive) or codes 0-4"
)
BAD_SCALE = "news2: column 'spo2_scale' has value {value!r}: use 1 or 2 (2 for hypercapnic failure)"
UNKNOWN_COMPONENT = "news2_component: unknown parameter {name!r}: use one of {names}"

_ACVPU_WORDS = {
    "alert": "A",
    "confusion": "C",
    "confused": "C",
    "new confusion": "C",
    "voice": "V",
    "pain": "P",
    "unresponsive": "U",
}


def _round_half_up(values: np.ndarray, decimals: int) -> np.ndarray:
    # np.round rounds half to even; the chart is charted half up.
    scale = 10.0**decimals
    # the small epsilon keeps 35.05 (stored as 35.04999...) rounding to 35.1
    return np.floor(values * scale + 0.5 + 1e-9) / scale


def _score_bands(values: np.ndarray, bands: Sequence[tuple[float, int]]) -> np.ndarray:
    out = np.full(values.shape, np.nan)
    assigned = np.isnan(values)
    for upper, score in bands:
        hit = ~assigned & (values <= upper)
        out[hit] = score
        assigned |= hit
    return out


def _consciousness_codes(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        numbers = column.to_numpy(dtype=float)
        bad = ~np.isnan(numbers) & ~np.isin(numbers, (0.0, 1.0, 2.0, 3.0, 4.0))
        if bad.any():
            raise DataError(BAD_CONSCIOUSNESS.format(value=float(numbers[bad][0])))
        return numbers
    codes = np.full(len(column), np.nan)
    for i, value in enumerate(column.to_numpy(dtype=object)):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(value, str):
            key = value.strip()
            letter = _ACVPU_WORDS.get(key.lower(), key.upper())
            if letter not in ACVPU_CODES:
                raise DataError(BAD_CONSCIOUSNESS.format(value=value))
            codes[i] = ACVPU_CODES[letter]
        else:
            number = float(value)
            if number not in (0.0, 1.0, 2.0, 3.0, 4.0):
                raise DataError(BAD_CONSCIOUSNESS.format(value=value))
            codes[i] = number
    return codes


def news2_component(name: str, values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Score one numeric NEWS2 parameter on its RCP band.

    Parameters
    ----------
    name : str
        ``"resp_rate"``, ``"spo2_scale1"``, ``"sbp"``, ``"heart_rate"`` or ``"temperature"``.
    values : array-like of float
        Measurements in canonical units; missing values give a missing score.

    Returns
    -------
    numpy.ndarray
        The component scores (0-3) as floats, NaN where the value is missing.

    Raises
    ------
    DataError
        If ``name`` is not one of the banded parameters.

    Examples
    --------
    >>> news2_component("heart_rate", [40, 41, 90, 91, 131]).tolist()
    [3.0, 1.0, 0.0, 1.0, 3.0]
    """
    if name not in _BANDS:
        raise DataError(UNKNOWN_COMPONENT.format(name=name, names=sorted(_BANDS)))
    array = np.asarray(values, dtype=float)
    rounded = _round_half_up(array, _DECIMALS.get(name, 0))
    return _score_bands(rounded, _BANDS[name])


def _spo2_scores(spo2: np.ndarray, on_oxygen: np.ndarray, scale: np.ndarray) -> np.ndarray:
    rounded = _round_half_up(spo2, 0)
    scale1 = _score_bands(rounded, _BANDS["spo2_scale1"])
    scale2 = _score_bands(rounded, _SCALE2_LOW)
    high = _score_bands(rounded, _SCALE2_HIGH_ON_OXYGEN)
    # on oxygen, scale 2 above 92 % scores the oxygen bands; on air it scores 0
    above_target = rounded >= 93
    scale2 = np.where(above_target & (on_oxygen == 1), high, scale2)
    # with the oxygen flag missing, a scale-2 saturation above 92 % cannot be scored
    scale2 = np.where(above_target & np.isnan(on_oxygen), np.nan, scale2)
    return np.where(scale == 2, scale2, scale1)


def news2(frame: pd.DataFrame, *, spo2_scale: int | str = 1) -> pd.DataFrame:
    """Compute NEWS2 and its component scores per observation (row).

    Each row is one set of observations (one observation time). The score is the
    sum of seven components (see the module docstring for the RCP chart):
    respiration rate, SpO2 (scale 1 or 2), air or oxygen, systolic blood pressure,
    pulse, consciousness (ACVPU, where new confusion scores 3) and temperature.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``resp_rate`` (/min), ``spo2`` (%), ``supplemental_oxygen`` (1 on
        oxygen, 0 on air), ``sbp`` (mmHg), ``heart_rate`` (/min), ``consciousness``
        (ACVPU letters or words, or codes 0 alert - 4 unresponsive, see
        :data:`ACVPU_CODES`) and ``temperature`` (degC). Other columns (stay,
        time) are kept. Missing values give a missing component.
    spo2_scale : {1, 2, "column"}, default 1
        The SpO2 scale for every row, or ``"column"`` to read it per row from a
        column ``spo2_scale`` (2 for patients with documented hypercapnic
        respiratory failure and a target saturation of 88-92 %).

    Returns
    -------
    pandas.DataFrame
        The input columns plus ``news2_<component>`` for each component (0-3),
        ``news2`` (the total, 0-20; missing when any component is missing),
        ``news2_components_missing`` (how many components were missing),
        ``news2_partial`` (the sum of the components present) and
        ``news2_any_3`` (a single parameter scored 3, the RCP "red score").

    Raises
    ------
    DataError
        If a column is missing or a consciousness or scale value is invalid.

    Examples
    --------
    >>> obs = pd.DataFrame({"resp_rate": [18, 24], "spo2": [97, 93],
    ...     "supplemental_oxygen": [0, 1], "sbp": [125, 105], "heart_rate": [72, 115],
    ...     "consciousness": ["A", "C"], "temperature": [36.8, 38.4]})
    >>> news2(obs)["news2"].tolist()
    [0.0, 13.0]
    """
    needed = list(NEWS2_COMPONENTS)
    if spo2_scale == "column":
        needed.append("spo2_scale")
    missing = [name for name in needed if name not in frame.columns]
    if missing:
        raise DataError(MISSING_COLUMNS.format(missing=missing, needed=needed))
    n = len(frame)
    if spo2_scale == "column":
        scale = pd.to_numeric(frame["spo2_scale"], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isin(scale, (1.0, 2.0))
        if bad.any():
            raise DataError(BAD_SCALE.format(value=frame["spo2_scale"].to_numpy()[bad][0]))
    elif spo2_scale in (1, 2):
        scale = np.full(n, float(spo2_scale))
    else:
        raise DataError(BAD_SCALE.format(value=spo2_scale))

    def numeric(name: str) -> np.ndarray:
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)

    oxygen = numeric("supplemental_oxygen")
    oxygen = np.where(np.isnan(oxygen), np.nan, (oxygen > 0).astype(float))
    consciousness = _consciousness_codes(frame["consciousness"])
    scores = {
        "resp_rate": news2_component("resp_rate", numeric("resp_rate")),
        "spo2": _spo2_scores(numeric("spo2"), oxygen, scale),
        "supplemental_oxygen": oxygen * 2.0,
        "sbp": news2_component("sbp", numeric("sbp")),
        "heart_rate": news2_component("heart_rate", numeric("heart_rate")),
        "consciousness": np.where(
            np.isnan(consciousness), np.nan, np.where(consciousness > 0, 3.0, 0.0)
        ),
        "temperature": news2_component("temperature", numeric("temperature")),
    }
    out = frame.copy()
    matrix = np.column_stack([scores[name] for name in NEWS2_COMPONENTS])
    for name in NEWS2_COMPONENTS:
        out[f"news2_{name}"] = scores[name]
    n_missing = np.isnan(matrix).sum(axis=1)
    partial = np.nansum(matrix, axis=1)
    out["news2"] = np.where(n_missing == 0, partial, np.nan)
    out["news2_components_missing"] = n_missing
    out["news2_partial"] = partial
    out["news2_any_3"] = np.nanmax(np.where(np.isnan(matrix), -1, matrix), axis=1) >= 3
    return out
