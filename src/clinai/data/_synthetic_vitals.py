"""SYNTHETIC ward and ICU stays with minute-level vital signs and deterioration events.

Everything this module writes is synthetic: no real patient is behind any row.
Each output says so three ways: the file names start with ``synthetic_``, every
table has a boolean column ``synthetic`` (always true) and the Parquet schema
metadata holds ``synthetic=true`` (with the generator, its version and seed).

The physiology is a caricature meant for testing pipelines and benchmarks, not
for clinical conclusions:

- each stay has its own baseline (heart rate, respiration, SpO2, blood pressure,
  temperature), slow autocorrelated drift (an AR(1) process per minute) and
  measurement noise; patients with hypercapnic respiratory failure have a lower
  SpO2 and are on oxygen (NEWS2 scale 2 applies to them);
- in the hours before an event (ICU transfer, cardiac arrest, death) the vitals
  drift towards shock and respiratory failure (heart and respiration rate up,
  SpO2 and blood pressure down, fever in a septic share, confusion late), and the
  nurses observe more often; some stays without events have a similar excursion
  that recovers, so the signal is imperfect;
- the bedside monitor (heart rate, SpO2, respiration rate; arterial pressure in
  ICU) gives a value every ``minutes_per_row`` minutes, with disconnection gaps;
  ward blood pressure, temperature, consciousness (ACVPU codes) and oxygen
  come with the nursing observations;
- artefacts are injected at low rates (SpO2 probe-off readings below 50 % with a
  normal heart rate, doubled heart rates, diastolic pressure at or above the
  systolic), so :func:`clean_vitals` has something to count.

Stays are generated one by one from a seed derived from ``(seed, stay number)``
and written to Parquet in chunks, so the same seed gives the same data for any
chunk size, and memory stays bounded however many rows are asked for.

Drift scenarios (:class:`DriftScenario`, for testing monitoring) change the
SYNTHETIC data from an onset month on and leave everything before it as the
same seed gives without a scenario: every random number is drawn as without
the scenario, and the scenario only changes what is made of the draws of the
stays admitted (or, for a device, the readings taken) from the onset on.

Multi-site mode (``sites=``, profiles in :mod:`clinai.data._synthetic_sites`)
draws the stays of several SYNTHETIC hospitals that differ in case mix, baseline
event rate, nursing rhythm and SpO2 device, with a ``site`` column; without it
the output is byte for byte what it was before the mode existed.
"""

from __future__ import annotations

import difflib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clinai.data._synthetic_sites import (
    REFERENCE_ODDS,
    REFERENCE_SITE,
    SiteProfile,
    check_sites,
    multi_site_stays,
    sites_metadata,
)
from clinai.exceptions import DataError

__all__ = [
    "DRIFT_SCENARIOS",
    "SYNTHETIC_PARAMETERS",
    "DriftScenario",
    "SyntheticWardStays",
    "generate_ward_stays",
]

logger = logging.getLogger(__name__)

#: The parameters the generator writes, in the order of their dictionary codes.
SYNTHETIC_PARAMETERS: tuple[str, ...] = (
    "heart_rate",
    "sbp",
    "dbp",
    "resp_rate",
    "spo2",
    "temperature",
    "consciousness",
    "supplemental_oxygen",
)
_HR, _SBP, _DBP, _RR, _SPO2, _TEMP, _ACVPU, _O2 = range(len(SYNTHETIC_PARAMETERS))
EVENT_TYPES: tuple[str, ...] = ("icu_transfer", "cardiac_arrest", "death")
_WARDS = ("medical", "surgical", "icu")
_VERSION = "1"

