"""Multi-site mode of the SYNTHETIC ward-stay generator: hospitals that differ as designed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from clinai.data._synthetic_sites import (
    BAD_SITE_FIELD,
    BAD_SITES,
    DUPLICATE_SITE,
    SYNTHETIC_SITES,
    TOO_FEW_STAYS,
    SiteProfile,
)
from clinai.data._synthetic_vitals import generate_ward_stays
from clinai.exceptions import DataError

#: Two caricatures far apart, so that 60 stays each show every designed difference
#: (name, weight, age mean and SD, ward mix, hypercapnic share, odds ratio, nursing hours,
#: SpO2 offset).
OLD = SiteProfile("old", 1, 80, 6, (0.9, 0.1, 0.0), 0.3, 2.0, 8)
YOUNG = SiteProfile("young", 1, 45, 8, (0.2, 0.4, 0.4), 0.0, 0.5, 2, -3.0)


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory):
    out = tmp_path_factory.mktemp("sites")
    result = generate_ward_stays(
        120, seed=3, out_dir=out, minutes_per_row=15, event_rate=0.2, sites=[OLD, YOUNG]
    )
    return result, pd.read_parquet(result.stays_path), pd.read_parquet(result.vitals_path)


def test_sites_differ_in_case_mix_as_designed(two_sites) -> None:
    result, stays, _ = two_sites
    assert result.sites == ("old", "young")
    by_site = stays.groupby("site")
    assert by_site.size().to_dict() == {"old": 60, "young": 60}
    age = by_site["age"].mean()
    assert age["old"] > 75 and age["young"] < 52
    icu = by_site["ward"].apply(lambda w: (w == "icu").mean())
    assert icu["old"] == 0 and icu["young"] > 0.25
    assert by_site["hypercapnic"].mean()["young"] == 0
    assert by_site["hypercapnic"].mean()["old"] > 0.15
    events = by_site["event"].apply(lambda e: e.notna().mean())
    assert events["old"] > events["young"] + 0.15


def test_nursing_rhythm_and_spo2_device_differ(two_sites) -> None:
    _, stays, vitals = two_sites
    rows = vitals.merge(stays[["stay_id", "site", "ward", "end_time"]], on="stay_id")
    ward = rows[rows["ward"] != "icu"]
    hours = stays.set_index("stay_id")["end_time"] - stays.set_index("stay_id")["admission_time"]
    ward_hours = hours[stays.set_index("stay_id")["ward"] != "icu"] / pd.Timedelta(hours=1)
    temps = ward[ward["parameter"] == "temperature"].groupby("site").size()
    per_hour = temps / ward_hours.groupby(stays.set_index("stay_id")["site"]).sum()
    # every 8 h against every 2 h on the ward (hourly for everyone while deteriorating)
    assert per_hour["young"] > 2.5 * per_hour["old"]
    # well away from any event, the young site's monitor reads 3 points low (hypercapnic
    # patients, all at the old site, are left out: they run lower anyway)
    calm = rows[(rows["end_time"] - rows["time"]) > pd.Timedelta(hours=30)]
    calm = calm[calm["parameter"] == "spo2"].merge(stays[["stay_id", "hypercapnic"]])
    median = calm[~calm["hypercapnic"] & (calm["value"] > 50)].groupby("site")["value"].median()
    assert 2 <= median["old"] - median["young"] <= 5


def test_site_column_metadata_and_identifiers(two_sites) -> None:
    result, stays, vitals = two_sites
    columns = list(stays.columns)
    assert columns[columns.index("ward") + 1] == "site"
    assert stays["stay_id"].tolist() == list(range(1, 121))
    old, young = (set(stays.loc[stays["site"] == s, "patient_id"]) for s in ("old", "young"))
    assert not old & young
    assert set(vitals["stay_id"]) <= set(stays["stay_id"])
    for path in (result.stays_path, result.vitals_path):
        metadata = pq.read_schema(path).metadata
        assert metadata[b"synthetic"] == b"true"
        profiles = json.loads(metadata[b"clinai.sites"])
        assert [p["name"] for p in profiles] == ["old", "young"]
        assert all(p["synthetic"] is True for p in profiles)
    assert result.to_dict()["sites"] == ["old", "young"]
    assert stays["synthetic"].all() and vitals["synthetic"].all()


def test_built_in_sites_by_number_and_weight(tmp_path: Path) -> None:
    result = generate_ward_stays(15, seed=1, out_dir=tmp_path, minutes_per_row=60, sites=3)
    stays = pd.read_parquet(result.stays_path)
    # A weighs 2, B and C 1 each: 15 = 1 + 1 + 1 spare-shared 6/3/3 (largest remainder)
    assert stays["site"].value_counts().to_dict() == {"A": 7, "B": 4, "C": 4}
    assert [s.name for s in SYNTHETIC_SITES[:3]] == list(result.sites)
    again = generate_ward_stays(15, seed=1, out_dir=tmp_path / "b", minutes_per_row=60, sites=3)
    assert again.stays_path.read_bytes() == result.stays_path.read_bytes()
    assert again.vitals_path.read_bytes() == result.vitals_path.read_bytes()


def test_no_sites_is_the_single_site_output(tmp_path: Path) -> None:
    # the pinned digests of tests/data/test_synthetic_drift.py guard the default itself
    plain = generate_ward_stays(4, seed=9, out_dir=tmp_path / "a", minutes_per_row=30)
    none = generate_ward_stays(4, seed=9, out_dir=tmp_path / "b", minutes_per_row=30, sites=None)
    for name in ("stays_path", "vitals_path"):
        assert getattr(plain, name).read_bytes() == getattr(none, name).read_bytes()
        assert b"clinai.sites" not in pq.read_schema(getattr(plain, name)).metadata
    assert "site" not in pd.read_parquet(plain.stays_path).columns
    assert "sites" not in plain.to_dict()


@pytest.mark.parametrize(
    ("sites", "n_stays", "message"),
    [
        (1, 10, BAD_SITES.format(most=6, value=1)),
        (7, 10, BAD_SITES.format(most=6, value=7)),
        ("AB", 10, BAD_SITES.format(most=6, value="AB")),
        ([{"name": "x", "beds": 3}, {"name": "y"}], 10, None),
        ([OLD, OLD], 10, DUPLICATE_SITE.format(name="old")),
        (
            [{"name": "x", "age_mean": 5}, {"name": "y"}],
            10,
            BAD_SITE_FIELD.format(
                name="x", field="age_mean", rule="a number of years between 18 and 100", value=5
            ),
        ),
        (
            [{"name": "x", "ward_mix": [0.5, 0.5, 0.5]}, {"name": "y"}],
            10,
            BAD_SITE_FIELD.format(
                name="x",
                field="ward_mix",
                rule="three shares (medical, surgical, ICU) that sum to 1",
                value=(0.5, 0.5, 0.5),
            ),
        ),
        (3, 2, TOO_FEW_STAYS.format(n_stays=2, sites=3)),
    ],
)
def test_bad_sites_say_what_to_fix(
    tmp_path: Path, sites: object, n_stays: int, message: str | None
) -> None:
    with pytest.raises(DataError, match=re.escape(message) if message else "sites must be"):
        generate_ward_stays(n_stays, seed=1, out_dir=tmp_path, sites=sites)
