"""`clinai run` on a use case whose rows are hourly prediction times (issue 13, 8a/8b/8c/15c/15e).

A synthetic CSV (not real people): each patient has several hourly rows. The card and
report must say "prediction times (hours) from N patients" with N counted by the run,
show the features under the pipeline's clinical labels (the two "hours since the last
blood pressure" columns as one variable), keep the age bands in their order and give no
direction for the unordered ward. Tracking off.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .conftest import use_case_run

# about 40 s: a whole run with its PDFs
pytestmark = [pytest.mark.integration, pytest.mark.slow]

PIPELINE = '''
"""Synthetic hourly use case (data written by the test)."""

import pandas as pd

from clinai.data import age_band, window_feature_labels

METADATA = {
    "title": "Synthetic hourly deterioration", "setting": "acute", "dataset": "synthetic CSV",
    "outcome": "synthetic event within 24 h", "prediction_time": "every hour",
    "intended_use": "testing clinai only", "population": "synthetic patients",
    "row_unit": {"en": "prediction times (hours)", "da": "forudsigelsestidspunkter (timer)"},
}
FEATURE_LABELS = {
    "age": {"en": "Age", "da": "Alder", "unit": {"en": "years", "da": "år"}},
    "ward": {"en": "Ward", "da": "Afsnit"},
    "bp_hours_since_last": {
        "en": "Time since last blood pressure measurement",
        "da": "Tid siden seneste blodtryksmåling",
        "unit": {"en": "h", "da": "t"},
    },
}
VARIABLE_GROUPS = {"bp_hours_since_last": ["sbp_hours_since_last", "dbp_hours_since_last"]}


def feature_labels(columns):
    return window_feature_labels(columns)


def exclusions(raw):
    return []


def outcome(cohort):
    return cohort["event"].astype(int)


def features(cohort):
    return cohort[["age", "ward", "heart_rate_6h_mean", "heart_rate_6h_slope",
                   "sbp_hours_since_last", "dbp_hours_since_last"]]


def sensitive_attributes(cohort):
    return pd.DataFrame(
        {"age_band": age_band(cohort["age"], cuts=(18, 40, 65))}, index=cohort.index
    )
'''

BANDS = ["<18", "18-39", "40-64", ">=65"]
CODE_NAMES = ("heart_rate_6h_slope", "heart_rate_6h_mean", "bp_hours_since_last")


def _frame(n_patients: int = 160, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for patient in range(n_patients):
        age = int(rng.integers(1, 95))
        ward = str(rng.choice(["medical", "surgical", "icu"]))
        risk = -3.0 + 0.02 * age + (0.8 if ward == "icu" else 0.0)
        for _ in range(int(rng.integers(3, 9))):
            hr = rng.normal(85, 15)
            bp_gap = rng.exponential(3.0)
            logit = risk + 0.03 * (hr - 85) + 0.15 * bp_gap
            rows.append(
                {
                    "patient": f"P{patient:04d}",
                    "age": age,
                    "ward": ward,
                    "heart_rate_6h_mean": hr,
                    "heart_rate_6h_slope": rng.normal(0, 2),
                    "sbp_hours_since_last": bp_gap,
                    "dbp_hours_since_last": bp_gap,
                    "event": int(rng.uniform() < 1 / (1 + np.exp(-logit))),
                }
            )
    return pd.DataFrame(rows)


run_dir = use_case_run(
    "hourly",
    pipeline=PIPELINE,
    frame=_frame,
    csv="hours.csv",
    test_size=0.4,
    tuning={"n_trials": 2, "cv_folds": 3},
    evaluation={
        "n_boot": 30,
        "thresholds": [0.2, 0.4],
        "sensitive_attributes": ["age_band"],
        "shap_background": 20,
        "shap_max_rows": 60,
    },
)


def _read(run_dir: Path, name: str) -> str:
    return (run_dir / name).read_text(encoding="utf-8")


def test_the_run_counts_patients_and_says_the_rows_are_prediction_times(run_dir: Path) -> None:
    split = json.loads(_read(run_dir, "data_manifest.json"))["split"]
    n, patients = split["n_test"], split["n_patients_test"]
    assert 0 < patients < n  # several hours per patient
    english = f"{n:,} prediction times (hours) from {patients:,} patients"
    danish = f"{n:,} forudsigelsestidspunkter (timer) fra {patients:,} patienter".replace(",", ".")
    for name in ("model_card.md", "model_card.html", "validation_report.html"):
        assert english in _read(run_dir, name), name
    assert danish in _read(run_dir, "model_card.da.md")
    assert f"test set of {n:,} patients" not in _read(run_dir, "model_card.md")
    report = _read(run_dir, "validation_report.html")
    assert "Explained prediction times (hours)" in report  # subgroup importance
    assert '<th scope="col">Prediction times (hours)</th>' in report  # subgroup tables
    for code in (*CODE_NAMES, "sbp_hours_since_last"):
        assert code not in report, code  # population table, importance, explanations


def test_grouped_columns_are_one_variable_and_the_ward_has_no_direction(run_dir: Path) -> None:
    importance = json.loads(_read(run_dir, "importance.json"))
    names = [v["variable"] for v in importance["variables"]]
    assert names.count("bp_hours_since_last") == 1
    assert not {"sbp_hours_since_last", "dbp_hours_since_last"} & set(names)
    ward = next(v for v in importance["variables"] if v["variable"] == "ward")
    assert ward["direction"] == "by_category"


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        (
            "model_card.md",
            (
                "Time since last blood pressure measurement (h)",
                "Heart rate, slope over the last 6 h (/min per hour)",
                "| Ward | ",
            ),
        ),
        (
            "model_card.da.md",
            (
                "Tid siden seneste blodtryksmåling (t)",
                "Puls, hældning de seneste 6 t (/min pr. time)",
                "| Afsnit | ",
            ),
        ),
    ],
)
def test_the_card_shows_clinical_labels_not_code_names(
    run_dir: Path, name: str, labels: tuple[str, ...]
) -> None:
    card = _read(run_dir, name)
    for label in labels:
        assert label in card, label
    for code in CODE_NAMES:
        assert code not in card, code
    ward = card.split(labels[2], 1)[1].split("\n", 1)[0]
    assert ward.rstrip(" |").endswith(
        "depends on the category" if name == "model_card.md" else "afhænger af kategorien"
    )


def test_age_bands_keep_their_order(run_dir: Path) -> None:
    metrics = json.loads(_read(run_dir, "metrics.json"))
    assert [row["group"] for row in metrics["subgroups"]["age_band"]] == BANDS
    card = _read(run_dir, "model_card.md")
    positions = [card.find(f"| {band} |") for band in BANDS]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