BAD_COUNT = "generate_ward_stays: n_stays must be a positive integer, got {value!r}"
BAD_STEP = "generate_ward_stays: minutes_per_row must be a positive integer, got {value!r}"
BAD_RATE = "generate_ward_stays: event_rate must be in [0, 1), got {value!r}"
BAD_SCENARIO_KIND = "generate_ward_stays: scenario kind must be one of {valid}, got {value!r}{hint}"
BAD_SCENARIO_ONSET = (
    "generate_ward_stays: scenario onset_month must be a whole month 1..12 (month 1 starts at "
    "`start`), got {value!r}"
)
BAD_SCENARIO_SIZE = "generate_ward_stays: scenario size for {kind!r} must be {rule}, got {value!r}"
BAD_SCENARIO_TYPE = (
    "generate_ward_stays: scenario must be a DriftScenario, a mapping with kind, onset_month "
    "and size, or None; got {value!r}"
)

#: The drift scenarios: kind -> (default size, what the size means, the rule it must meet).
DRIFT_SCENARIOS: dict[str, tuple[float, str, str]] = {
    "spo2_offset": (
        -2.0,
        "points added to every SpO2 reading taken from the onset (a new monitor brand)",
        "a finite number of points between -10 and 10",
    ),
    "older_case_mix": (
        10.0,
        "years added to the age of the stays admitted from the onset",
        "a finite number of years between -30 and 30",
    ),
    "rising_event_rate": (
        1.15,
        "odds ratio of an event per month from the onset (month k after it: size**k)",
        "a number between 0.2 and 5",
    ),
    "oe_shift": (
        1.3,
        "ratio of events to the expected events of the stays admitted from the onset; the "
        "extra events come without warning signs in the vitals, so a model cannot foresee them",
        "a number between 1 and 5",
    ),
}
_SIZE_RANGES = {
    "spo2_offset": (-10.0, 10.0),
    "older_case_mix": (-30.0, 30.0),
    "rising_event_rate": (0.2, 5.0),
    "oe_shift": (1.0, 5.0),
}


@dataclass(frozen=True)
class DriftScenario:
    """A planted shift in the SYNTHETIC stays, from an onset month on (for testing monitoring).

    Admissions are spread over the 12 months from ``start``; month 1 begins at
    ``start`` and month ``k`` at ``start`` plus ``k - 1`` calendar months (with
    ``start`` on the first of a month, month ``k`` is a calendar month). Nothing
    before the onset changes: stays admitted before it (and, for ``spo2_offset``,
    readings taken before it) are exactly what the same seed gives without a
    scenario.

    Parameters
    ----------
    kind : {"spo2_offset", "older_case_mix", "rising_event_rate", "oe_shift"}
        ``spo2_offset``: a new monitor brand reads SpO2 ``size`` points off (default
        -2: 2 points low) from the onset, for every stay, including stays admitted
        earlier; nothing else changes. ``older_case_mix``: stays admitted from the
        onset are ``size`` years older (default 10); their event risk follows their
        age as before, so the case mix changes but not the relation of the vitals to
        the events. ``rising_event_rate``: the event odds of the stays admitted in
        the ``k``-th month from the onset (the onset month is ``k = 1``) are
        multiplied by ``size**k`` (default 1.15). ``oe_shift``: stays admitted from
        the onset have ``size`` times the events they would have (default 1.3, the
        observed/expected ratio a well-calibrated model then sees); the extra events
        come without the deterioration before them, so a model cannot foresee them.
    onset_month : int, default 4
        First month (1..12) of the shift.
    size : float, optional
        The size of the shift in the kind's unit (see ``DRIFT_SCENARIOS``); the
        kind's default when omitted.
    """

    kind: str
    onset_month: int = 4
    size: float | None = None

    @property
    def effective_size(self) -> float:
        """The size, or the kind's default."""
        return float(DRIFT_SCENARIOS[self.kind][0] if self.size is None else self.size)

    def onset(self, start: pd.Timestamp) -> pd.Timestamp:
        """Return the first moment of the onset month."""
        return start + pd.DateOffset(months=self.onset_month - 1)

    def to_dict(self) -> dict[str, Any]:
        """Return the scenario as plain JSON-ready data (marked synthetic)."""
        return {
            "kind": self.kind,
            "onset_month": self.onset_month,
            "size": self.effective_size,
            "synthetic": True,
        }


