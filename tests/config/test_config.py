from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from clinai.config import ExperimentConfig, apply_overrides, load_config, parse_config
from clinai.exceptions import ConfigError

MINIMAL = {
    "experiment": "demo",
    "pipeline": "icu_mortality",
    "data": {"source": {"type": "bundled", "name": "vcdExtra/ICU"}},
}


def _write(tmp_path: Path, payload: object) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    return path


def test_minimal_config_gets_embedded_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL))
    assert isinstance(config, ExperimentConfig)
    assert config.tracking.uri == "sqlite:///mlruns.db"
    assert config.tuning.storage == "sqlite:///optuna.db"
    assert config.evaluation.min_cell == 5


def test_every_bundled_config_is_valid() -> None:
    configs = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))
    assert len(configs) >= 6
    for path in configs:
        config = load_config(path)
        assert config.experiment == path.stem


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    payload = {**MINIMAL, "tuning": {"n_trails": 3}}
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "unknown key 'tuning.n_trails' (did you mean 'n_trials'?); "
            "remove it or fix the spelling"
        ),
    ):
        load_config(_write(tmp_path, payload))


def test_every_problem_is_reported_at_once() -> None:
    payload = {**MINIMAL, "tuning": {"n_trials": 0, "timeout_s": -1}, "seeed": 1}
    with pytest.raises(ConfigError) as info:
        parse_config(payload)
    message = str(info.value)
    assert message.startswith("config: 3 problems:")
    assert "'tuning.n_trials'" in message and "'tuning.timeout_s'" in message
    assert "(did you mean 'seed'?)" in message
    assert "\n" not in message


def test_missing_required_field_is_named() -> None:
    with pytest.raises(ConfigError, match=re.escape("'pipeline' is required; add it")):
        parse_config({k: v for k, v in MINIMAL.items() if k != "pipeline"})


def test_overrides_are_parsed_as_yaml_and_create_nested_keys() -> None:
    result = apply_overrides(MINIMAL, ["tuning.n_trials=5", "models=[logistic]", "seed=7"])
    config = parse_config(result)
    assert config.tuning.n_trials == 5
    assert config.models == ["logistic"]
    assert config.seed == 7
    assert "tuning" not in MINIMAL  # the input is not mutated


def test_malformed_override_is_refused() -> None:
    with pytest.raises(ConfigError, match="--set takes key=value"):
        apply_overrides(MINIMAL, ["tuning.n_trials"])


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found: check the path"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("experiment: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(listy)


def test_a_key_given_twice_stops_the_load(tmp_path: Path) -> None:
    """PyYAML keeps the last of two equal keys silently; a hand-typed config means one of them."""
    config = tmp_path / "twice.yaml"
    config.write_text(
        "experiment: x\npipeline: p\ndata:\n  source: {type: csv, path: a.csv}\n"
        "  patient_id: pid\n  patient_id: low\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"gives the key 'patient_id' twice \(lines 5 and 6\)"):
        load_config(config)
    flow = tmp_path / "flow.yaml"
    flow.write_text("experiment: x\nsplit: {test_size: 0.2, test_size: 0.3}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'test_size' twice"):
        load_config(flow)


def test_keys_merged_from_an_anchor_may_be_overridden() -> None:
    from clinai.config._yaml import load_unique

    text = "base: &b {n_trials: 5, cv_folds: 3}\ntuning:\n  <<: *b\n  n_trials: 20\n"
    assert load_unique(text)["tuning"] == {"n_trials": 20, "cv_folds": 3}
    assert load_unique(text) == yaml.safe_load(text)


def test_acceptance_criterion_needs_a_bound() -> None:
    payload = {**MINIMAL, "evaluation": {"acceptance": [{"name": "auc", "metric": "auroc"}]}}
    with pytest.raises(ConfigError, match="needs 'min' or 'max'"):
        parse_config(payload)


def test_thresholds_must_be_probabilities() -> None:
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        parse_config({**MINIMAL, "evaluation": {"thresholds": [0.2, 1.5]}})
