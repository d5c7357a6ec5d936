"""The survival use cases keep every patient; their outcome is checked before any write."""

from __future__ import annotations

import pandas as pd
import pytest

from clinai import data
from clinai.config import load_config, parse_config
from clinai.exceptions import DataError
from clinai.runs import load_pipeline
from clinai.runs._survival_outcome import survival_outcome
from tests._helpers import ROOT

# (pipeline, dataset, horizon in days, patients, deaths, deaths by the horizon, censored before
# it): as published (Hosmer et al. 2008; R survival's colon, death records).
SURVIVAL_USE_CASES = [
    ("ami_1y_mortality", "sksurv/whas500", 365, 500, 215, 138, 0),
    ("colon_5y_mortality", "survival/colon", 1826, 929, 452, 404, 14),
]


def _cohort(name: str, dataset: str) -> tuple[object, pd.DataFrame]:
    pipeline = load_pipeline(name, base_dir=ROOT)
    raw = data.load_dataset(dataset)
    cohort, _ = data.apply_exclusions(raw, pipeline.exclusions(raw))
    return pipeline, cohort


@pytest.mark.parametrize(
    ("name", "dataset", "horizon", "n", "deaths", "by_horizon", "censored"), SURVIVAL_USE_CASES
)
def test_every_patient_is_kept_with_time_and_event(
    name: str, dataset: str, horizon: int, n: int, deaths: int, by_horizon: int, censored: int
) -> None:
    pipeline, cohort = _cohort(name, dataset)
    outcome = pipeline.outcome(cohort)
    assert list(outcome.columns) == ["time", "event"]
    assert len(outcome) == len(cohort) == n == pipeline.METADATA["n"]
    assert int(outcome["event"].sum()) == deaths == pipeline.METADATA["events"]
    assert set(outcome["event"].unique()) == {0, 1}
    assert (outcome["time"] > 0).all()
    # the documented outcome definition (docs/datasets.md): events and censoring at the horizon
    assert ((outcome["event"] == 1) & (outcome["time"] <= horizon)).sum() == by_horizon
    assert ((outcome["event"] == 0) & (outcome["time"] < horizon)).sum() == censored
    # the config validates the horizon the pipeline documents
    config = load_config(ROOT / "configs" / f"{name}.yaml")
    assert config.is_survival and config.outcome.horizons == [float(pipeline.HORIZON_DAYS)]
    assert horizon == pipeline.HORIZON_DAYS
    # the card's words: the English time unit says the horizon in years
    assert pipeline.METADATA["time_unit"] == "days" and pipeline.METADATA_DA["event_phrase"]


def test_colon_keeps_the_patients_censored_before_five_years() -> None:
    pipeline, cohort = _cohort("colon_5y_mortality", "survival/colon")
    outcome = pipeline.outcome(cohort)
    assert ((outcome["event"] == 0) & (outcome["time"] < 5 * 365.25)).sum() == 14
    assert cohort["id"].nunique() == len(cohort)


def _config(**outcome: object) -> object:
    return parse_config(
        {
            "experiment": "t",
            "pipeline": "p",
            "data": {"source": {"type": "bundled", "name": "x"}},
            "outcome": {"type": "survival", "horizons": [10], **outcome},
        }
    )


GOOD = {"time": [5.0, 12.0, 20.0, 3.0], "event": [1, 0, 1, 0]}


@pytest.mark.parametrize(
    ("frame", "outcome", "needle"),
    [
        ({"time": [5.0, 12.0]}, {}, "must return a frame with columns 'time' and 'event'"),
        ({**GOOD, "time": [5.0, -1.0, 20.0, 3.0]}, {}, "1 missing, negative or non-numeric"),
        ({**GOOD, "time": [5.0, None, 20.0, 3.0]}, {}, "1 missing, negative or non-numeric"),
        ({**GOOD, "event": [1, 2, 1, 0]}, {}, "holds 2, not in outcome.event_codes"),
        ({"time": [1, 0, 1, 0], "event": [5.0, 12.0, 20.0, 3.0]}, {}, "look swapped"),
        ({"time": [0.0] * 4, "event": [1, 0, 1, 0]}, {}, "is 0 for every patient"),
        (GOOD, {"horizons": [25]}, "not before the last follow-up (20)"),
        ({**GOOD, "event": [0, 1, 1, 0]}, {"horizons": [8]}, "no events up to outcome.horizons 8"),
    ],
)
def test_bad_survival_outcome_is_one_line(frame: dict, outcome: dict, needle: str) -> None:
    table = pd.DataFrame(frame)
    with pytest.raises(DataError) as info:
        survival_outcome(_config(**outcome), table, len(table))
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_event_codes_recode_to_zero_one() -> None:
    table = pd.DataFrame({"time": [5.0, 12.0, 20.0], "event": [2, 1, 2]})
    time, event = survival_outcome(
        _config(event_codes={"censored": 1, "event": 2}), table, len(table)
    )
    assert event.tolist() == [1, 0, 1] and time.tolist() == [5.0, 12.0, 20.0]