def _check_scenario(scenario: object) -> DriftScenario | None:
    """Return the scenario as a checked :class:`DriftScenario` (``None`` stays ``None``)."""
    if scenario is None:
        return None
    if isinstance(scenario, Mapping):
        unknown = set(scenario) - {"kind", "onset_month", "size"}
        if unknown or "kind" not in scenario:
            raise DataError(BAD_SCENARIO_TYPE.format(value=dict(scenario)))
        scenario = DriftScenario(**dict(scenario))
    if not isinstance(scenario, DriftScenario):
        raise DataError(BAD_SCENARIO_TYPE.format(value=scenario))
    if scenario.kind not in DRIFT_SCENARIOS:
        close = difflib.get_close_matches(str(scenario.kind), list(DRIFT_SCENARIOS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DataError(
            BAD_SCENARIO_KIND.format(
                valid=", ".join(DRIFT_SCENARIOS), value=scenario.kind, hint=hint
            )
        )
    onset = scenario.onset_month
    if not isinstance(onset, int | np.integer) or isinstance(onset, bool) or not 1 <= onset <= 12:
        raise DataError(BAD_SCENARIO_ONSET.format(value=onset))
    size = scenario.size
    low, high = _SIZE_RANGES[scenario.kind]
    if size is not None and (
        isinstance(size, bool)
        or not isinstance(size, int | float | np.integer | np.floating)
        or not low <= float(size) <= high
    ):
        rule = DRIFT_SCENARIOS[scenario.kind][2]
        raise DataError(BAD_SCENARIO_SIZE.format(kind=scenario.kind, rule=rule, value=size))
    return scenario


def _months_from_onset(
    times: pd.DatetimeIndex | pd.Series, start: pd.Timestamp, scenario: DriftScenario
) -> np.ndarray:
    """1 for the onset month, 2 for the next, ...; 0 before the onset (by calendar month)."""
    bounds = pd.DatetimeIndex(
        [start + pd.DateOffset(months=m) for m in range(scenario.onset_month - 1, 13)]
    ).to_numpy(dtype="datetime64[ns]")
    values = pd.DatetimeIndex(times).to_numpy(dtype="datetime64[ns]")
    return np.asarray(np.searchsorted(bounds, values, side="right"))


@dataclass(frozen=True)
class SyntheticWardStays:
    """What :func:`generate_ward_stays` wrote (all of it synthetic).

    Attributes
    ----------
    vitals_path : pathlib.Path
        Canonical long vitals: ``stay_id``, ``time``, ``parameter``, ``value``,
        ``synthetic``; sorted by stay and time.
    stays_path : pathlib.Path
        One row per stay: ``stay_id``, ``patient_id``, ``admission_time``,
        ``end_time`` (discharge or event), ``age``, ``sex``, ``ward``, (in
        multi-site mode) ``site``, ``hypercapnic`` (NEWS2 scale 2 applies),
        ``event`` (an event type or missing), ``event_time`` (missing without an
        event), ``synthetic``.
    n_stays, n_rows : int
        Stays and vitals rows written.
    events : dict
        Stays per event type (``"none"`` for stays without an event).
    seed : int
        The seed used.
    sites : tuple of str
        The SYNTHETIC hospitals (multi-site mode; empty otherwise).
    """

    vitals_path: Path
    stays_path: Path
    n_stays: int
    n_rows: int
    events: dict[str, int] = field(default_factory=dict)
    seed: int = 0
    synthetic: bool = True
    sites: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as plain JSON-ready data."""
        return {
            **({"sites": list(self.sites)} if self.sites else {}),
            "synthetic": self.synthetic,
            "vitals_path": str(self.vitals_path),
            "stays_path": str(self.stays_path),
            "n_stays": self.n_stays,
            "n_rows": self.n_rows,
            "events": dict(self.events),
            "seed": self.seed,
        }


def _stays_table(
    n_stays: int,
    rng: np.random.Generator,
    *,
    start: pd.Timestamp,
    event_rate: float,
    mean_stay_hours: float,
    scenario: DriftScenario | None = None,
    site: SiteProfile | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw the stays and, per stay, whether its event comes unannounced (``oe_shift``).

    ``site``: a SYNTHETIC hospital's case mix and baseline odds (multi-site mode); ``None``
    draws the single-site default exactly as before.
    """
    mix = REFERENCE_SITE if site is None else site
    ward = rng.choice(len(_WARDS), size=n_stays, p=list(mix.ward_mix))
    age = np.clip(rng.normal(mix.age_mean, mix.age_sd, n_stays), 18, 100).round()
    # a lognormal length of stay with the requested mean, between 6 hours and 30 days
    sigma = 0.7
    hours = rng.lognormal(np.log(mean_stay_hours) - sigma**2 / 2, sigma, n_stays)
    hours = np.clip(hours, 6, 720)
    # event risk rises with age and in ICU; the intercept is set for the mean rate
    risk = 0.03 * (age - 66) + np.where(ward == 2, 0.8, 0.0)
    odds = np.exp(risk)
    # from the undrifted stays, so a scenario moves no earlier one; a site's baseline odds are
    # against the reference case mix, so its case mix moves its event rate
    scale = (
        event_rate / odds.mean()
        if site is None
        else event_rate * site.event_odds_ratio / REFERENCE_ODDS
    )
    draw = rng.random(n_stays)
    ward_events = rng.choice(3, size=n_stays, p=[0.60, 0.15, 0.25])
    icu_events = rng.choice([1, 2], size=n_stays, p=[0.3, 0.7])
    event_code = np.where(ward == 2, icu_events, ward_events)
    fraction = rng.uniform(0.35, 1.0, n_stays)
    event_hours = np.maximum(hours * fraction, 8.0)
    admission = start + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n_stays), unit="min")
    baseline = probability = np.clip(scale * odds, 0, 0.95)
    if scenario is not None and scenario.kind != "spo2_offset":
        age, probability = _drift_stays(
            scenario, _months_from_onset(admission, start, scenario), age, ward, scale, baseline
        )
    # the same uniform draw decides with and without a scenario: a raised risk keeps the
    # baseline's events and adds some; oe_shift's added events come without warning signs
    has_event = draw < probability
    silent = has_event & (draw >= baseline) & (scenario is not None and scenario.kind == "oe_shift")
    end_hours = np.where(has_event, np.minimum(event_hours, hours), hours)
    end = admission + pd.to_timedelta(np.round(end_hours * 60), unit="min")
    patients = max(1, int(n_stays * 0.8))
    return pd.DataFrame(
        {
            "stay_id": np.arange(1, n_stays + 1, dtype=np.int64),
            "patient_id": rng.integers(1, patients + 1, n_stays).astype(np.int64),
            "admission_time": admission.astype("datetime64[us]"),
            "end_time": end.astype("datetime64[us]"),
            "age": age.astype(np.int64),
            "sex": np.where(rng.random(n_stays) < 0.5, "F", "M"),
            "ward": np.asarray(_WARDS)[ward],
            "hypercapnic": rng.random(n_stays) < mix.hypercapnic_share,
            "event": pd.Series(np.asarray(EVENT_TYPES)[event_code])
            .where(has_event)
            .astype("string"),
            "event_time": pd.Series(end).where(has_event).astype("datetime64[us]"),
            "synthetic": True,
        }
    ), silent


