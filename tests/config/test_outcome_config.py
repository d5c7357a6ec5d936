"""The ``outcome:`` block: binary by default (and unchanged), survival validated up front."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clinai.config import load_config, parse_config
from clinai.exceptions import ConfigError
from tests._helpers import SURVIVAL_USE_CASES

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = {
    "experiment": "demo",
    "pipeline": "ami_1y_mortality",
    "data": {"source": {"type": "bundled", "name": "sksurv/whas500"}},
}


def test_binary_config_has_no_outcome_block_in_its_resolved_form() -> None:
    # The resolved config (and so every hash of a binary run) is as before the block existed.
    config = parse_config(MINIMAL)
    assert config.outcome is None and not config.is_survival
    assert "outcome" not in config.model_dump()


def test_survival_outcome_is_kept_in_the_resolved_config() -> None:
    config = parse_config({**MINIMAL, "outcome": {"type": "survival", "horizons": [365]}})
    assert config.is_survival and config.outcome is not None
    assert config.outcome.horizons == [365.0]
    assert config.outcome.codes.event == 1 and config.outcome.codes.censored == 0
    assert config.model_dump()["outcome"]["type"] == "survival"


@pytest.mark.parametrize(
    ("outcome", "needle"),
    [
        ({"type": "survival"}, "outcome.horizons must list at least one positive time"),
        ({"type": "survival", "horizons": []}, "outcome.horizons must list at least one"),
        ({"type": "survival", "horizons": [365, -1]}, "outcome.horizons must be positive"),
        ({"type": "survival", "horizons": [0]}, "outcome.horizons must be positive"),
        ({"type": "survival", "horizons": [True]}, "must be times (numbers), not true/false"),
        ({"type": "survival", "horizons": True}, "must be times (numbers), not true/false"),
        ({"type": "survival", "horizons": "1 year"}, "'outcome.horizons.0'"),
        ({"type": "time_to_event", "horizons": [365]}, "'outcome.type'"),
        ({"horizons": [365]}, "outcome.horizons is only read for type: survival"),
        (
            {"type": "survival", "horizons": [1], "event_codes": {"censored": 1, "event": 1}},
            "censored and event must be different codes",
        ),
    ],
)
def test_bad_outcome_is_one_config_error(outcome: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({**MINIMAL, "outcome": outcome})
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("horizons", [365, 365.0, "365", [365]])
def test_one_horizon_may_be_written_without_a_list(horizons: object) -> None:
    config = parse_config({**MINIMAL, "outcome": {"type": "survival", "horizons": horizons}})
    assert config.outcome is not None and config.outcome.horizons == [365.0]


def test_bundled_survival_configs_are_valid() -> None:
    horizons = {"ami_1y_mortality": [365.0], "colon_5y_mortality": [1826.0]}
    for name, expected in horizons.items():
        config = load_config(ROOT / "configs" / f"{name}.yaml")
        assert config.is_survival and config.outcome is not None
        assert config.outcome.horizons == expected


def test_demo_configs_are_binary_but_the_survival_use_cases() -> None:
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        survival = path.stem in SURVIVAL_USE_CASES
        assert load_config(path).is_survival == survival, path.name
        assert ("outcome" in yaml.safe_load(path.read_text(encoding="utf-8"))) == survival
