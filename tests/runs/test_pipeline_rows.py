"""A pipeline function returns one row per cohort row, in the cohort's order.

The later stages take the outcome, features and attributes by position. Before this check an
``outcome()`` three rows short ran through ``check-data`` without a word, a ``features()`` that
sorted its rows paired every patient with another patient's outcome, and a one-column table
from ``outcome()`` ended in "internal error: ValueError: 2". Data: SYNTHETIC (40 rows).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clinai.config import parse_config
from clinai.exceptions import PipelineError
from clinai.runs._prepare import load_cohort

PIPELINE = """
import pandas as pd

METADATA = {{"title": "t", "setting": "acute", "dataset": "d", "outcome": "o",
            "prediction_time": "p", "intended_use": "u"}}

def exclusions(raw):
    return [("first two rows", raw.index < 2)]

def outcome(cohort):
    return {outcome}

def features(cohort):
    return {features}

def sensitive_attributes(cohort):
    return cohort[["sex"]]
"""
GOOD_OUTCOME = '(cohort["status"] == "dead").astype(int)'
GOOD_FEATURES = 'cohort[["age", "marker"]]'


def _cohort(
    tmp_path: Path,
    outcome: str = GOOD_OUTCOME,
    features: str = GOOD_FEATURES,
    survival: bool = False,
):
    rng = np.random.default_rng(7)
    n = 40
    frame = pd.DataFrame(
        {
            "pid": np.arange(1000, 1000 + n),
            "age": rng.integers(20, 90, n),
            "marker": rng.normal(size=n),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    # the outcome follows age exactly, so any pairing of rows with other rows shows
    frame["status"] = np.where(frame["age"] > 55, "dead", "alive")
    frame.to_csv(tmp_path / "data.csv", index=False)
    pipeline = tmp_path / "rows_case.py"
    pipeline.write_text(PIPELINE.format(outcome=outcome, features=features), encoding="utf-8")
    config = parse_config(
        {
            "experiment": "rows",
            "pipeline": str(pipeline),
            "data": {
                "source": {"type": "csv", "path": str(tmp_path / "data.csv")},
                "patient_id": "pid",
            },
            "evaluation": {"sensitive_attributes": ["sex"]},
            **({"outcome": {"type": "survival", "horizons": [800]}} if survival else {}),
        }
    )
    return load_cohort(config)


def test_a_well_formed_pipeline_keeps_its_rows(tmp_path: Path) -> None:
    cohort = _cohort(tmp_path)
    assert len(cohort.X) == len(cohort.y) == len(cohort.sensitive) == 38
    assert np.array_equal(np.asarray(cohort.y), (cohort.X["age"] > 55).astype(int).to_numpy())


def test_sorted_features_are_put_back_in_the_cohorts_order(tmp_path: Path) -> None:
    cohort = _cohort(tmp_path, features='cohort[["age", "marker"]].sort_values("marker")')
    # by position, every outcome belongs to the feature row beside it
    assert np.array_equal(np.asarray(cohort.y), (cohort.X["age"] > 55).astype(int).to_numpy())


def test_a_sorted_survival_outcome_is_put_back_in_the_cohorts_order(tmp_path: Path) -> None:
    outcome = (
        'pd.DataFrame({"time": cohort["age"] * 10.0, "event": (cohort["status"] == "dead")'
        '.astype(int)}).sort_values("time")'
    )
    cohort = _cohort(tmp_path, outcome=outcome, survival=True)
    assert np.allclose(np.asarray(cohort.time), cohort.X["age"].to_numpy() * 10.0)
    assert np.array_equal(np.asarray(cohort.y), (cohort.X["age"] > 55).astype(int).to_numpy())


@pytest.mark.parametrize(
    ("outcome", "features", "message"),
    [
        (GOOD_OUTCOME + ".iloc[:-3]", GOOD_FEATURES, r"outcome\(\) .* returned 35 rows for the 38"),
        (GOOD_OUTCOME, GOOD_FEATURES + ".iloc[1:]", r"features\(\) .* returned 37 rows for the 38"),
        (GOOD_OUTCOME + ".to_frame()", GOOD_FEATURES, r"outcome\(\) .* a table of 1 column"),
        (GOOD_OUTCOME, '"age"', r"features\(\) .* returned a str: return a pandas DataFrame"),
        (
            GOOD_OUTCOME,
            'pd.concat([cohort[["age"]], cohort[["age", "marker"]]], axis=1)',
            r"features\(\) .* returned the column\(s\) 'age' more than once",
        ),
    ],
)
def test_a_result_of_another_shape_stops_in_one_line(
    tmp_path: Path, outcome: str, features: str, message: str
) -> None:
    with pytest.raises(PipelineError, match=message):
        _cohort(tmp_path, outcome=outcome, features=features)
