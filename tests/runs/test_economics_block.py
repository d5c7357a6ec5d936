"""The ``economics`` block of metrics.json as the evaluate stage and ``clinai validate`` build it.

Synthetic predictions (not real patients); the numbers are checked against the
evaluation functions called directly, and the bad inputs give one line naming the field.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from clinai import evaluation
from clinai.config import parse_config
from clinai.exceptions import ConfigError
from clinai.runs._economics import (
    ECONOMIC_PARAMETERS,
    check_validate_economics,
    economics_block,
    run_economics,
    validate_economics,
)
from tests._helpers import ECONOMICS_SECTION

ECONOMICS: dict[str, Any] = {**ECONOMICS_SECTION, "n_draws": 400, "comparator": "NEWS2"}


def _config(**economics: Any) -> Any:
    raw = {
        "experiment": "econ",
        "pipeline": "tiny_pipeline",
        "data": {"source": {"type": "csv", "path": "a.csv"}, "patient_id": "patient"},
        "evaluation": {"thresholds": [0.1, 0.3], "decision_curve": [0.05, 0.5, 0.05]},
        "economics": {**ECONOMICS, **economics},
    }
    return parse_config(raw, source="test")


@pytest.fixture(scope="module")
def rows() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    y = rng.binomial(1, 0.15, 800)
    p = np.clip(rng.beta(1.5, 7, 800) + 0.25 * y, 0.001, 0.999)
    score = rng.integers(0, 8, 800) + 2 * y
    patients = np.repeat(np.arange(200), 4)  # four rows (prediction times) per patient
    return y, p, score, patients


def test_block_equals_the_evaluation_functions(rows: tuple[np.ndarray, ...]) -> None:
    y, p, score, patients = rows
    manifest = {"use_case": {"baseline": {"name": "NEWS2", "thresholds": [5, 7]}}}
    block = run_economics(_config(), manifest, y, p, score, patients, basis="test")
    assert block is not None
    best = block["best_threshold"]["threshold"]
    # The expected NMB is linear in independent parameters: the NMB at their means is
    # highest at the same threshold (searched on the decision-curve grid).
    distribution = evaluation.parameter_distribution
    means = evaluation.EconomicParameters(
        *(distribution(ECONOMICS[name]).expected_value for name in ECONOMIC_PARAMETERS)
    )
    grid = np.round(np.arange(0.05, 0.5 + 0.025, 0.05), 6)
    # four rows per patient: the NMB counts patients (an event once, acted on once)
    direct = evaluation.net_monetary_benefit(
        y, p, np.union1d(grid, [0.1, 0.3]), means, patient_ids=patients
    )
    assert best == pytest.approx(direct.best_model_threshold)
    reported = evaluation.net_monetary_benefit(
        y,
        p,
        sorted({0.1, 0.3, best}),
        means,
        comparators={"NEWS2": (score, [5, 7])},
        patient_ids=patients,
    )
    assert block["net_monetary_benefit"]["unit"] == "patient"
    assert block["sensitivity"]["unit"] == "patient"
    got = {row["label"]: row for row in block["net_monetary_benefit"]["strategies"]}
    assert list(got) == [s.label for s in reported.strategies]
    for strategy in reported.strategies:
        assert got[strategy.label]["nmb_per_1000"] == pytest.approx(strategy.nmb_per_1000)
    assert "NEWS2 >= 5" in got and "NEWS2 >= 7" in got
    burden = block["alert_burden"]
    assert burden["admissions"] == 200 and block["admissions_basis"] == "patients"
    assert burden["minutes_per_alert"] == 20
    assert block["sensitivity"]["n_draws"] == 400
    assert block["assumptions"]["cost_alert"]["expected_value"] == pytest.approx(320.0)
    assert block["comparator"] == {"name": "NEWS2", "thresholds": [5.0, 7.0]}


def test_no_section_no_block(rows: tuple[np.ndarray, ...]) -> None:
    y, p, score, patients = rows
    config = _config().model_copy(update={"economics": None})
    assert run_economics(config, {}, y, p, score, patients, basis="test") is None
    assert validate_economics(None, y, p, plan=config.evaluation, baseline=None, seed=0) is None


def test_comparator_must_be_the_runs_score(rows: tuple[np.ndarray, ...]) -> None:
    y, p, score, patients = rows
    manifest = {"use_case": {"baseline": {"name": "MEWS", "thresholds": [3]}}}
    with pytest.raises(ConfigError, match=r"economics.comparator is 'NEWS2'.*'MEWS'"):
        run_economics(_config(), manifest, y, p, score, patients, basis="test")
    with pytest.raises(ConfigError, match="no baseline score"):
        run_economics(_config(), manifest, y, p, None, patients, basis="test")
    with pytest.raises(ConfigError, match="--baseline COLUMN"):
        check_validate_economics(_config().economics, None)


def test_validate_block_names_the_baseline_column(rows: tuple[np.ndarray, ...]) -> None:
    y, p, score, _ = rows
    config = _config(comparator=None, comparator_thresholds=[6])
    block = validate_economics(
        config.economics, y, p, plan=config.evaluation, baseline=("ews", score), seed=1
    )
    assert block is not None and block["basis"] == "predictions"
    labels = [row["label"] for row in block["sensitivity"]["strategies"]]
    assert "ews >= 6" in labels and block["alert_burden"]["admissions"] == len(y)


def test_same_seed_same_numbers(rows: tuple[np.ndarray, ...]) -> None:
    y, p, _, _ = rows
    spec = _config(comparator=None).economics
    first, second = (
        economics_block(spec, y, p, thresholds=[0.2], search=(0.1, 0.3, 0.1), seed=5)
        for _ in range(2)
    )
    assert first == second


def test_an_economics_section_edited_after_training_is_refused() -> None:
    from clinai.runs._economics import check_economics_fixed, economics_sha256

    config = _config()
    fixed = {"criteria": [], "sha256": "x", "economics_sha256": economics_sha256(config)}
    check_economics_fixed(config, fixed)  # unchanged: no error
    check_economics_fixed(config, {"criteria": []})  # a run fixed before the key: not checked
    edited = _config(n_draws=500)
    removed = config.model_copy(update={"economics": None})
    for changed in (edited, removed):
        with pytest.raises(ConfigError, match="edited after the train stage"):
            check_economics_fixed(changed, fixed)
    added = {"criteria": [], "sha256": "x", "economics_sha256": None}
    with pytest.raises(ConfigError, match="edited after the train stage"):
        check_economics_fixed(config, added)


def test_hours_per_row_gives_the_alerts_per_ward_day(rows: tuple[np.ndarray, ...]) -> None:
    y, p, score, patients = rows
    manifest = {"use_case": {"baseline": {"name": "NEWS2", "thresholds": [5, 7]}}}
    block = run_economics(_config(hours_per_row=1), manifest, y, p, score, patients, basis="test")
    assert block is not None and block["hours_per_row"] == 1
    burden = block["alert_burden"]
    assert burden["ward_days"] == pytest.approx(len(y) / 24)  # 800 hourly rows: 33.3 ward-days
    for row in burden["thresholds"]:
        assert row["alerts_per_ward_day"] == pytest.approx(row["alerts"] / (len(y) / 24))
    plain = run_economics(_config(), manifest, y, p, score, patients, basis="test")
    assert plain is not None and plain["alert_burden"]["ward_days"] is None


@pytest.mark.parametrize("hours", [0, -1])
def test_hours_per_row_must_be_positive(hours: float) -> None:
    with pytest.raises(ConfigError, match="hours_per_row"):
        _config(hours_per_row=hours)