def _drift_stays(
    scenario: DriftScenario,
    month: np.ndarray,
    age: np.ndarray,
    ward: np.ndarray,
    scale: float,
    probability: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return age and event risk after a scenario (``month`` 0: before the onset)."""
    drifted = month > 0
    size = scenario.effective_size
    if scenario.kind == "older_case_mix":
        age = np.where(drifted, np.clip(age + size, 18, 100).round(), age)
        risk = 0.03 * (age - 66) + np.where(ward == 2, 0.8, 0.0)
        probability = np.clip(scale * np.exp(risk), 0, 0.95)
    elif scenario.kind == "rising_event_rate":
        odds = probability / (1 - probability) * np.power(size, month)
        probability = np.where(drifted, np.clip(odds / (1 + odds), 0, 0.95), probability)
    elif scenario.kind == "oe_shift":
        probability = np.where(drifted, np.clip(probability * size, 0, 0.95), probability)
    return age, probability


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    from scipy.signal import lfilter

    innovations = rng.normal(0.0, sd * np.sqrt(1 - phi**2), n)
    return np.asarray(lfilter([1.0], [1.0, -phi], innovations))


def _severity(minutes: np.ndarray, onset: float, peak: float) -> np.ndarray:
    ramp = np.clip((minutes - onset) / max(peak - onset, 1.0), 0.0, 1.0)
    return ramp**1.5


def _one_stay(
    stay: Any,
    seed: int,
    index: int,
    step: int,
    start_us: int,
    *,
    silent: bool = False,
    spo2_offset: tuple[int, float] | None = None,
    site: SiteProfile | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw one stay's vitals.

    ``silent``: its event comes without warning signs; ``spo2_offset``: (from time in us, points);
    ``site``: the hospital's nursing rhythm and SpO2 device offset (multi-site mode).
    """
    habits = REFERENCE_SITE if site is None else site
    rng = np.random.default_rng([seed, index])
    length = int((stay.end_time - stay.admission_time) / pd.Timedelta(minutes=1))
    minutes = np.arange(0, max(length, step), step, dtype=np.int64)
    n = len(minutes)
    icu = stay.ward == "icu"
    severity = np.zeros(n)
    if isinstance(stay.event, str) and not silent:
        lead = rng.uniform(4, 24) * 60
        severity = _severity(minutes.astype(float), length - lead, length)
    elif rng.random() < 0.15:
        # a benign excursion that recovers: the same shape, up and back down
        centre = rng.uniform(0.2, 0.9) * length
        width = rng.uniform(2, 10) * 60
        severity = 0.6 * np.exp(-(((minutes - centre) / width) ** 2))
    septic = rng.random() < 0.5
    copd = bool(stay.hypercapnic)
    age_shift = (stay.age - 66) / 16

    heart = rng.normal(80, 10) + 35 * severity + _ar1(rng, n, 0.995, 6) + rng.normal(0, 2, n)
    resp = (
        rng.normal(16, 2) + 2 * copd + 11 * severity + _ar1(rng, n, 0.99, 1.5) + rng.normal(0, 1, n)
    )
    spo2_base = rng.normal(90 if copd else 96.5, 1.0)
    spo2 = spo2_base - 9 * severity + _ar1(rng, n, 0.99, 1.0) + rng.normal(0, 0.6, n)
    sbp = (
        rng.normal(126 + 6 * age_shift, 14)
        - 40 * severity
        + _ar1(rng, n, 0.995, 7)
        + rng.normal(0, 3, n)
    )
    dbp = 0.55 * sbp + rng.normal(8, 4) + rng.normal(0, 2, n)
    temp = (
        rng.normal(36.9, 0.25)
        + (1.6 if septic else -0.3) * severity
        + _ar1(rng, n, 0.999, 0.2)
        + rng.normal(0, 0.05, n)
    )
    oxygen = ((spo2 < 93) | copd | (severity > 0.5)).astype(float)
    spo2 = spo2 + 2.5 * oxygen * (~copd)  # oxygen lifts saturation a little
    confusion_p = np.clip(severity - 0.55, 0, None) * 1.6
    draw = rng.random(n)
    consciousness = np.select(
        [draw < confusion_p * 0.15, draw < confusion_p * 0.4, draw < confusion_p], [3, 2, 1], 0
    )

    # sampling: the monitor every step with disconnection gaps; nursing observations
    # every 4 h on the ward (1 h in ICU), hourly once the patient is deteriorating
    connected = np.ones(n, dtype=bool)
    for _ in range(rng.poisson(3 * n * step / 1440)):
        begin = rng.integers(0, n)
        connected[begin : begin + max(1, int(rng.exponential(20) / step))] = False
    every = np.where(severity > 0.3, 60, 60 if icu else habits.nursing_minutes)
    jitter = int(rng.integers(0, 60))
    nursing = ((minutes + jitter) % every) < step
    nursing &= rng.random(n) > 0.05
    bp_times = connected if icu else (((minutes + jitter) % 30) < step) & (rng.random(n) > 0.1)

    # artefacts (counted by clean_vitals): probe-off SpO2, doubled heart rate, dbp >= sbp
    probe_off = rng.random(n) < 0.001
    spo2 = np.where(probe_off, rng.uniform(0, 45, n), spo2)
    heart = np.where(rng.random(n) < 0.0002, heart * 2, heart)
    swapped = rng.random(n) < 0.001
    dbp = np.where(swapped, sbp + rng.uniform(0, 10, n), dbp)
    base_us = start_us + minutes * 60_000_000
    if spo2_offset is not None:
        # a monitor brand that reads off: the readings change, not the patient or the nurses
        spo2 = np.where(base_us >= spo2_offset[0], spo2 + spo2_offset[1], spo2)
    if habits.spo2_offset:
        spo2 = spo2 + habits.spo2_offset  # the site's monitor brand, for all its readings

    series = (
        (_HR, connected, np.round(np.clip(heart, 25, 250))),
        (_SBP, bp_times, np.round(np.clip(sbp, 45, 260))),
        (_DBP, bp_times, np.round(np.clip(dbp, 15, 270))),
        (_RR, connected, np.round(np.clip(resp, 4, 60))),
        (_SPO2, connected, np.round(np.clip(spo2, 0, 100))),
        (_TEMP, nursing, np.round(np.clip(temp, 33, 42.5), 1)),
        (_ACVPU, nursing, consciousness.astype(float)),
        (_O2, nursing, oxygen),
    )
    times = np.concatenate([base_us[mask] for _, mask, _ in series])
    codes = np.concatenate([np.full(int(mask.sum()), code, np.int8) for code, mask, _ in series])
    values = np.concatenate([value[mask] for _, mask, value in series])
    order = np.lexsort((codes, times))
    return times[order], codes[order], values[order]


def _metadata(
    seed: int,
    kind: str,
    scenario: DriftScenario | None,
    sites: tuple[SiteProfile, ...] | None = None,
) -> dict[bytes, bytes]:
    metadata = {
        b"synthetic": b"true",
        b"clinai.generator": b"clinai.data.generate_ward_stays",
        b"clinai.generator_version": _VERSION.encode(),
        b"clinai.seed": str(seed).encode(),
        b"clinai.table": kind.encode(),
        b"description": (b"SYNTHETIC data generated by clinai; no real patient is behind any row"),
    }
    if scenario is not None:
        # the planted shift is part of the provenance (only written when there is one)
        metadata[b"clinai.scenario"] = json.dumps(scenario.to_dict(), sort_keys=True).encode()
    if sites is not None:
        metadata[b"clinai.sites"] = sites_metadata(sites)
    return metadata


def _write_stays(
    stays: pd.DataFrame,
    path: Path,
    seed: int,
    scenario: DriftScenario | None,
    sites: tuple[SiteProfile, ...] | None,
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(stays, preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), **_metadata(seed, "stays", scenario, sites)}
    )
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)


