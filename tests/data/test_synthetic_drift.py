"""SYNTHETIC generator drift scenarios: each changes what it should, from its onset month.

Every scenario is compared with the same seed's data without a scenario: stays admitted (and, for
the monitor brand, readings taken) before the onset month must be identical; from the onset the
planted shift must be there.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from clinai.data._synthetic_vitals import (
    BAD_SCENARIO_KIND,
    BAD_SCENARIO_ONSET,
    BAD_SCENARIO_SIZE,
    BAD_SCENARIO_TYPE,
    DRIFT_SCENARIOS,
    DriftScenario,
    generate_ward_stays,
)
from clinai.exceptions import DataError

N_STAYS = 400
OPTIONS = {"seed": 3, "minutes_per_row": 30, "event_rate": 0.3, "start": "2025-01-01"}
ONSET = pd.Timestamp("2025-04-01")  # month 4 from the start
# A content digest of the generator's output before scenarios existed (seed 7, 30 stays,
# 10-minute rows; the first with the default event rate, the second with 0.3).
TODAY = {
    0.12: "31dfc29ca3ca98c8e9080f79f78fa1cb6ca2d6dd2e7059f721985bc9c06d3f0f",
    0.3: "dab82402c2624dacc6002d3abbf40d8d121c5ab50c588f329e051e7af82a6f50",
}


def _read(result) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_parquet(result.stays_path), pd.read_parquet(result.vitals_path)


def _generate(out: Path, scenario=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    return _read(generate_ward_stays(N_STAYS, out_dir=out, scenario=scenario, **OPTIONS))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    return _generate(tmp_path_factory.mktemp("baseline"))


@pytest.fixture(scope="module")
def drifted(tmp_path_factory):
    """Each scenario's data, generated once (onset month 4, the kind's default size)."""
    cache: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}

    def get(kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        if kind not in cache:
            scenario = {"kind": kind, "onset_month": 4}
            cache[kind] = _generate(tmp_path_factory.mktemp(kind), scenario)
        return cache[kind]

    return get


def _before(stays: pd.DataFrame, vitals: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    early = stays[stays["admission_time"] < ONSET]
    early_vitals = vitals[vitals["stay_id"].isin(early["stay_id"])]
    return early.reset_index(drop=True), early_vitals.reset_index(drop=True)


@pytest.mark.parametrize("event_rate", sorted(TODAY))
def test_no_scenario_is_todays_output(tmp_path: Path, event_rate: float) -> None:
    result = generate_ward_stays(
        30, seed=7, out_dir=tmp_path / "a", minutes_per_row=10, event_rate=event_rate
    )
    digest = hashlib.sha256()
    for frame in _read(result):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    assert digest.hexdigest() == TODAY[event_rate]
    again = generate_ward_stays(
        30, seed=7, out_dir=tmp_path / "b", minutes_per_row=10, event_rate=event_rate, scenario=None
    )
    for name in ("stays_path", "vitals_path"):
        assert getattr(again, name).read_bytes() == getattr(result, name).read_bytes()
        assert b"clinai.scenario" not in pq.read_schema(getattr(result, name)).metadata


@pytest.mark.parametrize("kind", list(DRIFT_SCENARIOS))
def test_nothing_changes_before_the_onset(baseline, drifted, kind: str) -> None:
    stays, vitals = drifted(kind)
    base_stays, base_vitals = _before(*baseline)
    early_stays, early_vitals = _before(stays, vitals)
    pd.testing.assert_frame_equal(early_stays, base_stays)
    if kind == "spo2_offset":  # a device change reaches stays admitted earlier, from the onset
        early_vitals = early_vitals[early_vitals["time"] < ONSET]
        base_vitals = base_vitals[base_vitals["time"] < ONSET]
    pd.testing.assert_frame_equal(early_vitals, base_vitals)
    assert len(early_stays) > N_STAYS * 0.15  # there is something before the onset to compare


def test_spo2_offset_lowers_only_spo2_from_the_onset(baseline, drifted) -> None:
    base_stays, base_vitals = baseline
    stays, vitals = drifted("spo2_offset")
    pd.testing.assert_frame_equal(stays, base_stays)  # the patients are the same
    spo2 = vitals["parameter"] == "spo2"
    keys = ["stay_id", "time", "parameter", "synthetic"]
    pd.testing.assert_frame_equal(vitals[keys], base_vitals[keys])
    pd.testing.assert_frame_equal(vitals[~spo2], base_vitals[~spo2])
    change = (vitals["value"] - base_vitals["value"])[spo2]
    after = vitals.loc[spo2, "time"] >= ONSET
    assert (change[~after] == 0).all()
    assert change[after].median() == -2  # 2 points low (saturated readings lose less)
    assert (change[after] <= 0).all()


def test_older_case_mix_ages_the_stays_admitted_from_the_onset(baseline, drifted) -> None:
    base_stays, _ = baseline
    stays, _ = drifted("older_case_mix")
    late = stays["admission_time"] >= ONSET
    expected = np.clip(base_stays["age"] + 10, 18, 100)
    assert (stays.loc[late, "age"] == expected[late]).all()
    for column in ("stay_id", "patient_id", "admission_time", "sex", "ward", "hypercapnic"):
        pd.testing.assert_series_equal(stays[column], base_stays[column])
    # older patients have more events (the risk follows age as before)
    assert stays.loc[late, "event"].notna().sum() > base_stays.loc[late, "event"].notna().sum()


@pytest.mark.parametrize("kind", ["rising_event_rate", "oe_shift"])
def test_more_events_from_the_onset_keeping_the_baseline_events(baseline, drifted, kind) -> None:
    base_stays, _ = baseline
    stays, _ = drifted(kind)
    late = (stays["admission_time"] >= ONSET).to_numpy()
    events, base_events = stays["event"].notna(), base_stays["event"].notna()
    assert not (base_events & ~events).any()  # every baseline event is still there
    added = events & ~base_events
    assert added[late].sum() > 0.1 * base_events[late].sum()
    assert not added[~late].any()
    if kind == "rising_event_rate":  # the odds rise month by month: later months gain more
        month = stays["admission_time"].dt.month
        gained = added.groupby(month).sum() / base_events.groupby(month).sum().clip(lower=1)
        assert gained.loc[10:].mean() > gained.loc[4:6].mean()


def test_oe_shift_adds_events_without_warning_signs(baseline, drifted) -> None:
    base_stays, _ = baseline
    stays, vitals = drifted("oe_shift")
    late = stays["admission_time"] >= ONSET
    ratio = stays.loc[late, "event"].notna().sum() / base_stays.loc[late, "event"].notna().sum()
    assert 1.15 < ratio < 1.45  # about the planted 1.3
    added = stays["event"].notna() & base_stays["event"].isna()
    announced = stays["event"].notna() & ~added
    hr = vitals[vitals["parameter"] == "heart_rate"].merge(stays[["stay_id", "end_time"]])
    last_hour = hr[hr["time"] >= hr["end_time"] - pd.Timedelta(hours=1)]
    median = last_hour.groupby("stay_id")["value"].median()
    ids = stays["stay_id"]
    assert median[ids[added]].median() < median[ids[announced]].median() - 15


def test_the_scenario_is_in_the_provenance(tmp_path: Path) -> None:
    scenario = DriftScenario("spo2_offset", onset_month=2, size=-3.0)
    result = generate_ward_stays(5, seed=1, out_dir=tmp_path, minutes_per_row=30, scenario=scenario)
    for path in (result.stays_path, result.vitals_path):
        metadata = pq.read_schema(path).metadata
        assert metadata[b"synthetic"] == b"true"
        assert json.loads(metadata[b"clinai.scenario"]) == {
            "kind": "spo2_offset",
            "onset_month": 2,
            "size": -3.0,
            "synthetic": True,
        }
    assert "SYNTHETIC" in DriftScenario.__doc__


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        (
            {"kind": "spo2_ofset"},
            BAD_SCENARIO_KIND.format(
                valid=", ".join(DRIFT_SCENARIOS),
                value="spo2_ofset",
                hint=" (did you mean 'spo2_offset'?)",
            ),
        ),
        ({"kind": "oe_shift", "onset_month": 13}, BAD_SCENARIO_ONSET.format(value=13)),
        (DriftScenario("oe_shift", onset_month=0), BAD_SCENARIO_ONSET.format(value=0)),
        (
            {"kind": "oe_shift", "size": 0.5},
            BAD_SCENARIO_SIZE.format(
                kind="oe_shift", rule=DRIFT_SCENARIOS["oe_shift"][2], value=0.5
            ),
        ),
        (
            {"kind": "oe_shift", "month": 4},
            BAD_SCENARIO_TYPE.format(value={"kind": "oe_shift", "month": 4}),
        ),
        ("oe_shift", BAD_SCENARIO_TYPE.format(value="oe_shift")),
    ],
)
def test_bad_scenarios_name_the_field(scenario, message: str) -> None:
    with pytest.raises(DataError, match=re.escape(message)):
        generate_ward_stays(2, seed=1, out_dir="unused", scenario=scenario)
