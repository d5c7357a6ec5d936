"""Pipelines name their features for clinicians (issue 13, item 8b).

Every bundled pipeline labels every feature in English and Danish; features that
carry the same information form one clinical variable; a malformed label or group
stops with one line naming the pipeline and the entry.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clinai.exceptions import PipelineError
from clinai.runs import load_pipeline
from clinai.runs._plugins import pipeline_feature_labels, pipeline_variable_groups
from tests._helpers import ROOT, TABULAR_USE_CASES

PIPELINE = """
METADATA = {"title": "t", "setting": "acute", "dataset": "d", "outcome": "o",
            "prediction_time": "p", "intended_use": "u"}
FEATURE_LABELS = {
    "age": {"en": "Age", "da": "Alder", "unit": {"en": "years", "da": "år"}},
    "sbp_last": {"en": "Systolic pressure, own label", "da": "Systolisk, eget navn"},
    "bp_hours_since_last": {"en": "Time since last blood pressure", "da": "Tid siden blodtryk",
                            "unit": "h"},
}
VARIABLE_GROUPS = {"bp_hours_since_last": ["sbp_hours_since_last", "dbp_hours_since_last"]}

def feature_labels(columns):
    from clinai.data import window_feature_labels
    return window_feature_labels(columns)

def exclusions(raw): return []
def outcome(cohort): return cohort["y"]
def features(cohort): return cohort
def sensitive_attributes(cohort): return cohort[[]]
"""


def _write(tmp_path: Path, text: str, name: str = "labelled.py") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_labels_come_from_the_pipeline_fixed_ones_first(tmp_path: Path) -> None:
    module = load_pipeline(str(_write(tmp_path, PIPELINE)))
    columns = ["age", "sbp_last", "heart_rate_6h_slope", "sbp_hours_since_last", "ward"]
    labels = pipeline_feature_labels(module, columns)
    assert labels["age"] == {"en": "Age", "da": "Alder", "unit": {"en": "years", "da": "år"}}
    assert labels["sbp_last"]["en"] == "Systolic pressure, own label"  # FEATURE_LABELS wins
    assert labels["heart_rate_6h_slope"]["da"] == "Puls, hældning de seneste 6 t"
    assert labels["bp_hours_since_last"]["unit"] == {"en": "h", "da": "h"}  # the group's label
    assert "ward" not in labels  # unlabelled: the documents keep its name


def test_variable_groups_map_only_the_columns_the_model_uses(tmp_path: Path) -> None:
    module = load_pipeline(str(_write(tmp_path, PIPELINE)))
    groups = pipeline_variable_groups(module, ["age", "sbp_hours_since_last"])
    assert groups == {"sbp_hours_since_last": "bp_hours_since_last"}


def test_a_pipeline_without_labels_or_groups_keeps_working(tmp_path: Path) -> None:
    text = (
        PIPELINE.split("FEATURE_LABELS")[0]
        + PIPELINE.split("return window_feature_labels(columns)\n")[1]
    )
    module = load_pipeline(str(_write(tmp_path, text, "plain.py")))
    assert pipeline_feature_labels(module, ["age"]) == {}
    assert pipeline_variable_groups(module, ["age"]) == {}


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (
            ('"da": "Alder", "unit"', '"da": 3, "unit"'),
            None,  # a non-text Danish label is dropped; English stays
        ),
        (
            ('"age": {"en": "Age",', '"age": {"english": "Age",'),
            "pipeline 'bad': the label of 'age' must be a mapping with an 'en' text",
        ),
        (
            (
                '["sbp_hours_since_last", "dbp_hours_since_last"]}',
                '["sbp_hours_since_last"], "bp2": ["sbp_hours_since_last"]}',
            ),
            "pipeline 'bad': VARIABLE_GROUPS must map a variable name to a list of feature "
            "columns, each column in one group only; problem with 'bp2': "
            "'sbp_hours_since_last' is in two",
        ),
        (
            ('["sbp_hours_since_last", "dbp_hours_since_last"]}', '"sbp_hours_since_last"}'),
            "problem with 'bp_hours_since_last': not a list of columns",
        ),
    ],
)
def test_malformed_labels_and_groups_stop_with_one_line(
    tmp_path: Path, replace: tuple[str, str], message: str | None
) -> None:
    module = load_pipeline(str(_write(tmp_path, PIPELINE.replace(*replace), "bad.py")))
    columns = ["age", "sbp_hours_since_last", "dbp_hours_since_last"]
    if message is None:
        assert pipeline_feature_labels(module, columns)["age"]["en"] == "Age"
        return
    with pytest.raises(PipelineError, match=re.escape(message)):
        pipeline_feature_labels(module, columns)
        pipeline_variable_groups(module, columns)


def test_a_group_named_like_another_feature_is_refused(tmp_path: Path) -> None:
    module = load_pipeline(str(_write(tmp_path, PIPELINE, "clash.py")))
    with pytest.raises(PipelineError, match="named like a feature"):
        pipeline_variable_groups(module, ["bp_hours_since_last", "sbp_hours_since_last"])


@pytest.mark.parametrize("name", TABULAR_USE_CASES)
def test_bundled_pipelines_label_every_feature_in_english_and_danish(name: str) -> None:
    module = load_pipeline(name, base_dir=ROOT)
    labels = pipeline_feature_labels(module, module.FEATURES)
    assert set(labels) == set(module.FEATURES)
    for label in labels.values():
        assert label["en"] and label["da"]


def test_acute_deterioration_labels_its_window_features_and_groups_blood_pressure() -> None:
    module = load_pipeline("acute_deterioration", base_dir=ROOT)
    from clinai.data import window_feature_names

    columns = ["age", "ward", *window_feature_names(module.PARAMETERS, module.WINDOWS)]
    labels = pipeline_feature_labels(module, columns)
    assert set(columns) <= set(labels)
    assert all(labels[c]["da"] for c in columns)
    groups = pipeline_variable_groups(module, columns)
    assert groups["sbp_hours_since_last"] == groups["dbp_hours_since_last"] == "bp_hours_since_last"
    assert labels["bp_hours_since_last"]["en"] == "Time since last blood pressure measurement"
    assert module.METADATA["row_unit"]["en"] == "prediction times (hours)"
