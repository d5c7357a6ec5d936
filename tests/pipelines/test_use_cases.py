"""Contract tests every bundled use case in pipelines/ must pass."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from clinai import data
from tests._helpers import ROOT, SURVIVAL_USE_CASES, TABULAR_USE_CASES

METADATA_KEYS = {
    "title",
    "setting",
    "dataset",
    "outcome",
    "prediction_time",
    "intended_use",
    "not_for",
    "limitations",
    "population",
    "citation",
    "n",
    "events",
}
# Columns that would leak the outcome (or identify the patient) if used as features.
FORBIDDEN_FEATURES = {
    "icu_mortality": {"died", "rownames", "white", "uncons"},
    "medpar_mortality": {"died", "los", "provnum", "rownames", "type1", "type2", "type3"},
    "ami_1y_mortality": {"los", "lenfol", "fstat"},
    "cabg_ptca_prolonged_los": {"los", "hospital", "rownames"},
    "postop_sore_throat": {
        "rownames",
        "intraOp_surgerySize",
        "extubation_cough",
        "pacu30min_cough",
        "pacu30min_throatPain",
        "pacu30min_swallowPain",
        "pacu90min_cough",
        "pacu90min_throatPain",
        "postOp4hour_cough",
        "postOp4hour_throatPain",
        "pod1am_cough",
        "pod1am_throatPain",
    },
    "colon_5y_mortality": {"time", "status", "id", "study", "etype", "rownames"},
}


def _load(name: str) -> ModuleType:
    module_name = f"clinai_test_pipeline_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "pipelines" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=TABULAR_USE_CASES)
def use_case(request: pytest.FixtureRequest) -> dict:
    module = _load(request.param)
    raw = data.load_dataset(module.METADATA["dataset"])
    cohort, flow = data.apply_exclusions(raw, module.exclusions(raw))
    return {
        "name": request.param,
        "module": module,
        "raw": raw,
        "cohort": cohort,
        "flow": flow,
        "y": module.outcome(cohort),
        "X": module.features(cohort),
        "sensitive": module.sensitive_attributes(cohort),
    }


def test_contract(use_case: dict) -> None:
    module = use_case["module"]
    for function in ("exclusions", "outcome", "features", "sensitive_attributes"):
        assert callable(getattr(module, function)), function
    metadata = module.METADATA
    assert set(metadata) >= METADATA_KEYS
    assert metadata["setting"] in ("acute", "surgical")
    assert metadata["dataset"] in data.get_dataset_names()
    for key in ("title", "outcome", "prediction_time", "intended_use", "population", "citation"):
        assert isinstance(metadata[key], str) and metadata[key].strip(), key
    for key in ("not_for", "limitations"):
        assert isinstance(metadata[key], list) and metadata[key], key
        assert all(isinstance(item, str) and item for item in metadata[key])


def _event(use_case: dict) -> pd.Series:
    """The 0/1 outcome of a binary use case, the event indicator of a survival one."""
    y = use_case["y"]
    return y["event"] if use_case["name"] in SURVIVAL_USE_CASES else y


def test_n_and_events_match_metadata(use_case: dict) -> None:
    metadata = use_case["module"].METADATA
    assert len(use_case["cohort"]) == metadata["n"]
    assert int(_event(use_case).sum()) == metadata["events"]
    assert use_case["flow"][-1]["remaining"] == metadata["n"]
    source = {"step": "source", "excluded": 0, "remaining": len(use_case["raw"])}
    assert use_case["flow"][0] == source


def test_outcome_is_binary_and_aligned(use_case: dict) -> None:
    if use_case["name"] in SURVIVAL_USE_CASES:
        pytest.skip("a survival outcome: tests/pipelines/test_survival_use_cases.py")
    y = use_case["y"]
    assert isinstance(y, pd.Series)
    assert y.index.equals(use_case["cohort"].index)
    assert set(y.unique()) == {0, 1}
    assert pd.api.types.is_integer_dtype(y.dtype)
    data.check_binary_outcome(y, column=str(y.name))


def test_features_pass_the_data_checks_and_do_not_leak(use_case: dict) -> None:
    X = use_case["X"]
    assert X.index.equals(use_case["cohort"].index)
    leaked = set(X.columns) & FORBIDDEN_FEATURES[use_case["name"]]
    assert not leaked, f"leakage or identifier columns among the features: {leaked}"
    y = use_case["y"]
    assert not set(y.columns if isinstance(y, pd.DataFrame) else [y.name]) & set(X.columns)
    data.check_all_missing(X)
    data.check_finite_features(X)
    numeric, categorical = data.infer_feature_types(X)
    assert len(numeric) + len(categorical) == X.shape[1] >= 4


def test_features_do_not_modify_the_cohort(use_case: dict) -> None:
    before = use_case["cohort"].copy()
    module = use_case["module"]
    module.features(use_case["cohort"])
    module.sensitive_attributes(use_case["cohort"])
    module.outcome(use_case["cohort"])
    pd.testing.assert_frame_equal(use_case["cohort"], before)


def test_sensitive_attributes_are_strings_aligned_with_the_cohort(use_case: dict) -> None:
    sensitive = use_case["sensitive"]
    assert isinstance(sensitive, pd.DataFrame) and sensitive.shape[1] >= 2
    assert sensitive.index.equals(use_case["cohort"].index)
    assert "age_band" in sensitive.columns
    for column in sensitive.columns:
        values = sensitive[column]
        assert values.notna().all(), column
        assert all(isinstance(v, str) for v in values), column
        assert 2 <= values.nunique() <= 10, column


def test_population_summary_and_split_work(use_case: dict) -> None:
    event = _event(use_case)
    summary = data.summarise_population(use_case["X"], use_case["sensitive"], event)
    assert summary["n"] == use_case["module"].METADATA["n"]
    train, test = data.split_train_test(event, random_state=0)
    y = event.to_numpy()
    assert abs(y[test].mean() - y.mean()) < 0.02
    assert len(np.intersect1d(train, test)) == 0


def test_icu_restores_the_coma_level() -> None:
    module = _load("icu_mortality")
    raw = data.load_dataset("vcdExtra/ICU")
    coma = module.features(raw)["coma"]
    assert coma.value_counts().to_dict() == {"None": 185, "Coma": 10, "Stupor": 5}


def test_medpar_admission_type_is_categorical_words() -> None:
    module = _load("medpar_mortality")
    X = module.features(data.load_dataset("COUNT/medpar"))
    assert X["type"].value_counts().to_dict() == {"elective": 1134, "urgent": 265, "emergency": 96}


def test_colon_keeps_one_death_record_per_patient() -> None:
    module = _load("colon_5y_mortality")
    raw = data.load_dataset("survival/colon")
    cohort, flow = data.apply_exclusions(raw, module.exclusions(raw))
    assert cohort["id"].is_unique and (cohort["etype"] == 2).all()
    # the recurrence records only: nobody is dropped for early censoring (a survival outcome)
    assert [step["excluded"] for step in flow] == [0, 929]


def test_sore_throat_excludes_the_two_missing_outcomes() -> None:
    module = _load("postop_sore_throat")
    raw = data.load_dataset("medicaldata/licorice_gargle")
    _, flow = data.apply_exclusions(raw, module.exclusions(raw))
    assert flow[1]["excluded"] == 2
