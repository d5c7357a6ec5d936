"""SYNTHETIC hospitals for :func:`clinai.data.generate_ward_stays` (multi-site mode).

Everything here describes synthetic data: no real hospital and no real patient is
behind any profile or row. The profiles caricature how hospitals of one region
differ, so that validation across hospitals and the pooling of their results
(random-effects meta-analysis) have something to find:

- case mix: the age distribution, the share of medical, surgical and ICU stays,
  the share of patients with hypercapnic respiratory failure;
- the baseline event rate: an odds ratio of an event that the vitals do not
  explain (a hospital's thresholds for ICU transfer, its palliative share);
- measurement habits: how often the nurses observe on the ward;
- the device: an SpO2 monitor brand that reads a few points off.

The relation between physiology and events is the same everywhere (the generator's
physiology is untouched), so a model trained at one hospital transports, with
the miscalibration and loss of discrimination its case mix, baseline rate and
devices cause.

This module imports nothing from the generator; the generator calls
:func:`multi_site_stays` with its own stay-drawing function.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from clinai.exceptions import DataError

__all__ = [
    "REFERENCE_SITE",
    "SYNTHETIC_SITES",
    "SiteProfile",
    "check_sites",
    "multi_site_stays",
    "sites_metadata",
]

BAD_SITES = (
    "generate_ward_stays: sites must be a whole number 2..{most} (the first of the built-in "
    "SYNTHETIC hospitals), or a list of SiteProfile or mappings with their fields; got {value!r}"
)
BAD_SITE_FIELD = "generate_ward_stays: site {name!r}: {field} must be {rule}, got {value!r}"
DUPLICATE_SITE = "generate_ward_stays: site names must be unique; {name!r} comes more than once"
TOO_FEW_STAYS = (
    "generate_ward_stays: n_stays={n_stays} is fewer than the {sites} sites: give every "
    "site at least one stay"
)


@dataclass(frozen=True)
class SiteProfile:
    """One SYNTHETIC hospital: its case mix, baseline event rate and measurement habits.

    Parameters
    ----------
    name : str
        The site's label (the ``site`` column); text without spaces, e.g. ``"B"``.
    weight : float, default 1
        Relative number of stays (``n_stays`` is shared out by weight).
    age_mean, age_sd : float, default 66 and 16
        Normal age distribution (clipped to 18-100 years).
    ward_mix : tuple of float, default (0.45, 0.35, 0.20)
        Shares of medical, surgical and ICU stays (summing to 1).
    hypercapnic_share : float, default 0.08
        Share of patients with hypercapnic respiratory failure (NEWS2 SpO2 scale 2).
    event_odds_ratio : float, default 1
        Odds ratio of an event not explained by age, ward or vitals: the site's
        baseline rate against the reference hospital of the same case mix.
    nursing_hours : float, default 4
        Hours between routine nursing observations on the ward (temperature,
        consciousness, oxygen); ICU and deteriorating patients are observed hourly
        everywhere.
    spo2_offset : float, default 0
        Points the site's SpO2 monitors add to every reading (a device brand).
    description : str
        What the profile caricatures, for the metadata and the docs.
    """

    name: str
    weight: float = 1.0
    age_mean: float = 66.0
    age_sd: float = 16.0
    ward_mix: tuple[float, float, float] = (0.45, 0.35, 0.20)
    hypercapnic_share: float = 0.08
    event_odds_ratio: float = 1.0
    nursing_hours: float = 4.0
    spo2_offset: float = 0.0
    description: str = ""

    @property
    def nursing_minutes(self) -> int:
        """Minutes between routine ward observations."""
        return round(self.nursing_hours * 60)

    def to_dict(self) -> dict[str, Any]:
        """Return the profile as plain JSON-ready data (marked synthetic)."""
        return {**asdict(self), "ward_mix": list(self.ward_mix), "synthetic": True}


#: The single-site generator's case mix (what ``sites=None`` draws from).
REFERENCE_SITE = SiteProfile(name="reference", description="the single-site default")

#: Mean event odds of the reference case mix, relative to a 66-year-old on a ward:
#: E[exp(0.03 (age - 66))] for age ~ N(66, 16) times E[exp(0.8 ICU)] for 20 % ICU stays.
#: A site's event probability is event_rate * event_odds_ratio * odds / REFERENCE_ODDS, so
#: ``event_rate`` is the event share of a site with the reference case mix and odds ratio 1.
REFERENCE_ODDS = math.exp((0.03 * 16.0) ** 2 / 2) * (0.80 + 0.20 * math.exp(0.8))

#: What each built-in hospital caricatures (the profiles' descriptions).
_DESCRIPTIONS = {
    "A": "university hospital, the development site: the reference case mix",
    "B": "regional hospital: older medical patients, more COPD",
    "C": "small hospital: few ICU beds, observations every 6 hours on the ward",
    "D": "surgical centre: younger patients, an SpO2 monitor reading 1 point low",
    "E": "city hospital: more events, a monitor brand reading SpO2 2 points low",
    "F": "hospital with a large ICU: observations every 2 hours on the ward",
}
# name, weight, age mean and SD, ward mix (medical, surgical, ICU), hypercapnic share,
# event odds ratio, hours between ward observations, SpO2 device offset (points)
_SITE_TABLE = (
    ("A", 2.0, 66.0, 16.0, (0.45, 0.35, 0.20), 0.08, 1.00, 4.0, 0.0),
    ("B", 1.0, 73.0, 13.0, (0.60, 0.28, 0.12), 0.12, 1.15, 4.0, 0.0),
    ("C", 1.0, 69.0, 15.0, (0.62, 0.33, 0.05), 0.08, 0.80, 6.0, 0.0),
    ("D", 1.0, 59.0, 17.0, (0.30, 0.55, 0.15), 0.04, 0.90, 4.0, -1.0),
    ("E", 1.0, 67.0, 16.0, (0.45, 0.35, 0.20), 0.08, 1.30, 3.0, -2.0),
    ("F", 1.0, 64.0, 16.0, (0.45, 0.30, 0.25), 0.08, 1.00, 2.0, 1.0),
)
#: The built-in SYNTHETIC hospitals of one region; ``sites=N`` takes the first N.
SYNTHETIC_SITES: tuple[SiteProfile, ...] = tuple(
    SiteProfile(*row, description=_DESCRIPTIONS[row[0]]) for row in _SITE_TABLE
)

_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "name": (lambda v: isinstance(v, str) and v.strip() == v and v != "", "non-empty text"),
    "weight": (lambda v: 0 < v <= 1000, "a number above 0 (at most 1000)"),
    "age_mean": (lambda v: 18 <= v <= 100, "a number of years between 18 and 100"),
    "age_sd": (lambda v: 0 <= v <= 40, "a number of years between 0 and 40"),
    "hypercapnic_share": (lambda v: 0 <= v <= 1, "a share between 0 and 1"),
    "event_odds_ratio": (lambda v: 0.1 <= v <= 10, "a number between 0.1 and 10"),
    "nursing_hours": (lambda v: 0.5 <= v <= 24, "a number of hours between 0.5 and 24"),
    "spo2_offset": (lambda v: -10 <= v <= 10, "a number of points between -10 and 10"),
}


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _check_profile(profile: SiteProfile) -> SiteProfile:
    for name, (rule, text) in _RULES.items():
        value = getattr(profile, name)
        ok = rule(value) if name == "name" else _is_number(value) and rule(float(value))
        if not ok:
            raise DataError(
                BAD_SITE_FIELD.format(name=profile.name, field=name, rule=text, value=value)
            )
    mix = tuple(profile.ward_mix)
    if len(mix) != 3 or not all(_is_number(v) and v >= 0 for v in mix) or abs(sum(mix) - 1) > 1e-9:
        shares = "three shares (medical, surgical, ICU) that sum to 1"
        raise DataError(
            BAD_SITE_FIELD.format(name=profile.name, field="ward_mix", rule=shares, value=mix)
        )
    return profile


def check_sites(sites: object) -> tuple[SiteProfile, ...] | None:
    """Return the sites as checked profiles (``None`` stays ``None``: one site, as before).

    Parameters
    ----------
    sites : int, sequence of SiteProfile or mapping, or None
        ``N`` takes the first ``N`` of :data:`SYNTHETIC_SITES` (2 to 6); a sequence
        gives the profiles (mappings with :class:`SiteProfile`'s fields).

    Raises
    ------
    DataError
        If the count is out of range, a field is out of its range (named), or two
        sites share a name.
    """
    if sites is None:
        return None
    most = len(SYNTHETIC_SITES)
    if isinstance(sites, int | np.integer) and not isinstance(sites, bool):
        if not 2 <= int(sites) <= most:
            raise DataError(BAD_SITES.format(most=most, value=sites))
        return SYNTHETIC_SITES[: int(sites)]
    if isinstance(sites, str | bytes) or not isinstance(sites, Sequence) or len(sites) < 2:
        raise DataError(BAD_SITES.format(most=most, value=sites))
    known = {f.name for f in fields(SiteProfile)}
    profiles = []
    for item in sites:
        if isinstance(item, Mapping):
            if set(item) - known or "name" not in item:
                raise DataError(BAD_SITES.format(most=most, value=dict(item)))
            values = dict(item)
            if "ward_mix" in values:
                values["ward_mix"] = tuple(values["ward_mix"])
            item = SiteProfile(**values)
        if not isinstance(item, SiteProfile):
            raise DataError(BAD_SITES.format(most=most, value=item))
        profiles.append(_check_profile(item))
    names = [p.name for p in profiles]
    for name in names:
        if names.count(name) > 1:
            raise DataError(DUPLICATE_SITE.format(name=name))
    return tuple(profiles)


def _site_counts(n_stays: int, profiles: Sequence[SiteProfile]) -> list[int]:
    """Share ``n_stays`` out by weight (largest remainder), at least one stay per site."""
    if n_stays < len(profiles):
        raise DataError(TOO_FEW_STAYS.format(n_stays=n_stays, sites=len(profiles)))
    weights = np.array([p.weight for p in profiles], dtype=float)
    spare = n_stays - len(profiles)
    exact = spare * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: spare - int(counts.sum())]] += 1
    return [int(c) + 1 for c in counts]


#: Draws one site's stays: (number of stays, its generator, its profile) -> (table, silent).
StayDrawer = Callable[[int, np.random.Generator, SiteProfile], tuple[pd.DataFrame, np.ndarray]]


def multi_site_stays(
    n_stays: int, profiles: Sequence[SiteProfile], seed: int, draw: StayDrawer
) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw each site's stays and stack them, with a ``site`` column after ``ward``.

    Site ``i`` draws from its own generator (seeded ``[seed, 0, i + 1]``), so a site's
    stays do not depend on how many stays the other sites have. Stay numbers run
    through all sites (1..n_stays, site by site); patient numbers are made unique
    across sites (patients of one hospital are not patients of another here).
    """
    tables, silents = [], []
    patients = 0
    counts = _site_counts(n_stays, profiles)
    for index, (profile, count) in enumerate(zip(profiles, counts, strict=True)):
        table, silent = draw(count, np.random.default_rng([seed, 0, index + 1]), profile)
        table = table.assign(patient_id=table["patient_id"] + patients)
        patients = int(table["patient_id"].max())
        position = list(table.columns).index("ward") + 1
        table.insert(position, "site", pd.Series(profile.name, index=table.index, dtype="string"))
        tables.append(table)
        silents.append(silent)
    stays = pd.concat(tables, ignore_index=True)
    stays["stay_id"] = np.arange(1, len(stays) + 1, dtype=np.int64)
    return stays, np.concatenate(silents)


def sites_metadata(profiles: Sequence[SiteProfile]) -> bytes:
    """Return the profiles as JSON for the Parquet metadata (``clinai.sites``)."""
    return json.dumps([p.to_dict() for p in profiles], sort_keys=True).encode()