def generate_ward_stays(
    n_stays: int,
    *,
    seed: int,
    out_dir: str | Path,
    minutes_per_row: int = 1,
    event_rate: float = 0.12,
    mean_stay_hours: float = 72.0,
    start: str = "2024-01-01",
    chunk_rows: int = 4_000_000,
    progress: bool = False,
    scenario: DriftScenario | Mapping[str, Any] | None = None,
    sites: int | Sequence[SiteProfile | Mapping[str, Any]] | None = None,
) -> SyntheticWardStays:
    """Generate SYNTHETIC ward/ICU stays with minute-level vitals and write them as Parquet.

    The data are synthetic (see the module docstring for the physiology and the
    labels): ``synthetic_stays.parquet`` (one row per stay, with the event and
    its time) and ``synthetic_vitals.parquet`` (canonical long vitals, sorted by
    stay and time, written in row groups of about ``chunk_rows`` rows so memory
    stays bounded). A stay's vitals end at its event or discharge. The same seed
    gives the same files.

    Parameters
    ----------
    n_stays : int
        Stays to generate. Rows grow with it: about 3.5 rows per stay-minute at
        ``minutes_per_row=1`` (about 14,000 rows per stay at the defaults).
    seed : int
        Seed of every random draw.
    out_dir : str or pathlib.Path
        Folder for the two files (created if needed).
    minutes_per_row : int, default 1
        Monitor sampling interval in minutes.
    event_rate : float, default 0.12
        Approximate share of stays that end in an event.
    mean_stay_hours : float, default 72
        Mean length of stay before truncation at an event.
    start : str, default "2024-01-01"
        Admissions are spread over the year from this date.
    chunk_rows : int, default 4,000,000
        Rows per Parquet row group (memory use grows with it).
    progress : bool, default False
        Show a Rich progress bar.
    scenario : DriftScenario or mapping, optional
        A planted drift from an onset month on (a new SpO2 monitor brand, an older
        case mix, a rising event rate, an O/E shift; see :class:`DriftScenario`),
        e.g. ``{"kind": "spo2_offset", "onset_month": 4, "size": -2}``. Stays
        admitted (and readings taken) before the onset are what the same seed gives
        without a scenario; ``None`` (the default) gives exactly today's data. The
        scenario is written into both files' Parquet metadata (``clinai.scenario``).
    sites : int or sequence of SiteProfile, optional
        Multi-site mode: the stays come from several SYNTHETIC hospitals with different
        case mix, baseline event rates, nursing rhythms and SpO2 devices (see
        :mod:`clinai.data._synthetic_sites`); ``N`` takes the first ``N`` (2 to 6) of
        ``SYNTHETIC_SITES`` (site ``A`` is the reference hospital). ``n_stays`` is shared
        out by the sites' weights, the stays table gets a ``site`` column (after
        ``ward``), ``event_rate`` is the event share of a hospital with the reference
        case mix, and the profiles are written into both files' Parquet metadata
        (``clinai.sites``). ``None`` (the default) gives exactly the single-site data.

    Returns
    -------
    SyntheticWardStays
        Paths, row and stay counts and events per type.

    Raises
    ------
    DataError
        If a count, step, rate, the scenario or a site is out of range.

    Examples
    --------
    >>> import tempfile
    >>> result = generate_ward_stays(3, seed=1, out_dir=tempfile.mkdtemp(), minutes_per_row=5)
    >>> result.synthetic, result.n_stays, result.vitals_path.name
    (True, 3, 'synthetic_vitals.parquet')
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(n_stays, int | np.integer) or isinstance(n_stays, bool) or n_stays < 1:
        raise DataError(BAD_COUNT.format(value=n_stays))
    if not isinstance(minutes_per_row, int | np.integer) or minutes_per_row < 1:
        raise DataError(BAD_STEP.format(value=minutes_per_row))
    if not 0 <= event_rate < 1:
        raise DataError(BAD_RATE.format(value=event_rate))
    drift = _check_scenario(scenario)
    profiles = check_sites(sites)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    def draw(count: int, rng: np.random.Generator, site: SiteProfile | None = None) -> Any:
        return _stays_table(
            count,
            rng,
            start=pd.Timestamp(start),
            event_rate=event_rate,
            mean_stay_hours=mean_stay_hours,
            scenario=drift,
            site=site,
        )

    if profiles is None:
        stays, silent = draw(int(n_stays), np.random.default_rng([seed, 0]))
    else:
        stays, silent = multi_site_stays(int(n_stays), profiles, seed, draw)
    by_name = {p.name: p for p in profiles or ()}
    stay_sites = stays["site"].to_numpy() if profiles else np.full(len(stays), None)
    spo2_offset = None
    if drift is not None and drift.kind == "spo2_offset":
        spo2_offset = (drift.onset(pd.Timestamp(start)).value // 1000, drift.effective_size)
    stays_path = out / "synthetic_stays.parquet"
    vitals_path = out / "synthetic_vitals.parquet"
    _write_stays(stays, stays_path, seed, drift, profiles)

    schema = pa.schema(
        [
            ("stay_id", pa.int64()),
            ("time", pa.timestamp("us")),
            ("parameter", pa.dictionary(pa.int8(), pa.string())),
            ("value", pa.float64()),
            ("synthetic", pa.bool_()),
        ],
        metadata=_metadata(seed, "vitals", drift, profiles),
    )
    names = pa.array(SYNTHETIC_PARAMETERS, pa.string())
    tmp = vitals_path.with_name(vitals_path.name + ".tmp")
    n_rows = 0
    buffer: list[tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray]]] = []
    buffered = 0

    def flush(writer: pq.ParquetWriter) -> None:
        nonlocal buffer, buffered
        if not buffer:
            return
        stay_ids = np.concatenate([np.full(len(p[0]), s, np.int64) for s, p in buffer])
        times = np.concatenate([p[0] for _, p in buffer])
        codes = np.concatenate([p[1] for _, p in buffer])
        values = np.concatenate([p[2] for _, p in buffer])
        batch = pa.table(
            {
                "stay_id": stay_ids,
                "time": pa.array(times, pa.timestamp("us")),
                "parameter": pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), names),
                "value": values,
                "synthetic": pa.array(np.ones(len(times), dtype=bool)),
            },
            schema=schema,
        )
        writer.write_table(batch, row_group_size=max(buffered, 1))
        buffer, buffered = [], 0

    admissions = stays["admission_time"].to_numpy().astype("datetime64[us]").astype(np.int64)
    stay_ids = stays["stay_id"].to_numpy()
    with pq.ParquetWriter(tmp, schema) as writer, _progress(progress, len(stays)) as advance:
        for index, stay in enumerate(stays.itertuples(index=False)):
            part = _one_stay(
                stay,
                seed,
                index + 1,
                int(minutes_per_row),
                int(admissions[index]),
                silent=bool(silent[index]),
                spo2_offset=spo2_offset,
                site=by_name.get(stay_sites[index]),
            )
            buffer.append((int(stay_ids[index]), part))
            buffered += len(part[0])
            n_rows += len(part[0])
            if buffered >= chunk_rows:
                flush(writer)
            advance()
        flush(writer)
    tmp.replace(vitals_path)
    counts = stays["event"].fillna("none").value_counts()
    events = {name: int(counts.get(name, 0)) for name in (*EVENT_TYPES, "none")}
    logger.info("synthetic ward stays: %d stays, %d vitals rows", len(stays), n_rows)
    return SyntheticWardStays(
        vitals_path=vitals_path,
        stays_path=stays_path,
        n_stays=len(stays),
        n_rows=n_rows,
        events=events,
        seed=seed,
        sites=tuple(p.name for p in profiles or ()),
    )


class _progress:
    """A Rich progress bar when asked for, otherwise a no-op."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled
        self.total = total
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda: None
        from rich.progress import Progress

        self._bar = Progress()
        self._bar.__enter__()
        self._task = self._bar.add_task("synthetic stays", total=self.total)
        return lambda: self._bar.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
