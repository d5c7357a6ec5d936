from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from clinai.data import summarise_population
from clinai.exceptions import DataError


@pytest.fixture
def cohort() -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    n = 100
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "age": np.arange(n, dtype=float) + 20,  # 20..119: quartiles are known
            "ward": ["A"] * 60 + ["B"] * 37 + ["C"] * 3,
            "smoker": [1] * 30 + [0] * 70,
            "lactate": [np.nan] * 2 + list(rng.random(n - 2)),
        }
    )
    sensitive = pd.DataFrame({"sex": ["female"] * 45 + ["male"] * 55})
    y = np.array([1] * 20 + [0] * 80)
    return X, sensitive, y


def _levels(record: dict, column: str = "overall") -> dict[str, str]:
    return {level["level"]: level[column]["display"] for level in record["levels"]}


def test_header_and_numeric_summary(cohort) -> None:  # type: ignore[no-untyped-def]
    X, sensitive, y = cohort
    summary = summarise_population(X, sensitive, y)
    assert summary["n"] == 100 and summary["events"] == 20 and summary["prevalence"] == 0.2
    assert summary["groups"] == ["overall", "events", "non_events"]
    assert summary["group_sizes"] == {"overall": 100, "events": 20, "non_events": 80}
    age = summary["features"][0]
    assert age["name"] == "age" and age["kind"] == "numeric"
    q1, median, q3 = np.percentile(X["age"], [25, 50, 75])
    assert age["overall"]["median"] == pytest.approx(median)
    assert age["overall"]["q1"] == pytest.approx(q1) and age["overall"]["q3"] == pytest.approx(q3)
    assert age["overall"]["display"] == "69.5 [44.8, 94.2]"
    assert age["events"]["median"] == pytest.approx(float(np.median(X["age"][:20])))


def test_small_cells_are_suppressed_with_a_complement(cohort) -> None:  # type: ignore[no-untyped-def]
    X, sensitive, y = cohort
    ward = summarise_population(X, sensitive, y)["features"][1]
    overall = _levels(ward)
    assert overall["C"] == "<5"
    # With C alone hidden, C = 100 - A - B; so the smallest other level is hidden too.
    assert overall["B"] == "suppressed"
    assert overall["A"] == "60 (60.0%)"
    hidden = [lvl for lvl in ward["levels"] if lvl["overall"]["suppressed"]]
    assert all(lvl["overall"]["n"] is None and lvl["overall"]["percent"] is None for lvl in hidden)


def test_by_outcome_block_hides_levels_small_in_either_outcome_column() -> None:
    X = pd.DataFrame({"cpr": ["yes"] * 13 + ["no"] * 87})
    y = np.array([1] * 7 + [0] * 6 + [1] * 13 + [0] * 74)  # cpr=yes: 7 events, 6 non-events
    summary = summarise_population(X, None, y)
    cpr = summary["features"][0]
    assert _levels(cpr) == {"no": "87 (87.0%)", "yes": "13 (13.0%)"}
    X2 = pd.DataFrame({"cpr": ["yes"] * 13 + ["no"] * 87})
    y2 = np.array([1] * 3 + [0] * 10 + [1] * 17 + [0] * 70)  # only 3 events with cpr=yes
    cpr2 = summarise_population(X2, None, y2)["features"][0]
    assert _levels(cpr2) == {"no": "87 (87.0%)", "yes": "13 (13.0%)"}
    assert _levels(cpr2, "events") == {"no": "suppressed", "yes": "<5"}
    assert _levels(cpr2, "non_events") == {"no": "suppressed", "yes": "suppressed"}


def test_binary_numeric_and_missing_level(cohort) -> None:  # type: ignore[no-untyped-def]
    X, sensitive, y = cohort
    summary = summarise_population(X, sensitive, y)
    smoker = summary["features"][2]
    assert smoker["kind"] == "binary"
    assert _levels(smoker) == {"0": "70 (70.0%)", "1": "30 (30.0%)"}
    lactate = summary["features"][3]
    assert lactate["overall"]["missing"] is None and lactate["overall"]["missing_display"] == "<5"
    assert summary["sensitive_attributes"][0]["name"] == "sex"


def test_numeric_summary_of_few_values_is_suppressed() -> None:
    X = pd.DataFrame({"lab": [1.0, 2.0, 3.0] + [np.nan] * 17})
    lab = summarise_population(X, None, [0, 1] * 10)["features"][0]
    assert lab["overall"]["suppressed"] and lab["overall"]["median"] is None


def test_few_events_suppress_the_by_outcome_columns_and_the_event_count() -> None:
    X = pd.DataFrame({"age": np.arange(50.0)})
    summary = summarise_population(X, None, [1] * 3 + [0] * 47)
    assert summary["groups"] == ["overall"]
    assert summary["events"] is None and summary["prevalence"] is None
    assert "events" not in summary["features"][0]


def test_no_patient_level_values_leave_the_summary() -> None:
    rng = np.random.default_rng(1)
    ages = rng.normal(60, 10, 200).round(3) + 0.0001  # unique, recognisable values
    X = pd.DataFrame({"age": ages, "mrn": [f"MRN{i:05d}" for i in range(200)]})
    summary = summarise_population(X, None, rng.integers(0, 2, 200))
    text = json.dumps(summary)
    leaked_ids = [i for i in range(200) if f"MRN{i:05d}" in text]
    assert leaked_ids == []
    assert not any(str(a) in text for a in (ages.min(), ages.max()))
    mrn = summary["features"][1]
    assert [lvl["level"] for lvl in mrn["levels"]] == ["(other levels)"]


def test_summary_is_json_ready(cohort) -> None:  # type: ignore[no-untyped-def]
    X, sensitive, y = cohort
    json.dumps(summarise_population(X, sensitive, pd.Series(y)), allow_nan=False)


def test_length_mismatch_and_bad_min_cell(cohort) -> None:  # type: ignore[no-untyped-def]
    X, sensitive, y = cohort
    with pytest.raises(DataError, match="the outcome has 10 rows but the features have 100"):
        summarise_population(X, sensitive, y[:10])
    with pytest.raises(DataError, match="min_cell must be a positive integer"):
        summarise_population(X, sensitive, y, min_cell=0)
