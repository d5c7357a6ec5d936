"""NEWS2 against the Royal College of Physicians 2017 chart: every band edge, both sides."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from clinai.data._news2 import BAD_CONSCIOUSNESS, MISSING_COLUMNS, NEWS2_COMPONENTS, news2
from clinai.data._news2 import news2_component as component
from clinai.exceptions import DataError

# (value, expected score) at each edge of the RCP chart, read off the printed chart.
RESP_RATE = [(8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3)]
SPO2_SCALE1 = [(91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)]
SBP = [(90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3)]
PULSE = [
    (40, 3),
    (41, 1),
    (50, 1),
    (51, 0),
    (90, 0),
    (91, 1),
    (110, 1),
    (111, 2),
    (130, 2),
    (131, 3),
]
TEMPERATURE = [
    (35.0, 3),
    (35.1, 1),
    (36.0, 1),
    (36.1, 0),
    (38.0, 0),
    (38.1, 1),
    (39.0, 1),
    (39.1, 2),
]
# Scale 2: (SpO2, on oxygen, score)
SPO2_SCALE2 = [
    (83, 0, 3),
    (84, 0, 2),
    (85, 0, 2),
    (86, 0, 1),
    (87, 0, 1),
    (88, 0, 0),
    (92, 0, 0),
    (93, 0, 0),
    (97, 0, 0),
    (100, 0, 0),
    (83, 1, 3),
    (84, 1, 2),
    (85, 1, 2),
    (86, 1, 1),
    (87, 1, 1),
    (88, 1, 0),
    (92, 1, 0),
    (93, 1, 1),
    (94, 1, 1),
    (95, 1, 2),
    (96, 1, 2),
    (97, 1, 3),
    (100, 1, 3),
]

NORMAL = {
    "resp_rate": 16,
    "spo2": 98,
    "supplemental_oxygen": 0,
    "sbp": 120,
    "heart_rate": 70,
    "consciousness": "A",
    "temperature": 37.0,
}


def _one(**changes: object) -> pd.DataFrame:
    return pd.DataFrame([{**NORMAL, **changes}])


@pytest.mark.parametrize(
    ("name", "edges"),
    [
        ("resp_rate", RESP_RATE),
        ("spo2_scale1", SPO2_SCALE1),
        ("sbp", SBP),
        ("heart_rate", PULSE),
        ("temperature", TEMPERATURE),
    ],
)
def test_every_band_edge_of_each_numeric_parameter(name, edges) -> None:
    values = [value for value, _ in edges]
    assert component(name, values).tolist() == [float(score) for _, score in edges]


@pytest.mark.parametrize(
    ("name", "edges"),
    [
        ("resp_rate", RESP_RATE),
        ("sbp", SBP),
        ("heart_rate", PULSE),
        ("temperature", TEMPERATURE),
    ],
)
def test_band_edges_through_news2(name, edges) -> None:
    frame = pd.concat([_one(**{name: value}) for value, _ in edges], ignore_index=True)
    result = news2(frame)
    assert result[f"news2_{name}"].tolist() == [float(score) for _, score in edges]
    # everything else is normal, so the total equals the component
    assert result["news2"].tolist() == [float(score) for _, score in edges]


def test_spo2_scale1_edges_through_news2() -> None:
    frame = pd.concat([_one(spo2=v) for v, _ in SPO2_SCALE1], ignore_index=True)
    assert news2(frame)["news2_spo2"].tolist() == [float(s) for _, s in SPO2_SCALE1]


def test_spo2_scale2_edges_on_air_and_oxygen() -> None:
    frame = pd.concat(
        [_one(spo2=v, supplemental_oxygen=o) for v, o, _ in SPO2_SCALE2], ignore_index=True
    )
    result = news2(frame, spo2_scale=2)
    assert result["news2_spo2"].tolist() == [float(s) for _, _, s in SPO2_SCALE2]
    # the oxygen component is scored on its own, on both scales
    assert result["news2_supplemental_oxygen"].tolist() == [2.0 * o for _, o, _ in SPO2_SCALE2]


def test_spo2_scale_per_row_from_a_column() -> None:
    frame = pd.concat([_one(spo2=97, supplemental_oxygen=1)] * 2, ignore_index=True)
    frame["spo2_scale"] = [1, 2]
    assert news2(frame, spo2_scale="column")["news2_spo2"].tolist() == [0.0, 3.0]


@pytest.mark.parametrize(
    ("level", "score"),
    [
        ("A", 0),
        ("C", 3),
        ("V", 3),
        ("P", 3),
        ("U", 3),
        ("alert", 0),
        ("new confusion", 3),
        (0, 0),
        (1, 3),
        (4, 3),
    ],
)
def test_consciousness_acvpu_new_confusion_scores_3(level, score) -> None:
    assert news2(_one(consciousness=level))["news2_consciousness"].tolist() == [float(score)]


def test_air_or_oxygen() -> None:
    result = news2(pd.concat([_one(supplemental_oxygen=0), _one(supplemental_oxygen=1)]))
    assert result["news2_supplemental_oxygen"].tolist() == [0.0, 2.0]


def test_rounding_to_chart_precision_half_up() -> None:
    assert component("resp_rate", [20.4, 20.5]).tolist() == [0.0, 2.0]
    assert component("temperature", [35.04, 35.05, 38.05]).tolist() == [3.0, 1.0, 1.0]


def test_worked_totals() -> None:
    frame = pd.DataFrame(
        [
            NORMAL,
            # RR 24 (2), SpO2 93 (2), oxygen (2), SBP 105 (1), pulse 115 (2), C (3), 38.4 (1)
            {
                "resp_rate": 24,
                "spo2": 93,
                "supplemental_oxygen": 1,
                "sbp": 105,
                "heart_rate": 115,
                "consciousness": "C",
                "temperature": 38.4,
            },
            # every component at its maximum: 3 + 3 + 2 + 3 + 3 + 3 + 3 (34.0 degC) = 20
            {
                "resp_rate": 30,
                "spo2": 85,
                "supplemental_oxygen": 1,
                "sbp": 80,
                "heart_rate": 140,
                "consciousness": "U",
                "temperature": 34.0,
            },
            # RR 22 (2), SpO2 95 (1), air, SBP 112 (0), pulse 95 (1), A, 38.2 (1) = 5
            {
                "resp_rate": 22,
                "spo2": 95,
                "supplemental_oxygen": 0,
                "sbp": 112,
                "heart_rate": 95,
                "consciousness": "A",
                "temperature": 38.2,
            },
        ]
    )
    result = news2(frame)
    assert result["news2"].tolist() == [0.0, 13.0, 20.0, 5.0]
    assert result["news2_any_3"].tolist() == [False, True, True, False]


def test_worked_total_scale2_copd_patient() -> None:
    # COPD on 2 L oxygen, SpO2 96 (scale 2: 2), oxygen 2, RR 23 (2), rest normal = 6
    frame = _one(spo2=96, supplemental_oxygen=1, resp_rate=23)
    assert news2(frame, spo2_scale=2)["news2"].tolist() == [6.0]
    assert news2(frame, spo2_scale=1)["news2"].tolist() == [4.0]


def test_missing_component_gives_missing_total_and_partial_sum() -> None:
    result = news2(_one(temperature=np.nan, heart_rate=135))
    assert np.isnan(result["news2"].iloc[0])
    assert result["news2_components_missing"].iloc[0] == 1
    assert result["news2_partial"].iloc[0] == 3.0


def test_bad_input_errors_name_the_column() -> None:
    frame = _one().drop(columns=["sbp"])
    needed = list(NEWS2_COMPONENTS)
    with pytest.raises(
        DataError, match=re.escape(MISSING_COLUMNS.format(missing=["sbp"], needed=needed))
    ):
        news2(frame)
    with pytest.raises(DataError, match=re.escape(BAD_CONSCIOUSNESS.format(value="sleepy"))):
        news2(_one(consciousness="sleepy"))


def test_numeric_consciousness_codes_are_validated() -> None:
    frame = pd.concat([_one(consciousness=0.0), _one(consciousness=np.nan)], ignore_index=True)
    result = news2(frame)
    assert result["news2_consciousness"].iloc[0] == 0.0
    assert np.isnan(result["news2_consciousness"].iloc[1])
    with pytest.raises(DataError, match=re.escape(BAD_CONSCIOUSNESS.format(value=7.0))):
        news2(_one(consciousness=7.0))
