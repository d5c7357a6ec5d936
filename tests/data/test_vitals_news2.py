"""NEWS2 at prediction times from the last observations (news2_at)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from clinai.data._news2 import NEWS2_COMPONENTS, news2
from clinai.data._vitals_news2 import BAD_MAX_AGE, NO_SCALE_COLUMN, news2_at
from clinai.exceptions import DataError

T = pd.Timestamp("2024-01-01 10:00")
VALUES = [24, 95, 0, 105, 112, 0, 38.3]  # in NEWS2_COMPONENTS order: 2+1+0+1+2+0+1 = 7


def _vitals(when: pd.Timestamp, values=VALUES, stay: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {"stay_id": stay, "time": when, "parameter": list(NEWS2_COMPONENTS), "value": values}
    )


def test_uses_the_last_observations_before_the_prediction_time() -> None:
    vitals = pd.concat(
        [
            _vitals(T - pd.Timedelta("3h"), [12, 98, 0, 130, 70, 0, 37.0]),
            _vitals(T - pd.Timedelta("30min")),
            _vitals(T, [30, 85, 1, 80, 140, 4, 34.0]),  # at the prediction time: not used
            _vitals(T + pd.Timedelta("1s"), [30, 85, 1, 80, 140, 4, 34.0]),
        ]
    )
    preds = pd.DataFrame({"stay_id": [1], "prediction_time": [T]})
    got = news2_at(vitals, preds)
    expected = news2(pd.DataFrame([dict(zip(NEWS2_COMPONENTS, VALUES, strict=True))]))
    assert got["news2"].tolist() == expected["news2"].tolist() == [7.0]
    assert got["resp_rate"].tolist() == [24.0]


def test_stale_observations_are_not_used() -> None:
    vitals = _vitals(T - pd.Timedelta("5h"))
    preds = pd.DataFrame({"stay_id": [1, 2], "prediction_time": [T, T]})
    got = news2_at(vitals, preds, max_age="4h")
    assert np.isnan(got["news2"]).all()
    assert got["news2_components_missing"].tolist() == [7, 7]
    assert news2_at(vitals, preds, max_age="6h")["news2"].iloc[0] == 7.0


def test_scale_2_per_row() -> None:
    vitals = pd.concat(
        [_vitals(T - pd.Timedelta("1h"), [16, 97, 1, 120, 70, 0, 37.0], stay=s) for s in (1, 2)]
    )
    preds = pd.DataFrame({"stay_id": [1, 2], "prediction_time": [T, T], "spo2_scale": [1, 2]})
    # on oxygen: 2 points; SpO2 97 scores 0 on scale 1 and 3 on scale 2
    assert news2_at(vitals, preds, spo2_scale="column")["news2"].tolist() == [2.0, 5.0]


def test_bad_arguments() -> None:
    preds = pd.DataFrame({"stay_id": [1], "prediction_time": [T]})
    with pytest.raises(DataError, match=re.escape(BAD_MAX_AGE.format(value="soon"))):
        news2_at(_vitals(T), preds, max_age="soon")
    with pytest.raises(DataError, match=re.escape(NO_SCALE_COLUMN)):
        news2_at(_vitals(T), preds, spo2_scale="column")
